package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/testkit"
)

// tenantEvents records audit events and checks each is written on the
// tenant's own chain.
type tenantEvents struct {
	mu  sync.Mutex
	evs []identity.Event
}

func (e *tenantEvents) Record(_ context.Context, tx *store.Tx, ev identity.Event) error {
	if tx.TenantID() == "" || tx.TenantID() == "platform" {
		return errors.New("user event outside a tenant chain")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
	return nil
}

// count returns how many events match action, outcome and, when not
// empty, the detail "reason".
func (e *tenantEvents) count(action, outcome, reason string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.evs {
		if ev.Action == action && ev.Outcome == outcome && (reason == "" || ev.Details["reason"] == reason) {
			n++
		}
	}
	return n
}

// notices captures what would be e-mailed.
type notices struct {
	mu sync.Mutex
	ns []identity.Notice
}

func (n *notices) Notify(_ context.Context, x identity.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ns = append(n.ns, x)
	return nil
}

func (n *notices) of(kind identity.NoticeKind) []identity.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []identity.Notice
	for _, x := range n.ns {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

type names struct{}

func (names) Names(_ context.Context, tenantID string) (string, string, error) {
	return "Lakeside Gardens " + tenantID[:4], "lakeside-" + tenantID[:4], nil
}

// countingHasher counts password verifications against real hashes.
type userFixture struct {
	db      *store.DB
	keys    *testKeys
	rec     *tenantEvents
	mail    *notices
	clk     *clock
	users   *identity.Users
	tenantA string
	tenantB string
}

func newUserFixture(t *testing.T, db *store.DB) *userFixture {
	t.Helper()
	f := &userFixture{db: db, keys: newTestKeys(t), rec: &tenantEvents{}, mail: &notices{},
		clk: &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}}
	f.users = identity.NewUsers(db, f.keys, f.rec, identity.NewDBLimiter(db, f.clk.now), f.mail, names{},
		identity.UserOptions{Now: f.clk.now, Hasher: identity.NewPasswordHasher(fastParams)})
	f.tenantA = f.tenant(t, "a")
	f.tenantB = f.tenant(t, "b")
	return f
}

func (f *userFixture) tenant(t testing.TB, slug string) string {
	t.Helper()
	now := f.clk.now()
	tn := &tenancy.Tenant{ID: fmt.Sprintf("%s0000000-0000-7000-8000-000000000000", map[string]string{"a": "a", "b": "b"}[slug]), Slug: "t-" + slug, Name: "Tenant " + slug,
		Status: tenancy.Active, CreatedAt: now, UpdatedAt: now}
	err := f.db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(tn).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

const memberPW = "purple elephants dance at dawn"

// active invites email into tenant and sets its password through the link.
func (f *userFixture) active(t *testing.T, tenant, email string) *identity.User {
	t.Helper()
	ctx := context.Background()
	_, tok, err := f.users.Invite(ctx, tenant, "user:admin", email, "Ada Member", identity.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.users.SetPasswordWithLink(ctx, tenant, tok, memberPW, false, identity.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestInvitationLifecycle(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		u, tok, err := f.users.Invite(ctx, f.tenantA, "user:admin", "Ada@Example.org", "Ada Lovelace", identity.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada@example.org" || u.Status != identity.Invited {
			t.Fatalf("invited user = %+v", u)
		}
		inv := f.mail.of(identity.NoticeInvitation)
		if len(inv) != 1 || inv[0].Token != tok || inv[0].Email != "ada@example.org" {
			t.Fatalf("invitation notice = %+v", inv)
		}
		// A weak password is refused and leaves the link usable.
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok, "password1234", false, identity.RequestMeta{}); err == nil {
			t.Fatal("weak password accepted")
		}
		// The link of tenant A means nothing in tenant B.
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantB, tok, memberPW, false, identity.RequestMeta{}); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("cross-tenant link: %v", err)
		}
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok, memberPW, false, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		// Single use.
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok, memberPW+"x", false, identity.RequestMeta{}); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("reused link: %v", err)
		}
		// Re-inviting an active account is refused.
		if _, _, err := f.users.Invite(ctx, f.tenantA, "user:admin", "ada@example.org", "", identity.RequestMeta{}); !errors.Is(err, identity.ErrExists) {
			t.Fatalf("re-invite active: %v", err)
		}
		// The same address in tenant B is another account.
		if _, _, err := f.users.Invite(ctx, f.tenantB, "user:admin", "ada@example.org", "", identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		got, err := f.users.Authenticate(ctx, f.tenantA, "ada@example.org", memberPW, identity.RequestMeta{IP: "192.0.2.1"})
		if err != nil || got.ID != u.ID {
			t.Fatalf("authenticate: %v %+v", err, got)
		}
		if _, err := f.users.Authenticate(ctx, f.tenantB, "ada@example.org", memberPW, identity.RequestMeta{IP: "192.0.2.1"}); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("tenant B accepted tenant A's password: %v", err)
		}
		if _, err := f.users.Get(ctx, f.tenantB, u.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("tenant B sees tenant A's user: %v", err)
		}
	})
}

