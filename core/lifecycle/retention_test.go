package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit"
)

const day = 24 * time.Hour

// fakeClock is a settable clock shared by the services of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// rulesPolicy is a test double for the retention-default plugin: a small
// Go implementation of the same rules (deleted tenants shredded after a
// 30-day grace period, sessions idle for more than sessionDays deleted,
// closed ballots deleted ballotYears after closing). failFor makes the
// policy fail for a tenant; shredAnyway makes it ask to shred a tenant
// whatever its state.
type rulesPolicy struct {
	sessionDays int64
	ballotYears int64
	failFor     map[string]bool
	shredAnyway map[string]bool
	calls       int
}

func (p *rulesPolicy) Decide(ctx context.Context, tenantID string, in *sdk.RetentionInput) (*sdk.RetentionOutput, error) {
	p.calls++
	if len(in.Records) > BatchSize {
		return nil, fmt.Errorf("batch of %d records", len(in.Records))
	}
	if p.failFor[tenantID] {
		return nil, errors.New("plugin trapped")
	}
	const d = int64(day / time.Second)
	out := &sdk.RetentionOutput{}
	for _, r := range in.Records {
		dec := sdk.RetentionDecision{ID: r.ID, Action: sdk.ActionDelete}
		switch r.Class {
		case sdk.ClassTenant:
			dec.Action = sdk.ActionCryptoShred
			switch {
			case p.shredAnyway[r.ID]:
				dec.At = in.Now
			case r.Deleted > 0:
				dec.At = r.Deleted + 30*d
			default:
				dec.Action, dec.At = sdk.ActionKeep, in.Now+d
			}
		case sdk.ClassSession:
			dec.At = max(r.Created, r.LastActivity) + p.sessionDays*d
		case sdk.ClassBallot:
			dec.At = r.Closed + p.ballotYears*365*d
		default:
			dec.Action, dec.At = sdk.ActionKeep, in.Now+d
		}
		if dec.At > in.Now {
			dec.Action = sdk.ActionKeep
		}
		out.Decisions = append(out.Decisions, dec)
	}
	return out, nil
}

type testUser struct {
	bun.BaseModel `bun:"table:users"`
	store.Owned
	ID         string    `bun:"id,pk"`
	EmailIndex []byte    `bun:"email_index"`
	Email      []byte    `bun:"email"`
	Status     string    `bun:"status"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

type testSession struct {
	bun.BaseModel `bun:"table:user_sessions"`
	store.Owned
	ID          string    `bun:"id,pk"`
	UserID      string    `bun:"user_id"`
	CSRFToken   string    `bun:"csrf_token"`
	Stage       string    `bun:"stage"`
	CreatedAt   time.Time `bun:"created_at"`
	LastSeenAt  time.Time `bun:"last_seen_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
	IdleSeconds int       `bun:"idle_seconds"`
	AuthAt      time.Time `bun:"auth_at"`
	Method      string    `bun:"method"`
}

type testBallot struct {
	bun.BaseModel `bun:"table:ballots"`
	store.Owned
	ID        string     `bun:"id,pk"`
	Title     string     `bun:"title"`
	State     string     `bun:"state"`
	Rules     string     `bun:"rules"`
	RulesHash string     `bun:"rules_hash"`
	OpensAt   time.Time  `bun:"opens_at"`
	ClosesAt  time.Time  `bun:"closes_at"`
	CreatedBy string     `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at"`
	UpdatedAt time.Time  `bun:"updated_at"`
	ClosedAt  *time.Time `bun:"closed_at"`
	Result    string     `bun:"result"`
}

type testRight struct {
	bun.BaseModel `bun:"table:ballot_rights"`
	store.Owned
	BallotID string `bun:"ballot_id,pk"`
	UnitID   string `bun:"unit_id,pk"`
	Weight   string `bun:"weight"`
}

type tenantRecorder struct{ log *audit.Log }

func (r tenantRecorder) Record(ctx context.Context, tx *store.Tx, c tenancy.Change) error {
	_, err := r.log.Append(ctx, tx, audit.Event{Actor: c.Actor, Action: c.Action, Target: c.Target, Details: c.Details})
	return err
}

