package access

import (
	"context"
	"strings"
	"testing"
	"time"
)

func newEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCheck(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		name     string
		expr     string
		line     int // 0: valid
		column   int
		contains string
	}{
		{"owner and mfa", "resource.owner_id == principal.id && principal.mfa", 0, 0, ""},
		{"loop over units", "principal.units.exists(u, u == resource.unit)", 0, 0, ""},
		{"request and time", "request.channel == 'web' && request.country in ['FR', 'DE'] && now.getHours() < 20", 0, 0, ""},
		{"attributes", "resource.attributes['confidential'] != 'yes' || 'board' in principal.roles", 0, 0, ""},
		{"principal typo", "principal.rolez.size() > 0", 1, 10, "undefined field 'rolez'"},
		{"resource typo second line", "principal.mfa &&\n  resource.ownr_id == principal.id", 2, 11, "undefined field 'ownr_id'"},
		{"undeclared variable", "user.id == 'x'", 1, 1, "undeclared reference"},
		{"type error", "principal.mfa == 'yes'", 1, 15, "no matching overload"},
		{"syntax error", "principal.id ==", 1, 16, ""},
		{"not bool", "principal.id", 1, 1, "must be a bool"},
		{"int result", "1 + 2", 1, 1, "must be a bool"},
		{"empty", "", 1, 1, "empty"},
		{"too long", "principal.id == '" + strings.Repeat("x", 2100) + "'", 1, 1, "bytes long"},
		{"too deep", strings.Repeat("(", 20) + "true" + strings.Repeat(")", 20), 1, 1, "recursion limit"},
		{"nested loops", "principal.units.all(u, principal.units.all(v, u == v))", 1, 1, "may cost up to"},
		{"triple loops", "principal.roles.exists(a, principal.units.exists(b, principal.units.exists(c, a + b == c)))", 1, 1, "may cost up to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issues := e.Check(tt.expr)
			if tt.line == 0 {
				if issues != nil {
					t.Fatalf("Check(%q) = %v, want valid", tt.expr, issues)
				}
				return
			}
			if len(issues) == 0 {
				t.Fatalf("Check(%q) is valid, want an issue at %d:%d", tt.expr, tt.line, tt.column)
			}
			got := issues[0]
			if got.Line != tt.line || got.Column != tt.column || !strings.Contains(got.Message, tt.contains) {
				t.Errorf("Check(%q) = %v, want %d:%d containing %q", tt.expr, issues, tt.line, tt.column, tt.contains)
			}
		})
	}
}