func TestInvitationExpires(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		_, tok, err := f.users.Invite(ctx, f.tenantA, "user:admin", "late@example.org", "", identity.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.add(72*time.Hour + time.Second)
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok, memberPW, false, identity.RequestMeta{}); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("expired link: %v", err)
		}
		// A new invitation ends the old link and works.
		_, tok2, err := f.users.Invite(ctx, f.tenantA, "user:admin", "late@example.org", "", identity.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok2, memberPW, false, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLockoutConcurrent fires many wrong passwords at once: no more than
// the threshold may be checked, the account must end up locked, and the
// right password must then be refused until the lock ends.
func TestLockoutConcurrent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		f.active(t, f.tenantA, "target@example.org")
		settings := identity.DefaultSettings()
		settings.Lockout.DelayAfter = settings.Lockout.AccountThreshold // no delays: this test is about counting
		if err := f.users.SaveSettings(ctx, f.tenantA, "user:admin", settings, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		const attempts = 40
		var wg sync.WaitGroup
		var refused atomic.Int32
		for i := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.users.Authenticate(ctx, f.tenantA, "target@example.org", fmt.Sprintf("wrong password number %d", i),
					identity.RequestMeta{IP: fmt.Sprintf("198.51.100.%d", i)})
				if errors.Is(err, identity.ErrInvalidCredentials) {
					refused.Add(1)
				} else {
					t.Errorf("attempt %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if refused.Load() != attempts {
			t.Fatalf("%d of %d refused", refused.Load(), attempts)
		}
		checked := f.rec.count("user.signin", "failure", "wrong_password")
		if checked != settings.Lockout.AccountThreshold {
			t.Fatalf("%d passwords checked, threshold %d", checked, settings.Lockout.AccountThreshold)
		}
		if f.rec.count("user.lockout", "success", "") != 1 {
			t.Fatalf("lockout events: %d", f.rec.count("user.lockout", "success", ""))
		}
		if len(f.mail.of(identity.NoticeLockout)) != 1 {
			t.Fatal("owner not told of the lockout")
		}
		locks, err := f.users.Locks(ctx, f.tenantA)
		if err != nil || len(locks) != 1 {
			t.Fatalf("locks = %v, %v", locks, err)
		}
		if _, err := f.users.Authenticate(ctx, f.tenantA, "target@example.org", memberPW, identity.RequestMeta{IP: "203.0.113.9"}); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("right password during lockout: %v", err)
		}
		f.clk.add(5*time.Minute + time.Second)
		if _, err := f.users.Authenticate(ctx, f.tenantA, "target@example.org", memberPW, identity.RequestMeta{IP: "203.0.113.9"}); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
	})
}

// TestNoEnumeration: unknown addresses are counted and locked like known
// ones, and every refusal is the same error.
func TestNoEnumeration(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		s := identity.DefaultSettings()
		s.Lockout.DelayAfter = s.Lockout.AccountThreshold
		if err := f.users.SaveSettings(ctx, f.tenantA, "user:admin", s, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		for i := range s.Lockout.AccountThreshold + 2 {
			_, err := f.users.Authenticate(ctx, f.tenantA, "nobody@example.org", "whatever it is "+fmt.Sprint(i), identity.RequestMeta{IP: "192.0.2.7"})
			if !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if f.rec.count("user.signin", "failure", "account_locked") != 2 {
			t.Fatal("unknown address was not locked like a known one")
		}
		if err := f.users.RequestReset(ctx, f.tenantA, "nobody@example.org", identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		if len(f.mail.of(identity.NoticePasswordReset)) != 0 {
			t.Fatal("reset mail for an unknown address")
		}
	})
}

func TestSessions(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		u := f.active(t, f.tenantA, "s@example.org")
		meta := identity.RequestMeta{IP: "192.0.2.3", UserAgent: "TestBrowser/1"}
		tok, sess, err := f.users.StartSession(ctx, u, identity.StageMFA, "password", meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.users.Session(ctx, f.tenantB, tok); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("session valid in another tenant: %v", err)
		}
		tok2, full, err := f.users.Renew(ctx, f.tenantA, tok, identity.StageFull, "password+totp", true, true, meta)
		if err != nil {
			t.Fatal(err)
		}
		if full.ID == sess.ID || full.CSRFToken == sess.CSRFToken || full.MFAAt == nil {
			t.Fatal("renewal kept the old id or token")
		}
		if _, err := f.users.Session(ctx, f.tenantA, tok); !errors.Is(err, identity.ErrNoSession) {
			t.Fatal("old token still valid after renewal")
		}
		// A second session, then revoke-all on password change keeps only the current one.
		tok3, _, err := f.users.StartSession(ctx, u, identity.StageFull, "password", identity.RequestMeta{UserAgent: "Other/2"})
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.users.Sessions(ctx, f.tenantA, u.ID)
		if err != nil || len(list) != 2 || list[0].UserAgent == "" {
			t.Fatalf("sessions = %+v, %v", list, err)
		}
		if counts, err := f.users.SessionCounts(ctx, f.tenantA); err != nil || counts[u.ID] != 2 {
			t.Fatalf("session counts = %v, %v", counts, err)
		}
		if counts, err := f.users.SessionCounts(ctx, f.tenantB); err != nil || len(counts) != 0 {
			t.Fatalf("tenant B sees sessions: %v, %v", counts, err)
		}
		if len(f.mail.of(identity.NoticeNewDevice)) != 1 {
			t.Fatal("no notice of the new device")
		}
		if err := f.users.ChangePassword(ctx, f.tenantA, u.ID, full.ID, memberPW, "another quite long passphrase here", false, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.users.Session(ctx, f.tenantA, tok3); !errors.Is(err, identity.ErrNoSession) {
			t.Fatal("other session survived the password change")
		}
		if _, err := f.users.Session(ctx, f.tenantA, tok2); err != nil {
			t.Fatalf("current session ended by the password change: %v", err)
		}
		// Idle timeout.
		f.clk.add(31 * time.Minute)
		if _, err := f.users.Session(ctx, f.tenantA, tok2); !errors.Is(err, identity.ErrNoSession) {
			t.Fatal("idle session still valid")
		}
	})
}

