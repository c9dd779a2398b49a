package access_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/testkit"
)

// noKeys and noRecord stand in for the keyring and the tenancy audit
// recorder, which have their own tests.
type noKeys struct{}

func (noKeys) CreateKey(context.Context, bun.Tx, string) error { return nil }

type noRecord struct{}

func (noRecord) Record(context.Context, *store.Tx, tenancy.Change) error { return nil }

type fixture struct {
	svc    *access.Service
	engine *access.Engine
	db     *store.DB
	a, b   string // tenant ids
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	ten := tenancy.NewService(db, noKeys{}, noRecord{}, nil)
	var ids []string
	for _, slug := range []string{"alpha", "beta"} {
		tn, err := ten.Create(ctx, tenancy.CreateRequest{Slug: slug, Name: slug, Actor: "operator:1"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tn.ID)
	}
	log, err := audit.New(ctx, db, nil, nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := access.NewEngine(access.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: access.NewService(db, eng, log, nil), engine: eng, db: db, a: ids[0], b: ids[1]}
}

// auditActions returns the actions recorded in tenant's chain, in order.
func auditActions(t *testing.T, db *store.DB, tenant string) []string {
	t.Helper()
	var out []string
	err := db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Table("audit_events").Column("action").Where("tenant_id = ?", tenant).Order("seq").Scan(ctx, &out)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRolesAndAssignments(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		svc, a, b := f.svc, f.a, f.b
		const actor = "user:admin"

		// Built-in roles are immutable.
		if err := svc.SaveRole(ctx, a, actor, access.Role{Name: "admin"}); !errors.Is(err, access.ErrBuiltinRole) {
			t.Errorf("SaveRole(admin) = %v, want ErrBuiltinRole", err)
		}
		if err := svc.DeleteRole(ctx, a, actor, "owner"); !errors.Is(err, access.ErrBuiltinRole) {
			t.Errorf("DeleteRole(owner) = %v, want ErrBuiltinRole", err)
		}
		for _, r := range []access.Role{
			{Name: "clerk", Permissions: []access.Permission{"votes.steal"}},
			{Name: "Clerk"},
			{Name: "c"},
		} {
			if err := svc.SaveRole(ctx, a, actor, r); !errors.Is(err, access.ErrInvalidRole) {
				t.Errorf("SaveRole(%+v) = %v, want ErrInvalidRole", r, err)
			}
		}

		// Copy a built-in role into a tenant role.
		var board access.Role
		for _, r := range access.BuiltinRoles() {
			if r.Name == "board" {
				board = r
			}
		}
		treasurer := board.Copy("treasurer")
		treasurer.Permissions = append(treasurer.Permissions, access.BillingManage)
		if err := svc.SaveRole(ctx, a, actor, treasurer); err != nil {
			t.Fatal(err)
		}
		treasurer.Description = "Keeps the books."
		if err := svc.SaveRole(ctx, a, actor, treasurer); err != nil {
			t.Fatal(err)
		}
		roles, err := svc.Roles(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(roles) != 6 || roles[5].Name != "treasurer" || roles[5].BuiltIn || roles[5].Description != "Keeps the books." || len(roles[5].Permissions) != 13 {
			t.Fatalf("Roles(a) = %+v", roles)
		}

		// Tenant B sees only the built-in roles and cannot assign A's.
		if roles, err := svc.Roles(ctx, b); err != nil || len(roles) != 5 {
			t.Fatalf("Roles(b) = %v, %v", roles, err)
		}
		if err := svc.Assign(ctx, b, actor, "u1", "treasurer"); !errors.Is(err, access.ErrUnknownRole) {
			t.Errorf("Assign in b of a's role = %v, want ErrUnknownRole", err)
		}
		if err := svc.DeleteRole(ctx, b, actor, "treasurer"); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("DeleteRole in b of a's role = %v, want ErrNotFound", err)
		}

		for _, as := range [][2]string{{"u1", "treasurer"}, {"u1", "member"}, {"u2", "treasurer"}, {"u1", "member"}} {
			if err := svc.Assign(ctx, a, actor, as[0], as[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.Assign(ctx, a, actor, "u1", "ghost"); !errors.Is(err, access.ErrUnknownRole) {
			t.Errorf("Assign(ghost) = %v", err)
		}
		if got, err := svc.RolesOf(ctx, a, "u1"); err != nil || fmt.Sprint(got) != "[member treasurer]" {
			t.Errorf("RolesOf(u1) = %v, %v", got, err)
		}
		if got, err := svc.Holders(ctx, a, "treasurer"); err != nil || fmt.Sprint(got) != "[u1 u2]" {
			t.Errorf("Holders(treasurer) = %v, %v", got, err)
		}
		if got, err := svc.RolesOf(ctx, b, "u1"); err != nil || len(got) != 0 {
			t.Errorf("RolesOf(b, u1) = %v, %v", got, err)
		}
		if got, err := svc.Assignments(ctx, a); err != nil || fmt.Sprint(got["u1"]) != "[member treasurer]" || fmt.Sprint(got["u2"]) != "[treasurer]" {
			t.Errorf("Assignments(a) = %v, %v", got, err)
		}
		if got, err := svc.Assignments(ctx, b); err != nil || len(got) != 0 {
			t.Errorf("Assignments(b) = %v, %v", got, err)
		}

		// The tenant role is resolvable by Authorize.
		p := access.Principal{ID: "u1", Roles: []string{"treasurer"}}
		if d, err := svc.Authorize(ctx, a, p, access.BillingManage, access.Resource{}, access.Request{}); err != nil || !d.Allow || d.Role != "treasurer" {
			t.Errorf("Authorize(treasurer, billing) = %+v, %v", d, err)
		}
		if d, err := svc.Authorize(ctx, b, p, access.BillingManage, access.Resource{}, access.Request{}); err != nil || d.Allow {
			t.Errorf("Authorize in b with a's role = %+v, %v; want deny", d, err)
		}

		if err := svc.DeleteRole(ctx, a, actor, "treasurer"); !errors.Is(err, access.ErrRoleInUse) {
			t.Errorf("DeleteRole while assigned = %v, want ErrRoleInUse", err)
		}
		for _, u := range []string{"u1", "u2"} {
			if err := svc.Unassign(ctx, a, actor, u, "treasurer"); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.Unassign(ctx, a, actor, "u1", "treasurer"); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("second Unassign = %v, want ErrNotFound", err)
		}
		if err := svc.DeleteRole(ctx, a, actor, "treasurer"); err != nil {
			t.Fatal(err)
		}
		// Deleting invalidates this process's role cache at once.
		if d, _ := svc.Authorize(ctx, a, p, access.BillingManage, access.Resource{}, access.Request{}); d.Allow {
			t.Errorf("deleted role still grants: %+v", d)
		}

		want := "[role.save role.save role.assign role.assign role.assign role.unassign role.unassign role.delete]"
		if got := fmt.Sprint(auditActions(t, db, a)); got != want {
			t.Errorf("audit actions = %s, want %s", got, want)
		}
		if got := auditActions(t, db, b); len(got) != 0 {
			t.Errorf("tenant b audit actions = %v", got)
		}
	})
}

func memberPolicy(cond string) access.Policy {
	return access.Policy{
		Rules: []access.Rule{{Role: "member", Permissions: []access.Permission{access.VotesCast}, Condition: cond}},
		Tests: []access.TestCase{
			{Name: "mfa member votes", Principal: access.Principal{ID: "u1", Roles: []string{"member"}, MFA: true}, Permission: access.VotesCast, Allow: true},
			{Name: "auditor cannot vote", Principal: access.Principal{ID: "u2", Roles: []string{"auditor"}, MFA: true}, Permission: access.VotesCast, Allow: false},
		},
	}
}

func TestSavePolicy(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		svc, a, b := f.svc, f.a, f.b
		const actor = "user:admin"

		cur, err := svc.CurrentPolicy(ctx, a)
		if err != nil || cur.Version != 0 || len(cur.Policy.Rules) != 0 {
			t.Fatalf("CurrentPolicy before any save = %+v, %v", cur, err)
		}

		// A typo is refused with its position.
		_, err = svc.SavePolicy(ctx, a, actor, 0, memberPolicy("principal.mfa &&\n principal.rolez.size() > 0"), "typo")
		var verr *access.ValidationError
		if !errors.As(err, &verr) || len(verr.Rules) != 1 || verr.Rules[0].Issues[0].Line != 2 || verr.Rules[0].Issues[0].Column != 11 {
			t.Fatalf("SavePolicy(typo) = %v, want a ValidationError at 2:11", err)
		}
		// A policy failing its own test cases is refused.
		_, err = svc.SavePolicy(ctx, a, actor, 0, memberPolicy("!principal.mfa"), "wrong")
		var tf *access.TestFailure
		if !errors.As(err, &tf) || len(tf.Failed) != 1 || tf.Failed[0].Name != "mfa member votes" {
			t.Fatalf("SavePolicy(failing tests) = %v, want TestFailure", err)
		}

		if _, err := svc.SavePolicy(ctx, a, actor, 0, memberPolicy("principal.mfa"), "first"); err != nil {
			t.Fatal(err)
		}

		// The saved policy is in force at once, and Authorize compiles nothing.
		mfa := access.Principal{ID: "u1", Roles: []string{"member"}, MFA: true}
		noMFA := access.Principal{ID: "u1", Roles: []string{"member"}}
		check := func(p access.Principal, want bool) {
			t.Helper()
			d, err := svc.Authorize(ctx, a, p, access.VotesCast, access.Resource{}, access.Request{})
			if err != nil || d.Allow != want {
				t.Fatalf("Authorize(%+v) = %+v, %v; want allow=%t", p, d, err, want)
			}
		}
		check(mfa, true)
		before := f.engine.Compiles()
		for i := 0; i < 20; i++ {
			check(noMFA, false)
			check(mfa, true)
		}
		if c := f.engine.Compiles() - before; c != 0 {
			t.Errorf("Authorize compiled %d times", c)
		}

		// Stale expected version.
		if _, err := svc.SavePolicy(ctx, a, actor, 0, memberPolicy("true"), "stale"); !errors.Is(err, access.ErrConflict) {
			t.Fatalf("stale SavePolicy = %v, want ErrConflict", err)
		}
		v2, err := svc.SavePolicy(ctx, a, actor, 1, memberPolicy("principal.mfa && principal.id == 'u1'"), "only u1")
		if err != nil || v2.Version != 2 {
			t.Fatalf("SavePolicy v2 = %+v, %v", v2, err)
		}

		// Rollback appends a copy of the old version.
		if _, err := svc.Rollback(ctx, a, actor, 1, 1); !errors.Is(err, access.ErrConflict) {
			t.Errorf("stale Rollback = %v, want ErrConflict", err)
		}
		if _, err := svc.Rollback(ctx, a, actor, 2, 99); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("Rollback to missing version = %v, want ErrNotFound", err)
		}
		v3, err := svc.Rollback(ctx, a, actor, 2, 1)
		if err != nil || v3.Version != 3 || v3.Policy.Rules[0].Condition != "principal.mfa" {
			t.Fatalf("Rollback = %+v, %v", v3, err)
		}
		cur, err = svc.CurrentPolicy(ctx, a)
		if err != nil || cur.Version != 3 || cur.Policy.Rules[0].Condition != "principal.mfa" || cur.CreatedBy != actor {
			t.Fatalf("CurrentPolicy after rollback = %+v, %v", cur, err)
		}
		hist, err := svc.History(ctx, a)
		if err != nil || len(hist) != 3 || hist[0].Version != 3 || hist[2].Version != 1 || hist[1].Comment != "only u1" {
			t.Fatalf("History = %+v, %v", hist, err)
		}
		if hist[2].Policy.Rules[0].Condition != "principal.mfa" || len(hist[2].Policy.Tests) != 2 {
			t.Errorf("version 1 changed: %+v", hist[2])
		}

		// Tenant B sees none of it.
		if cur, err := svc.CurrentPolicy(ctx, b); err != nil || cur.Version != 0 {
			t.Errorf("CurrentPolicy(b) = %+v, %v", cur, err)
		}
		if hist, err := svc.History(ctx, b); err != nil || len(hist) != 0 {
			t.Errorf("History(b) = %+v, %v", hist, err)
		}
		if d, err := svc.Authorize(ctx, b, noMFA, access.VotesCast, access.Resource{}, access.Request{}); err != nil || !d.Allow {
			t.Errorf("a's policy applied in b: %+v, %v", d, err)
		}
		if _, err := svc.Rollback(ctx, b, actor, 0, 1); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("Rollback in b to a's version = %v, want ErrNotFound", err)
		}

		ex, err := svc.Explain(ctx, a, access.Principal{ID: "u1", Roles: []string{"auditor", "member"}}, access.VotesCast, access.Resource{}, access.Request{})
		if err != nil || ex.Decision.Allow || ex.Decision.Clause != "principal.mfa" || len(ex.Roles) != 2 || ex.Roles[0].Carries {
			t.Errorf("Explain = %+v, %v", ex, err)
		}

		want := "[policy.save policy.save policy.rollback]"
		if got := fmt.Sprint(auditActions(t, db, a)); got != want {
			t.Errorf("audit actions = %s, want %s", got, want)
		}
	})
}

