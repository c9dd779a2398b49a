package identity_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

// testKeys is a small stand-in for core/crypto's Keyring: AES-256-GCM with
// the scope bound into the associated data, and HMAC-SHA256 blind indexes.
type testKeys struct {
	aead cipher.AEAD
	mac  []byte
}

func newTestKeys(t testing.TB) *testKeys {
	t.Helper()
	k := make([]byte, 64)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(k[:32])
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &testKeys{aead: aead, mac: k[32:]}
}

func scopedAD(scope string, ad []byte) []byte { return append([]byte(scope+"\x00"), ad...) }

func (k *testKeys) Seal(_ context.Context, scope string, pt, ad []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, pt, scopedAD(scope, ad)), nil
}

func (k *testKeys) Open(_ context.Context, scope string, ct, ad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(ct) < n {
		return nil, errors.New("ciphertext too short")
	}
	return k.aead.Open(nil, ct[:n], ct[n:], scopedAD(scope, ad))
}

func (k *testKeys) BlindIndex(_ context.Context, scope, domain string, v []byte) ([]byte, error) {
	m := hmac.New(sha256.New, k.mac)
	fmt.Fprintf(m, "%s\x00%s\x00", scope, domain)
	m.Write(v)
	return m.Sum(nil), nil
}

// events records audit events, checking each is written on the platform chain.
type events struct {
	mu  sync.Mutex
	evs []identity.Event
}

func (e *events) Record(_ context.Context, tx *store.Tx, ev identity.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if tx.TenantID() != "platform" {
		return errors.New("operator event outside the platform chain")
	}
	e.evs = append(e.evs, ev)
	return nil
}

func (e *events) all() []identity.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]identity.Event(nil), e.evs...)
}

// last returns the most recent event, failing t when there is none.
func (e *events) last(t *testing.T) identity.Event {
	t.Helper()
	evs := e.all()
	if len(evs) == 0 {
		t.Fatal("no audit event")
	}
	return evs[len(evs)-1]
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const pw = "a long enough operator password"

var fastParams = identity.ArgonParams{Memory: 64, Time: 1, Threads: 1}

type fixture struct {
	db   *store.DB
	keys *testKeys
	rec  *events
	clk  *clock
	ops  *identity.Operators
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	f := &fixture{db: db, keys: newTestKeys(t), rec: &events{}, clk: &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}}
	f.ops = f.operators(fastParams)
	return f
}

// operators returns a service over the fixture's database, keys, audit and
// clock that hashes new passwords with p.
func (f *fixture) operators(p identity.ArgonParams) *identity.Operators {
	return identity.NewOperators(f.db, f.keys, f.rec, identity.OperatorOptions{
		Now: f.clk.now, Hasher: identity.NewPasswordHasher(p),
	})
}

func (f *fixture) create(t *testing.T, email string) *identity.Operator {
	t.Helper()
	op, err := f.ops.Create(context.Background(), email, pw, "system")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return op
}