func TestCompileCache(t *testing.T) {
	e, err := NewEngine(Limits{CacheSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	exprs := []string{"principal.mfa", "!principal.mfa", "principal.id == 'a'"}
	for _, x := range exprs[:2] {
		if e.Check(x) != nil {
			t.Fatal(x)
		}
	}
	e.Check(exprs[0]) // hit, now most recent
	if got := e.Compiles(); got != 2 {
		t.Fatalf("compiles = %d, want 2", got)
	}
	e.Check(exprs[2]) // evicts exprs[1]
	e.Check(exprs[0]) // still cached
	if got := e.Compiles(); got != 3 {
		t.Fatalf("compiles = %d, want 3", got)
	}
	e.Check(exprs[1])
	if got := e.Compiles(); got != 4 {
		t.Fatalf("compiles = %d, want 4 after eviction", got)
	}
}

func TestEvalLimits(t *testing.T) {
	e, err := NewEngine(Limits{RuntimeCostLimit: 100, MaxStaticCost: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	c, issues := e.Compile("principal.units.all(u, principal.units.all(v, u != v || u == v))")
	if issues != nil {
		t.Fatal(issues)
	}
	units := make([]string, 200)
	for i := range units {
		units[i] = strings.Repeat("u", i)
	}
	in := &Input{Principal: Principal{Units: units}}
	if ok, err := e.Eval(context.Background(), c, in); ok || err == nil {
		t.Fatalf("Eval over the cost limit = %v, %v; want an error", ok, err)
	}

	slow, err := NewEngine(Limits{RuntimeCostLimit: 1 << 40, MaxStaticCost: 1 << 40, Deadline: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, issues = slow.Compile("principal.units.all(u, principal.units.all(v, principal.units.all(w, size(u) + size(v) + size(w) >= 0)))")
	if issues != nil {
		t.Fatal(issues)
	}
	start := time.Now()
	if ok, err := slow.Eval(context.Background(), c, in); ok || err == nil {
		t.Fatalf("Eval past the deadline = %v, %v; want an error", ok, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("deadline of 1ms stopped evaluation only after %v", d)
	}
}

func TestDecideAndExplain(t *testing.T) {
	e := newEngine(t)
	cat := NewCatalog([]Role{{Name: "treasurer", Permissions: []Permission{BillingManage, ResultsRead}}})
	cp, err := e.CompilePolicy(Policy{Rules: []Rule{
		{Role: RoleMember, Permissions: []Permission{VotesCast}, Condition: "resource.status == 'open' && principal.mfa && resource.unit in principal.units"},
		{Role: RoleBoard, Permissions: []Permission{BallotsManage}, Condition: "resource.owner_id == principal.id"},
		{Role: RoleBoard, Permissions: []Permission{BallotsManage, BallotsCreate}, Condition: "request.channel == 'web'"},
		{Role: RoleMember, Permissions: []Permission{ResultsRead}}, // no condition: no effect
		{Role: "treasurer", Permissions: []Permission{BillingManage}, Condition: "principal.attributes['seat'] == 'treasury'"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	open := Resource{Kind: "ballot", ID: "b1", OwnerID: "u1", Unit: "north", Status: "open"}
	web := Request{Channel: "web"}
	tests := []struct {
		name   string
		p      Principal
		perm   Permission
		res    Resource
		req    Request
		allow  bool
		role   string
		rule   int
		reason string
		clause string
	}{
		{"member votes", Principal{ID: "u2", Roles: []string{"member"}, MFA: true, Units: []string{"north"}}, VotesCast, open, web, true, "member", 0, ReasonGranted, ""},
		{"member without mfa", Principal{ID: "u2", Roles: []string{"member"}, Units: []string{"north"}}, VotesCast, open, web, false, "member", 0, ReasonConditionFalse, "principal.mfa"},
		{"member other unit", Principal{ID: "u2", Roles: []string{"member"}, MFA: true, Units: []string{"south"}}, VotesCast, open, web, false, "member", 0, ReasonConditionFalse, "resource.unit in principal.units"},
		{"member closed ballot", Principal{ID: "u2", Roles: []string{"member"}, MFA: true, Units: []string{"north"}}, VotesCast, Resource{Status: "closed", Unit: "north"}, web, false, "member", 0, ReasonConditionFalse, `resource.status == "open"`},
		{"unconditional rule", Principal{Roles: []string{"member"}}, ResultsRead, open, web, true, "member", -1, ReasonGranted, ""},
		{"board owner on web", Principal{ID: "u1", Roles: []string{"board"}}, BallotsManage, open, web, true, "board", 2, ReasonGranted, ""},
		{"board owner by phone", Principal{ID: "u1", Roles: []string{"board"}}, BallotsManage, open, Request{Channel: "phone"}, false, "board", 2, ReasonConditionFalse, `request.channel == "web"`},
		{"board not owner", Principal{ID: "u9", Roles: []string{"board"}}, BallotsManage, open, web, false, "board", 1, ReasonConditionFalse, "resource.owner_id == principal.id"},
		{"second role grants", Principal{ID: "u9", Roles: []string{"board", "admin"}}, BallotsManage, open, web, true, "admin", -1, ReasonGranted, ""},
		{"not carried", Principal{Roles: []string{"member"}}, UsersManage, open, web, false, "", -1, ReasonNotCarried, ""},
		{"no roles", Principal{}, ResultsRead, open, web, false, "", -1, ReasonNoRoles, ""},
		{"unknown role", Principal{Roles: []string{"ghost"}}, ResultsRead, open, web, false, "", -1, ReasonNotCarried, ""},
		{"unknown permission", Principal{Roles: []string{"owner"}}, "ballots.burn", open, web, false, "", -1, ReasonUnknownPermission, ""},
		{"evaluation error denies", Principal{Roles: []string{"treasurer"}}, BillingManage, open, web, false, "treasurer", 4, ReasonConditionError, "principal.attributes[\"seat\"] == \"treasury\""},
		{"tenant role allowed", Principal{Roles: []string{"treasurer"}, Attributes: map[string]string{"seat": "treasury"}}, BillingManage, open, web, true, "treasurer", 4, ReasonGranted, ""},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Input{Principal: tt.p, Resource: tt.res, Request: tt.req, Now: time.Now()}
			d := e.Decide(ctx, cp, cat, in, tt.perm)
			if d.Allow != tt.allow || d.Role != tt.role || d.Rule != tt.rule || d.Reason != tt.reason || d.Permission != tt.perm {
				t.Errorf("Decide = %+v, want allow=%t role=%q rule=%d reason=%q", d, tt.allow, tt.role, tt.rule, tt.reason)
			}
			ex := e.Explain(ctx, cp, cat, in, tt.perm)
			want := d
			want.Clause = tt.clause
			if ex.Decision != want {
				t.Errorf("Explain = %+v, want %+v", ex.Decision, want)
			}
			if tt.perm.Valid() && len(ex.Roles) != len(tt.p.Roles) {
				t.Errorf("Explain considered %d roles, want %d", len(ex.Roles), len(tt.p.Roles))
			}
		})
	}
}

func TestDecideNeverCompiles(t *testing.T) {
	e := newEngine(t)
	cp, err := e.CompilePolicy(Policy{Rules: []Rule{{Role: RoleMember, Permissions: []Permission{VotesCast}, Condition: "resource.owner_id == principal.id && principal.mfa"}}})
	if err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(nil)
	before := e.Compiles()
	in := &Input{Principal: Principal{ID: "u1", Roles: []string{"member"}, MFA: true}, Resource: Resource{OwnerID: "u1"}}
	for i := 0; i < 100; i++ {
		in.Principal.MFA = i%2 == 0
		if d := e.Decide(context.Background(), cp, cat, in, VotesCast); d.Allow != in.Principal.MFA {
			t.Fatalf("Decide = %+v", d)
		}
	}
	if n := e.Compiles() - before; n != 0 {
		t.Fatalf("Decide compiled %d times, want 0", n)
	}
}

func TestCompilePolicyValidation(t *testing.T) {
	e := newEngine(t)
	_, err := e.CompilePolicy(Policy{Rules: []Rule{
		{Role: RoleMember, Permissions: []Permission{VotesCast}, Condition: "principal.mfa"},
		{Role: "Bad Name", Permissions: []Permission{"votes.steal"}, Condition: "principal.mfa"},
		{Role: RoleBoard, Permissions: []Permission{BallotsManage}, Condition: "principal.mfa &&\nresource.ownr_id == ''"},
	}})
	verr, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("CompilePolicy error = %v, want *ValidationError", err)
	}
	if len(verr.Rules) != 2 || verr.Rules[0].Rule != 1 || len(verr.Rules[0].Issues) != 2 || verr.Rules[1].Rule != 2 {
		t.Fatalf("issues = %+v", verr.Rules)
	}
	if is := verr.Rules[1].Issues[0]; is.Line != 2 || is.Column != 9 {
		t.Errorf("issue of rule 2 at %d:%d, want 2:9", is.Line, is.Column)
	}
}

func TestPermissionsAndRoles(t *testing.T) {
	ps := Permissions()
	if len(ps) != 21 {
		t.Fatalf("%d permissions", len(ps))
	}
	for i, p := range ps {
		if !p.Valid() || i > 0 && ps[i-1] >= p {
			t.Fatalf("permissions not valid and sorted: %v", ps)
		}
	}
	if Permission("sessions.manage").Valid() || Permission("").Valid() {
		t.Error("unknown permission reported valid")
	}
	roles := map[string]Role{}
	for _, r := range BuiltinRoles() {
		roles[r.Name] = r
		if !r.BuiltIn || r.Validate() == nil {
			t.Errorf("built-in role %q is not marked or validates as a tenant role", r.Name)
		}
	}
	if len(roles["owner"].Permissions) != 21 || len(roles["admin"].Permissions) != 20 || setOf(roles["admin"].Permissions).has(BillingManage) {
		t.Errorf("owner/admin permissions wrong: %v / %v", roles["owner"].Permissions, roles["admin"].Permissions)
	}
	if len(roles["board"].Permissions) != 12 || len(roles["member"].Permissions) != 4 || len(roles["auditor"].Permissions) != 6 {
		t.Errorf("board/member/auditor permissions wrong")
	}
	tests := []struct {
		role Role
		ok   bool
	}{
		{Role{Name: "treasurer", Permissions: []Permission{BillingManage}}, true},
		{Role{Name: "a_b-9"}, true},
		{Role{Name: "x"}, false},
		{Role{Name: strings.Repeat("x", 41)}, false},
		{Role{Name: "Treasurer"}, false},
		{Role{Name: "tré"}, false},
		{Role{Name: "admin"}, false},
		{Role{Name: "clerk", Permissions: []Permission{"votes.steal"}}, false},
		{roles["board"].Copy("board2"), true},
	}
	for _, tt := range tests {
		if err := tt.role.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%t", tt.role, err, tt.ok)
		}
	}
}