// sweepFixture holds four tenants: active (with old and new sessions and
// ballots), recent (deleted 5 days ago), old (deleted 31 days ago) and
// failing (the policy fails for it; it has an old session).
type sweepFixture struct {
	db                           *store.DB
	keys                         *crypto.Keyring
	log                          *audit.Log
	clock                        *fakeClock
	policy                       *rulesPolicy
	sweeper                      *Sweeper
	active, recent, old, failing string
	sealed                       map[string][]byte
}

var sweepNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newSweepFixture(t *testing.T, db *store.DB) *sweepFixture {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{t: sweepNow.Add(-400 * day)}
	master, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := crypto.NewKeyring(ctx, db, master, crypto.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(ctx, db, keys, nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &sweepFixture{db: db, keys: keys, log: log, clock: clock, sealed: map[string][]byte{}}
	ten := tenancy.NewService(db, keys, tenantRecorder{log}, clock.Now)
	for _, c := range []struct {
		slug    string
		id      *string
		deleted time.Duration
	}{
		{"active", &f.active, 0}, {"recent", &f.recent, 5 * day}, {"old", &f.old, 31 * day}, {"failing", &f.failing, 0},
	} {
		clock.Set(sweepNow.Add(-400 * day))
		tn, err := ten.Create(ctx, tenancy.CreateRequest{Slug: c.slug, Name: "Association " + c.slug, Actor: "system"})
		if err != nil {
			t.Fatal(err)
		}
		*c.id = tn.ID
		if f.sealed[tn.ID], err = keys.Seal(ctx, tn.ID, []byte("minutes"), []byte(tn.ID)); err != nil {
			t.Fatal(err)
		}
		if c.deleted > 0 {
			clock.Set(sweepNow.Add(-c.deleted))
			if _, err := ten.Delete(ctx, tn.ID, "system"); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.Set(sweepNow)

	closed := func(ago time.Duration) *time.Time { c := sweepNow.Add(-ago); return &c }
	f.insert(t, f.active, []testSession{
		{ID: "s-idle", LastSeenAt: sweepNow.Add(-40 * day)},
		{ID: "s-fresh", LastSeenAt: sweepNow.Add(-day)},
	}, []testBallot{
		{ID: "b-old", State: "published", ClosedAt: closed(11 * 365 * day)},
		{ID: "b-recent", State: "closed", ClosedAt: closed(365 * day)},
		{ID: "b-open", State: "open"},
	})
	f.insert(t, f.failing, []testSession{{ID: "s-idle", LastSeenAt: sweepNow.Add(-40 * day)}}, nil)
	sc, _ := db.Scoped(f.active)
	if err := sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.Insert(ctx, &testRight{BallotID: "b-old", UnitID: "u-1", Weight: "1"})
	}); err != nil {
		t.Fatal(err)
	}

	f.policy = &rulesPolicy{
		sessionDays: 30, ballotYears: 10,
		failFor:     map[string]bool{f.failing: true},
		shredAnyway: map[string]bool{f.active: true},
	}
	f.sweeper = NewSweeper(db, keys, log, f.policy, clock.Now)
	return f
}

// insert adds a user with sessions, and ballots, to tenant.
func (f *sweepFixture) insert(t *testing.T, tenant string, sessions []testSession, ballots []testBallot) {
	t.Helper()
	sc, err := f.db.Scoped(tenant)
	if err != nil {
		t.Fatal(err)
	}
	created := sweepNow.Add(-300 * day)
	err = sc.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Insert(ctx, &testUser{ID: "u-1", EmailIndex: []byte("u-1"), Email: []byte{1}, Status: "active", CreatedAt: created, UpdatedAt: created}); err != nil {
			return err
		}
		for _, s := range sessions {
			s.UserID, s.CSRFToken, s.Stage, s.Method = "u-1", "csrf", "full", "password"
			s.CreatedAt, s.AuthAt, s.ExpiresAt, s.IdleSeconds = created, created, s.LastSeenAt.Add(day), 86400
			if err := tx.Insert(ctx, &s); err != nil {
				return err
			}
		}
		for _, b := range ballots {
			b.Title, b.Rules, b.RulesHash, b.CreatedBy, b.Result = "Budget", "{}", "h", "u-1", "{}"
			b.OpensAt, b.ClosesAt, b.CreatedAt, b.UpdatedAt = created, created, created, created
			if err := tx.Insert(ctx, &b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ids returns the ids of model's rows in tenant, sorted.
func (f *sweepFixture) ids(t *testing.T, tenant string, model any) []string {
	t.Helper()
	sc, _ := f.db.Scoped(tenant)
	var ids []string
	err := sc.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(model).Column("id").Order("id").Scan(ctx, &ids)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (f *sweepFixture) rights(t *testing.T, tenant string) int64 {
	t.Helper()
	sc, _ := f.db.Scoped(tenant)
	var n int64
	err := sc.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		n, err = tx.Select((*testRight)(nil)).Count(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sweepEvents returns the retention.sweep events of chain.
func (f *sweepFixture) sweepEvents(t *testing.T, chain string) []audit.Record {
	t.Helper()
	sc, _ := f.db.Scoped(chain)
	var recs []audit.Record
	err := sc.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		all, err := f.log.List(ctx, tx, audit.ListOptions{Limit: 1000})
		for _, r := range all {
			if r.Action == "retention.sweep" {
				recs = append(recs, r)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func (f *sweepFixture) opens(tenant string) bool {
	_, err := f.keys.Open(context.Background(), tenant, f.sealed[tenant], []byte(tenant))
	return err == nil
}

func tenantReport(t *testing.T, rep *Report, id string) TenantReport {
	t.Helper()
	for _, tr := range rep.Tenants {
		if tr.TenantID == id {
			return tr
		}
	}
	t.Fatalf("no report for tenant %s in %+v", id, rep.Tenants)
	return TenantReport{}
}

func TestSweep(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSweepFixture(t, db)
		wantActive := map[string]map[string]int{
			sdk.ClassTenant:  {},
			sdk.ClassSession: {sdk.ActionDelete: 1, sdk.ActionKeep: 1},
			sdk.ClassBallot:  {sdk.ActionDelete: 1, sdk.ActionKeep: 1},
		}

		// Dry run: the report says what would happen, nothing changes.
		rep, err := f.sweeper.Sweep(ctx, true)
		if err == nil || !strings.Contains(err.Error(), "plugin trapped") {
			t.Fatalf("dry run error = %v, want the failing policy's", err)
		}
		if !rep.DryRun || !slices.Equal(rep.Shredded, []string{f.old}) || len(rep.Errors) != 1 {
			t.Fatalf("dry run report: shredded %v, errors %v", rep.Shredded, rep.Errors)
		}
		checkActive(t, tenantReport(t, rep, f.active), wantActive, nil)
		if got := f.ids(t, f.active, (*testSession)(nil)); !slices.Equal(got, []string{"s-fresh", "s-idle"}) {
			t.Fatalf("dry run left sessions %v", got)
		}
		if got := f.ids(t, f.active, (*testBallot)(nil)); len(got) != 3 {
			t.Fatalf("dry run left ballots %v", got)
		}
		if !f.opens(f.old) {
			t.Fatal("dry run destroyed a key")
		}
		for _, chain := range []string{f.active, f.old, f.failing, audit.PlatformChain} {
			if evs := f.sweepEvents(t, chain); len(evs) != 0 {
				t.Fatalf("dry run recorded %d events on %s", len(evs), chain)
			}
		}

		// Applied sweep.
		rep, err = f.sweeper.Sweep(ctx, false)
		if err == nil || !strings.Contains(err.Error(), f.failing) {
			t.Fatalf("sweep error = %v, want the failing tenant's", err)
		}
		if !slices.Equal(rep.Shredded, []string{f.old}) || len(rep.Errors) != 1 {
			t.Fatalf("report: shredded %v, errors %v", rep.Shredded, rep.Errors)
		}
		checkActive(t, tenantReport(t, rep, f.active), wantActive, map[string]int64{sdk.ClassSession: 1, sdk.ClassBallot: 1})
		if got := f.ids(t, f.active, (*testSession)(nil)); !slices.Equal(got, []string{"s-fresh"}) {
			t.Errorf("sessions left %v, want [s-fresh]", got)
		}
		if got := f.ids(t, f.active, (*testBallot)(nil)); !slices.Equal(got, []string{"b-open", "b-recent"}) {
			t.Errorf("ballots left %v, want [b-open b-recent]", got)
		}
		if n := f.rights(t, f.active); n != 0 {
			t.Errorf("%d ballot rights left, want them deleted with their ballot", n)
		}
		for _, c := range []struct {
			tenant string
			opens  bool
		}{{f.old, false}, {f.recent, true}, {f.active, true}, {f.failing, true}} {
			if got := f.opens(c.tenant); got != c.opens {
				t.Errorf("key of %s opens = %v, want %v", c.tenant, got, c.opens)
			}
		}
		if _, err := f.keys.Open(ctx, f.old, f.sealed[f.old], []byte(f.old)); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Errorf("open after shred: %v, want ErrKeyDestroyed", err)
		}
		if tr := tenantReport(t, rep, f.failing); !tr.Failed || len(tr.Deleted) != 0 {
			t.Errorf("failing tenant report %+v", tr)
		}
		if got := f.ids(t, f.failing, (*testSession)(nil)); !slices.Equal(got, []string{"s-idle"}) {
			t.Errorf("failing tenant's sessions %v: nothing may be deleted when the policy fails", got)
		}

		// Audit: one event per tenant, counts only.
		evs := f.sweepEvents(t, f.active)
		if len(evs) != 1 {
			t.Fatalf("%d sweep events for the active tenant, want 1", len(evs))
		}
		for _, want := range []string{`"ballot.delete":"1"`, `"session.deleted":"1"`, `"refused":"1"`} {
			if !strings.Contains(evs[0].Details, want) {
				t.Errorf("active tenant's event details %s lack %s", evs[0].Details, want)
			}
		}
		if evs := f.sweepEvents(t, f.failing); len(evs) != 1 || evs[0].Outcome != audit.Failure {
			t.Errorf("failing tenant's events %+v, want one failure", evs)
		}
		if evs := f.sweepEvents(t, f.recent); len(evs) != 1 || !strings.Contains(evs[0].Details, `"tenant.keep":"1"`) {
			t.Errorf("recent tenant's events %+v", evs)
		}
		if evs := f.sweepEvents(t, f.old); len(evs) != 0 {
			t.Errorf("%d events on the shredded tenant's own chain, want 0", len(evs))
		}
		pe := f.sweepEvents(t, audit.PlatformChain)
		if len(pe) != 1 || pe[0].Target != "tenant:"+f.old || !strings.Contains(pe[0].Details, `"key_destroyed":"true"`) {
			t.Errorf("platform chain events %+v, want the shredded tenant's sweep", pe)
		}

		// The shred re-checks the tenant under lock.
		for _, c := range []struct {
			tenant string
			want   error
		}{{f.active, errNotDeleted}, {f.old, errShredded}} {
			if err := f.sweeper.shred(ctx, c.tenant, sweepNow); !errors.Is(err, c.want) {
				t.Errorf("shred %s: %v, want %v", c.tenant, err, c.want)
			}
		}
		if !f.opens(f.active) {
			t.Error("the active tenant's key was destroyed")
		}

		// A second sweep skips the shredded tenant and deletes nothing more.
		delete(f.policy.failFor, f.failing)
		rep, err = f.sweeper.Sweep(ctx, false)
		if err != nil {
			t.Fatalf("second sweep: %v", err)
		}
		if !slices.Equal(rep.Skipped, []string{f.old}) || len(rep.Shredded) != 0 {
			t.Errorf("second sweep skipped %v shredded %v", rep.Skipped, rep.Shredded)
		}
		if got := tenantReport(t, rep, f.active).Deleted; len(got) != 0 {
			t.Errorf("second sweep deleted %v in the active tenant", got)
		}
		if got := f.ids(t, f.failing, (*testSession)(nil)); len(got) != 0 {
			t.Errorf("failing tenant's sessions %v after the policy recovered", got)
		}
	})
}

func checkActive(t *testing.T, tr TenantReport, want map[string]map[string]int, deleted map[string]int64) {
	t.Helper()
	if tr.Refused != 1 {
		t.Errorf("active tenant: refused %d, want 1 (the policy asked to shred it)", tr.Refused)
	}
	for class, byAction := range want {
		for action, n := range byAction {
			if got := tr.Decisions[class][action]; got != n {
				t.Errorf("active tenant: %s.%s = %d, want %d (all: %v)", class, action, got, n, tr.Decisions)
			}
		}
	}
	for class, n := range deleted {
		if tr.Deleted[class] != n {
			t.Errorf("active tenant: deleted %v, want %v", tr.Deleted, deleted)
		}
	}
}

// TestSweepBatches checks that a tenant with more records than BatchSize
// is asked about in several calls, none larger than BatchSize.
func TestSweepBatches(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newSweepFixture(t, db)
		sessions := make([]testSession, BatchSize+20)
		for i := range sessions {
			sessions[i] = testSession{ID: fmt.Sprintf("bulk-%04d", i), LastSeenAt: sweepNow.Add(-time.Duration(i%60) * day)}
		}
		f.insert(t, f.recent, sessions, nil)
		f.policy.calls = 0
		rep, err := f.sweeper.Sweep(context.Background(), true)
		if err == nil {
			t.Fatal("dry run: want the failing tenant's error")
		}
		// One tenant call per tenant (4), sessions: active 1, recent 2,
		// ballots: active 1; the failing tenant stops at its first call.
		if f.policy.calls != 8 {
			t.Errorf("policy calls = %d, want 8", f.policy.calls)
		}
		tr := tenantReport(t, rep, f.recent)
		if got := tr.Decisions[sdk.ClassSession][sdk.ActionDelete] + tr.Decisions[sdk.ClassSession][sdk.ActionKeep]; got != len(sessions) {
			t.Errorf("recent tenant: %d session decisions, want %d", got, len(sessions))
		}
	})
}

// TestPlanAdd checks how single decisions are planned.
func TestPlanAdd(t *testing.T) {
	const now = 1_000_000
	active := &tenancy.Tenant{ID: "t", Status: tenancy.Active}
	deleted := &tenancy.Tenant{ID: "t", Status: tenancy.Deleted}
	tests := []struct {
		name     string
		tenant   *tenancy.Tenant
		class    string
		decision sdk.RetentionDecision
		counted  string // action counted, "" for none
		sessions int
		ballots  int
		shred    bool
		refused  int
		invalid  int
	}{
		{"session due", active, sdk.ClassSession, sdk.RetentionDecision{Action: sdk.ActionDelete, At: now}, sdk.ActionDelete, 1, 0, false, 0, 0},
		{"session not due", active, sdk.ClassSession, sdk.RetentionDecision{Action: sdk.ActionDelete, At: now + 1}, sdk.ActionKeep, 0, 0, false, 0, 0},
		{"ballot due", active, sdk.ClassBallot, sdk.RetentionDecision{Action: sdk.ActionDelete, At: now - 5}, sdk.ActionDelete, 0, 1, false, 0, 0},
		{"warn", active, sdk.ClassTenant, sdk.RetentionDecision{Action: sdk.ActionWarn, At: now}, sdk.ActionWarn, 0, 0, false, 0, 0},
		{"keep", active, sdk.ClassBallot, sdk.RetentionDecision{Action: sdk.ActionKeep, At: now + 9}, sdk.ActionKeep, 0, 0, false, 0, 0},
		{"shred deleted tenant", deleted, sdk.ClassTenant, sdk.RetentionDecision{Action: sdk.ActionCryptoShred, At: now}, sdk.ActionCryptoShred, 0, 0, true, 0, 0},
		{"delete deleted tenant", deleted, sdk.ClassTenant, sdk.RetentionDecision{Action: sdk.ActionDelete, At: now}, sdk.ActionDelete, 0, 0, true, 0, 0},
		{"shred active tenant", active, sdk.ClassTenant, sdk.RetentionDecision{Action: sdk.ActionCryptoShred, At: now}, "", 0, 0, false, 1, 0},
		{"delete active tenant", active, sdk.ClassTenant, sdk.RetentionDecision{Action: sdk.ActionDelete, At: now}, "", 0, 0, false, 1, 0},
		{"unknown action", deleted, sdk.ClassTenant, sdk.RetentionDecision{Action: "purge", At: now}, "", 0, 0, false, 0, 1},
		{"unknown action not due", active, sdk.ClassSession, sdk.RetentionDecision{Action: "purge", At: now + 1}, "", 0, 0, false, 0, 1},
		{"shred a session", active, sdk.ClassSession, sdk.RetentionDecision{Action: sdk.ActionCryptoShred, At: now}, "", 0, 0, false, 0, 1},
		{"anonymise a ballot", active, sdk.ClassBallot, sdk.RetentionDecision{Action: sdk.ActionAnonymise, At: now}, "", 0, 0, false, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &plan{tenant: tt.tenant, now: now, report: TenantReport{Decisions: map[string]map[string]int{}}}
			rec := sdk.RetentionRecord{Class: tt.class, ID: "r"}
			p.add(&rec, tt.decision)
			total := 0
			for _, byAction := range p.report.Decisions {
				for _, n := range byAction {
					total += n
				}
			}
			if tt.counted == "" && total != 0 || tt.counted != "" && (total != 1 || p.report.Decisions[tt.class][tt.counted] != 1) {
				t.Errorf("counted %v, want %q", p.report.Decisions, tt.counted)
			}
			if len(p.sessions) != tt.sessions || len(p.ballots) != tt.ballots || p.shred != tt.shred {
				t.Errorf("planned sessions %d ballots %d shred %v", len(p.sessions), len(p.ballots), p.shred)
			}
			if p.report.Refused != tt.refused || p.report.Invalid != tt.invalid {
				t.Errorf("refused %d invalid %d, want %d %d", p.report.Refused, p.report.Invalid, tt.refused, tt.invalid)
			}
		})
	}
}

// TestDecideIgnoresStrangers checks that decisions for ids not asked
// about, and second decisions for the same id, are ignored and counted.
func TestDecideIgnoresStrangers(t *testing.T) {
	pol := &listPolicy{out: &sdk.RetentionOutput{Decisions: []sdk.RetentionDecision{
		{ID: "a", Action: sdk.ActionDelete, At: 1},
		{ID: "a", Action: sdk.ActionKeep, At: 1},
		{ID: "zzz", Action: sdk.ActionDelete, At: 1},
	}}}
	s := NewSweeper(nil, nil, nil, pol, nil)
	p := &plan{tenant: &tenancy.Tenant{ID: "t"}, now: 10, report: TenantReport{Decisions: map[string]map[string]int{}}}
	recs := []sdk.RetentionRecord{{Class: sdk.ClassSession, ID: "a"}, {Class: sdk.ClassSession, ID: "b"}}
	if err := s.decide(context.Background(), p, recs); err != nil {
		t.Fatal(err)
	}
	if p.report.Ignored != 2 || len(p.sessions) != 1 || p.sessions[0].ID != "a" {
		t.Errorf("ignored %d, sessions %v", p.report.Ignored, p.sessions)
	}
	pol.out = nil
	if err := s.decide(context.Background(), p, recs); err == nil {
		t.Error("no output: want an error")
	}
}

type listPolicy struct{ out *sdk.RetentionOutput }

func (p *listPolicy) Decide(context.Context, string, *sdk.RetentionInput) (*sdk.RetentionOutput, error) {
	return p.out, nil
}