func TestSavePolicyConcurrent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		const writers = 8
		for expected := 0; expected < 3; expected++ {
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				wins      []int
				conflicts int
			)
			start := make(chan struct{})
			for i := 0; i < writers; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					<-start
					cond := fmt.Sprintf("principal.mfa || principal.id == 'writer-%d'", i)
					v, err := f.svc.SavePolicy(ctx, f.a, "user:admin", expected, memberPolicy(cond), fmt.Sprintf("writer %d", i))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins = append(wins, v.Version)
					case errors.Is(err, access.ErrConflict):
						conflicts++
					default:
						t.Errorf("writer %d: %v", i, err)
					}
				}(i)
			}
			close(start)
			wg.Wait()
			if len(wins) != 1 || wins[0] != expected+1 || conflicts != writers-1 {
				t.Fatalf("from version %d: wins %v, %d conflicts; want one win of version %d", expected, wins, conflicts, expected+1)
			}
		}
		hist, err := f.svc.History(ctx, f.a)
		if err != nil || len(hist) != 3 {
			t.Fatalf("History = %d versions, %v; want 3", len(hist), err)
		}
		if got := auditActions(t, db, f.a); len(got) != 3 {
			t.Errorf("audit actions = %v, want one per winning save", got)
		}
	})
}