// exec runs a raw statement as the platform, as an operator console or a
// test would to change what the API does not yet offer.
func (f *fixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	err := f.db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) queryRow(t *testing.T, query string, args []any, dest ...any) {
	t.Helper()
	err := f.db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// noPersonalData fails t when an audit event carries an e-mail address.
func noPersonalData(t *testing.T, evs []identity.Event, addrs ...string) {
	t.Helper()
	for _, ev := range evs {
		s := strings.ToLower(fmt.Sprintf("%s %s %s %v", ev.Actor, ev.Target, ev.Outcome, ev.Details))
		for _, a := range append(addrs, "@") {
			if strings.Contains(s, strings.ToLower(a)) {
				t.Errorf("audit event %s holds personal data: %+v", ev.Action, ev)
			}
		}
	}
}

func TestOperatorCreate(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if n, err := f.ops.Count(ctx); err != nil || n != 0 {
			t.Fatalf("Count on an empty database = %d, %v", n, err)
		}
		op := f.create(t, "  Ops@Example.org ")
		if op.Email != "ops@example.org" || op.ID == "" || op.CreatedAt.IsZero() || op.LastSignInAt != nil || op.Disabled {
			t.Fatalf("created %+v", op)
		}
		ev := f.rec.last(t)
		if ev.Action != "operator.create" || ev.Actor != "system" || ev.Target != "operator:"+op.ID || ev.Outcome != "success" {
			t.Fatalf("create event %+v", ev)
		}

		for _, c := range []struct {
			name, email, pw string
			want            error
		}{
			{"same address, other case", "OPS@example.org", pw, identity.ErrExists},
			{"not an address", "not an address", pw, identity.ErrInvalid},
			{"display name", "Name <x@example.org>", pw, identity.ErrInvalid},
			{"empty address", "  ", pw, identity.ErrInvalid},
			{"14 characters", "x@example.org", strings.Repeat("p", 14), identity.ErrWeakPassword},
			{"129 characters", "x@example.org", strings.Repeat("p", 129), identity.ErrWeakPassword},
			{"invalid UTF-8", "x@example.org", "\xff" + strings.Repeat("p", 20), identity.ErrWeakPassword},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.ops.Create(ctx, c.email, c.pw, "system")
				if !errors.Is(err, c.want) {
					t.Fatalf("Create = %v, want %v", err, c.want)
				}
				if a := strings.TrimSpace(c.email); a != "" && strings.Contains(err.Error(), a) {
					t.Errorf("error %q repeats the address", err)
				}
			})
		}
		if n, _ := f.ops.Count(ctx); n != 1 {
			t.Fatalf("Count = %d, want 1", n)
		}
		// Any Unicode password of 15 or more characters is accepted.
		f.create(t, "zweite@example.org")
		if _, err := f.ops.Create(ctx, "dritte@example.org", "Grüße aus Zürich ✓", ""); err != nil {
			t.Fatalf("Unicode password: %v", err)
		}
		if n, _ := f.ops.Count(ctx); n != 3 {
			t.Fatalf("Count = %d, want 3", n)
		}

		// The row holds no clear address, and the sealed one is bound to its row.
		var email, index []byte
		var hash string
		f.queryRow(t, "SELECT email, email_index, password_hash FROM operators WHERE id = ?", []any{op.ID}, &email, &index, &hash)
		for _, col := range [][]byte{email, index, []byte(hash)} {
			if bytes.Contains(bytes.ToLower(col), []byte("ops@")) || bytes.Contains(bytes.ToLower(col), []byte("example.org")) {
				t.Error("e-mail address stored in clear")
			}
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("password hash %q", hash)
		}
		if pt, err := f.keys.Open(ctx, "platform", email, []byte("operators.email:"+op.ID)); err != nil || string(pt) != "ops@example.org" {
			t.Errorf("sealed e-mail opens to %q, %v", pt, err)
		}
		if _, err := f.keys.Open(ctx, "platform", email, []byte("operators.email:someone-else")); err == nil {
			t.Error("sealed e-mail opens for another row")
		}
		noPersonalData(t, f.rec.all(), "ops@example.org", "zweite", "dritte")
	})
}