func TestSettingsBounds(t *testing.T) {
	ok := identity.DefaultSettings()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*identity.Settings){
		"short passwords":   func(s *identity.Settings) { s.MinPasswordLength = 8 },
		"no lockout":        func(s *identity.Settings) { s.Lockout.AccountThreshold = 1000 },
		"tiny lock":         func(s *identity.Settings) { s.Lockout.LockFor = identity.Duration(time.Second) },
		"unknown mfa":       func(s *identity.Settings) { s.MFA = "sometimes" },
		"endless sessions":  func(s *identity.Settings) { s.AbsoluteTimeout = identity.Duration(30 * 24 * time.Hour) },
		"long invitations":  func(s *identity.Settings) { s.InvitationTTL = identity.Duration(60 * 24 * time.Hour) },
		"max below first":   func(s *identity.Settings) { s.Lockout.MaxLockFor = identity.Duration(time.Minute) },
		"delay after never": func(s *identity.Settings) { s.Lockout.DelayAfter = 0 },
	} {
		s := identity.DefaultSettings()
		mut(&s)
		if err := s.Validate(); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestGuardFactorConcurrent: parallel wrong second-factor codes are
// checked no more often than the threshold, then the step is locked.
func TestGuardFactorConcurrent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		u := f.active(t, f.tenantA, "mfa@example.org")
		threshold := identity.DefaultSettings().Lockout.AccountThreshold
		var checked atomic.Int32
		wrong := errors.New("wrong code")
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := f.users.GuardFactor(ctx, f.tenantA, u.ID, identity.RequestMeta{}, func() error { checked.Add(1); return wrong })
				if !errors.Is(err, wrong) && !errors.Is(err, identity.ErrLocked) {
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if int(checked.Load()) != threshold {
			t.Fatalf("%d codes checked, threshold %d", checked.Load(), threshold)
		}
		err := f.users.GuardFactor(ctx, f.tenantA, u.ID, identity.RequestMeta{}, func() error { return nil })
		if !errors.Is(err, identity.ErrLocked) {
			t.Fatalf("right code while locked: %v", err)
		}
		if len(f.mail.of(identity.NoticeLockout)) != 1 {
			t.Fatal("no lockout notice")
		}
		f.clk.add(6 * time.Minute)
		if err := f.users.GuardFactor(ctx, f.tenantA, u.ID, identity.RequestMeta{}, func() error { return nil }); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	})
}

// TestChangePasswordLimited: a session cannot be used to guess the
// current password: wrong guesses count against the account's limit.
func TestChangePasswordLimited(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		s := identity.DefaultSettings()
		s.Lockout.DelayAfter = s.Lockout.AccountThreshold
		if err := f.users.SaveSettings(ctx, f.tenantA, "user:admin", s, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		u := f.active(t, f.tenantA, "guess@example.org")
		for i := range s.Lockout.AccountThreshold {
			err := f.users.ChangePassword(ctx, f.tenantA, u.ID, "", fmt.Sprintf("guess number %d here", i), "another quite long passphrase", false, identity.RequestMeta{})
			if !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		err := f.users.ChangePassword(ctx, f.tenantA, u.ID, "", memberPW, "another quite long passphrase", false, identity.RequestMeta{})
		if !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("right password after the guesses: %v", err)
		}
	})
}

// TestResetRequestsLimited: reset links to one address stop after five
// in a quarter of an hour, and resume later.
func TestResetRequestsLimited(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newUserFixture(t, db)
		ctx := context.Background()
		f.active(t, f.tenantA, "flood@example.org")
		for range 8 {
			if err := f.users.RequestReset(ctx, f.tenantA, "flood@example.org", identity.RequestMeta{}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(f.mail.of(identity.NoticePasswordReset)); n != 5 {
			t.Fatalf("%d reset mails, want 5", n)
		}
		f.clk.add(31 * time.Minute)
		if err := f.users.RequestReset(ctx, f.tenantA, "flood@example.org", identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		if n := len(f.mail.of(identity.NoticePasswordReset)); n != 6 {
			t.Fatalf("%d reset mails after the pause, want 6", n)
		}
	})
}