func TestPolicyCacheSeesOtherHosts(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		log, err := audit.New(ctx, db, nil, nil, audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// other is a second host's service over the same database.
		other := access.NewService(db, f.engine, log, nil)
		const ttl = 200 * time.Millisecond
		access.SetCacheTTL(other, ttl)
		p := access.Principal{ID: "u1", Roles: []string{"member"}}
		if d, err := other.Authorize(ctx, f.a, p, access.VotesCast, access.Resource{}, access.Request{}); err != nil || !d.Allow {
			t.Fatalf("Authorize before policy = %+v, %v", d, err)
		}
		if _, err := f.svc.SavePolicy(ctx, f.a, "user:admin", 0, memberPolicy("principal.mfa"), ""); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(ttl + 3*time.Second)
		for {
			d, err := other.Authorize(ctx, f.a, p, access.VotesCast, access.Resource{}, access.Request{})
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allow {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("other host still uses the old policy after %v", ttl)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestDeleteRoleRacesAssign(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		for round := 0; round < 10; round++ {
			role := fmt.Sprintf("temp%d", round)
			if err := f.svc.SaveRole(ctx, f.a, "user:admin", access.Role{Name: role, Permissions: []access.Permission{access.ResultsRead}}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var assignErr, deleteErr error
			wg.Add(2)
			go func() { defer wg.Done(); assignErr = f.svc.Assign(ctx, f.a, "user:admin", "u1", role) }()
			go func() { defer wg.Done(); deleteErr = f.svc.DeleteRole(ctx, f.a, "user:admin", role) }()
			wg.Wait()
			holders, err := f.svc.Holders(ctx, f.a, role)
			if err != nil {
				t.Fatal(err)
			}
			roles, err := f.svc.Roles(ctx, f.a)
			if err != nil {
				t.Fatal(err)
			}
			exists := false
			for _, r := range roles {
				exists = exists || r.Name == role
			}
			switch {
			case assignErr == nil && deleteErr == nil:
				t.Fatalf("round %d: both the assignment and the deletion succeeded", round)
			case len(holders) > 0 && !exists:
				t.Fatalf("round %d: assignment to a deleted role (assign: %v, delete: %v)", round, assignErr, deleteErr)
			case assignErr != nil && !errors.Is(assignErr, access.ErrUnknownRole):
				t.Fatalf("round %d: assign: %v", round, assignErr)
			case deleteErr != nil && !errors.Is(deleteErr, access.ErrRoleInUse):
				t.Fatalf("round %d: delete: %v", round, deleteErr)
			}
		}
	})
}