func TestOperatorSignIn(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		op := f.create(t, "ops@example.org")
		off := f.create(t, "off@example.org")
		f.exec(t, "UPDATE operators SET disabled = ? WHERE id = ?", true, off.ID)
		meta := identity.RequestMeta{IP: "192.0.2.1", UserAgent: "test-agent/1.0", RequestID: "req-1"}

		for _, c := range []struct {
			name, email, pw string
			target          string // of the audit event
		}{
			{"wrong password", "ops@example.org", "wrong password entirely", "operator:" + op.ID},
			{"empty password", "ops@example.org", "", "operator:" + op.ID},
			{"password one character short", "ops@example.org", pw[:len(pw)-1], "operator:" + op.ID},
			{"unknown address", "nobody@example.org", pw, "operator:unknown"},
			{"malformed address", "nobody", pw, "operator:unknown"},
			{"empty", "", "", "operator:unknown"},
			{"huge password", "ops@example.org", strings.Repeat("x", 10_000), "operator:unknown"},
			{"disabled account, right password", "off@example.org", pw, "operator:" + off.ID},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := len(f.rec.all())
				tok, s, err := f.ops.SignIn(ctx, c.email, c.pw, meta)
				if !errors.Is(err, identity.ErrInvalidCredentials) || tok != "" || s != nil {
					t.Fatalf("SignIn = %q, %v, %v; want ErrInvalidCredentials", tok, s, err)
				}
				evs := f.rec.all()
				if len(evs) != before+1 {
					t.Fatalf("%d audit events, want 1", len(evs)-before)
				}
				ev := evs[len(evs)-1]
				if ev.Action != "operator.signin" || ev.Outcome != "failure" || ev.Target != c.target || ev.Meta != meta {
					t.Fatalf("failure event %+v, want target %s", ev, c.target)
				}
			})
		}
		var sessions int
		f.queryRow(t, "SELECT count(*) FROM operator_sessions", nil, &sessions)
		if sessions != 0 {
			t.Fatalf("%d sessions after failed sign-ins", sessions)
		}

		f.clk.add(time.Hour)
		tok, s, err := f.ops.SignIn(ctx, " OPS@Example.ORG", pw, meta)
		if err != nil {
			t.Fatal(err)
		}
		now := f.clk.now()
		if s.OperatorID != op.ID || s.Email != "ops@example.org" || len(s.CSRFToken) < 40 || s.ID == tok ||
			!s.CreatedAt.Equal(now) || !s.LastSeenAt.Equal(now) || !s.ExpiresAt.Equal(now.Add(12*time.Hour)) {
			t.Fatalf("session %+v", s)
		}
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("token %q is not 32 bytes of unpadded base64url", tok)
		}
		ev := f.rec.last(t)
		if ev.Action != "operator.signin" || ev.Outcome != "success" || ev.Actor != "operator:"+op.ID || ev.Target != "operator:"+op.ID || ev.Meta != meta {
			t.Fatalf("success event %+v", ev)
		}
		var last time.Time
		f.queryRow(t, "SELECT last_sign_in_at FROM operators WHERE id = ?", []any{op.ID}, &last)
		if !last.Equal(now) {
			t.Errorf("last_sign_in_at = %v, want %v", last, now)
		}

		// Only the token's hash is stored; the client is sealed.
		var id, csrf string
		var client []byte
		f.queryRow(t, "SELECT id, csrf_token, client FROM operator_sessions", nil, &id, &csrf, &client)
		if id != s.ID || id == tok || csrf != s.CSRFToken {
			t.Errorf("session row id %q csrf %q", id, csrf)
		}
		if bytes.Contains(client, []byte(meta.IP)) || bytes.Contains(client, []byte(meta.UserAgent)) || bytes.Contains(client, []byte(tok)) {
			t.Error("session row holds the client or the token in clear")
		}
		noPersonalData(t, f.rec.all(), "ops@example.org", "off@example.org", "nobody")
	})
}

func TestOperatorRehashOnSignIn(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.ops = f.operators(identity.ArgonParams{Memory: 32, Time: 1, Threads: 1})
		op := f.create(t, "ops@example.org")
		hashOf := func() string {
			var h string
			f.queryRow(t, "SELECT password_hash FROM operators WHERE id = ?", []any{op.ID}, &h)
			return h
		}
		old := hashOf()

		// Stronger parameters today: a failed sign-in changes nothing, a good one re-hashes.
		stronger := f.operators(identity.ArgonParams{Memory: 64, Time: 2, Threads: 1})
		if _, _, err := stronger.SignIn(ctx, "ops@example.org", "not the right password", identity.RequestMeta{}); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		if hashOf() != old {
			t.Fatal("failed sign-in changed the stored hash")
		}
		if _, _, err := stronger.SignIn(ctx, "ops@example.org", pw, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		upgraded := hashOf()
		if !strings.HasPrefix(upgraded, "$argon2id$v=19$m=64,t=2,p=1$") {
			t.Fatalf("hash not upgraded: %q", upgraded)
		}
		// A host still on the weaker parameters verifies the stronger hash and keeps it.
		if _, _, err := f.ops.SignIn(ctx, "ops@example.org", pw, identity.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		if hashOf() != upgraded {
			t.Fatal("sign-in downgraded the stored hash")
		}
	})
}

func TestOperatorSessions(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		op := f.create(t, "ops@example.org")
		meta := identity.RequestMeta{IP: "192.0.2.1", UserAgent: "test", RequestID: "r"}
		signIn := func() (string, *identity.Session) {
			t.Helper()
			tok, s, err := f.ops.SignIn(ctx, "ops@example.org", pw, meta)
			if err != nil {
				t.Fatal(err)
			}
			return tok, s
		}
		alive := func(tok string) *identity.Session {
			t.Helper()
			s, err := f.ops.Session(ctx, tok)
			if err != nil {
				t.Fatalf("Session at %v: %v", f.clk.now(), err)
			}
			return s
		}
		ended := func(tok string) {
			t.Helper()
			if s, err := f.ops.Session(ctx, tok); !errors.Is(err, identity.ErrNoSession) {
				t.Fatalf("Session at %v = %+v, %v; want ErrNoSession", f.clk.now(), s, err)
			}
		}

		t.Run("lookup", func(t *testing.T) {
			tok, s := signIn()
			got := alive(tok)
			if got.ID != s.ID || got.OperatorID != op.ID || got.Email != "ops@example.org" || got.CSRFToken != s.CSRFToken ||
				!got.CreatedAt.Equal(s.CreatedAt) || !got.ExpiresAt.Equal(s.ExpiresAt) {
				t.Fatalf("Session = %+v, signed in %+v", got, s)
			}
			for _, bad := range []string{"", tok + "x", tok[1:], strings.Repeat("A", 43), strings.Repeat("A", 4096)} {
				ended(bad)
			}
		})

		t.Run("activity is written at most once a minute", func(t *testing.T) {
			tok, s := signIn()
			f.clk.add(30 * time.Second)
			if got := alive(tok); !got.LastSeenAt.Equal(s.LastSeenAt) {
				t.Fatalf("LastSeenAt moved after 30 s: %v", got.LastSeenAt)
			}
			f.clk.add(31 * time.Second)
			if got := alive(tok); !got.LastSeenAt.Equal(f.clk.now()) {
				t.Fatalf("LastSeenAt = %v after 61 s, want %v", got.LastSeenAt, f.clk.now())
			}
		})

		t.Run("idle timeout slides with use", func(t *testing.T) {
			tok, _ := signIn()
			for range 3 {
				f.clk.add(29 * time.Minute)
				alive(tok)
			}
			f.clk.add(30 * time.Minute)
			ended(tok)
			var n int
			f.queryRow(t, "SELECT count(*) FROM operator_sessions WHERE id = ?", []any{identitySessionID(tok)}, &n)
			if n != 0 {
				t.Fatal("expired session row kept")
			}
		})

		t.Run("absolute timeout even when active", func(t *testing.T) {
			tok, s := signIn()
			for f.clk.now().Add(25 * time.Minute).Before(s.ExpiresAt) {
				f.clk.add(25 * time.Minute)
				alive(tok)
			}
			f.clk.add(s.ExpiresAt.Sub(f.clk.now()) - time.Second)
			alive(tok)
			f.clk.add(time.Second)
			ended(tok)
		})

		t.Run("sign-out ends only that session", func(t *testing.T) {
			tok, s := signIn()
			other, _ := signIn()
			before := len(f.rec.all())
			if err := f.ops.SignOut(ctx, tok, meta); err != nil {
				t.Fatal(err)
			}
			ended(tok)
			alive(other)
			ev := f.rec.last(t)
			if len(f.rec.all()) != before+1 || ev.Action != "operator.signout" || ev.Target != "operator:"+s.OperatorID || ev.Outcome != "success" {
				t.Fatalf("sign-out event %+v", ev)
			}
			// Signing out again, or with a bogus token, is harmless and not audited.
			for _, tk := range []string{tok, "", "bogus"} {
				if err := f.ops.SignOut(ctx, tk, meta); err != nil {
					t.Fatalf("SignOut(%q) = %v", tk, err)
				}
			}
			if len(f.rec.all()) != before+1 {
				t.Fatal("repeated sign-out was audited")
			}
		})

		t.Run("disabling an operator ends their sessions", func(t *testing.T) {
			tok, _ := signIn()
			f.exec(t, "UPDATE operators SET disabled = ? WHERE id = ?", true, op.ID)
			ended(tok)
		})

		noPersonalData(t, f.rec.all(), "ops@example.org")
	})
}

func TestOperatorCustomTimeouts(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.create(t, "ops@example.org")
		ops := identity.NewOperators(db, f.keys, f.rec, identity.OperatorOptions{
			IdleTimeout: 5 * time.Minute, AbsoluteTimeout: time.Hour,
			Now: f.clk.now, Hasher: identity.NewPasswordHasher(fastParams),
		})
		tok, s, err := ops.SignIn(ctx, "ops@example.org", pw, identity.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if !s.ExpiresAt.Equal(f.clk.now().Add(time.Hour)) {
			t.Fatalf("ExpiresAt = %v", s.ExpiresAt)
		}
		f.clk.add(4 * time.Minute)
		if _, err := ops.Session(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clk.add(5 * time.Minute)
		if _, err := ops.Session(ctx, tok); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("after 5 idle minutes: %v", err)
		}
	})
}

// identitySessionID mirrors the package's session handle: hex SHA-256 of the token.
func identitySessionID(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return fmt.Sprintf("%x", sum)
}
