package web

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestPagesRender(t *testing.T) {
	p, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const hostile = `"><script>alert(1)</script>`
	frame := Frame{Tenant: hostile, Slug: "lake", CSRF: "tok", Email: "ada@example.org", Admin: true, Flash: hostile, Error: hostile}
	tests := []struct {
		page  string
		data  any
		title string
		want  string
	}{
		{PageIndex, nil, "<title>Plenum — ", "/operator/"},
		{PageTenant, TenantData{Name: hostile}, "<title>&#34;&gt;&lt;script&gt;", "Welcome"},
		{PageSignIn, SignInData{CSRF: "tok", Error: "E-mail or password is wrong.", Email: hostile}, "<title>Operator sign-in", `<label for="password">`},
		{PageConsole, ConsoleData{CSRF: "tok", Email: "op@example.org", Tenants: []TenantRow{
			{Slug: "demo", Name: hostile, Status: "active", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Serving: true},
			{Slug: "gone", Name: "Gone", Status: "deleted", CreatedAt: time.Now()},
		}}, "<title>Operator console", `<a href="/t/demo/">demo</a>`},
		{PageConsole, ConsoleData{CSRF: "tok"}, "<title>Operator console", "No tenants yet"},
		{PageError, ErrorData{Status: 404, Title: "Not Found", Message: "No such page.", RequestID: "r1"}, "<title>Not Found", "Reference: <code>r1</code>"},
		{PageMemberSignIn, MemberSignInData{Frame: frame, EmailValue: hostile}, "<title>Sign in — ", `action="/t/lake/signin"`},
		{PageMFA, MFAData{Frame: frame, TOTP: true, RecoveryLeft: 3, EmailCode: true}, "<title>Second step", `name="method" value="recovery"`},
		{PageLink, LinkData{Frame: frame, Token: hostile, Purpose: "invite", Invitee: hostile, MinLength: 15, Expires: time.Now()}, "<title>Set your password", `minlength="15"`},
		{PageReset, ResetData{Frame: frame, Sent: true}, "<title>Reset your password", "on its way"},
		{PageAccount, AccountData{Frame: frame, Name: hostile, RecoveryCodes: []string{hostile}, Enrolment: &TOTPEnrolment{Secret: hostile, QR: "data:image/png;base64,AAAA"},
			Sessions: []SessionRow{{ID: "s1", IP: hostile, UserAgent: hostile, Current: true}}}, "<title>My account", `src="data:image/png;base64,AAAA"`},
		{PageNotice, frame, "<title>", "Back"},
		{PageAdminUsers, AdminUsersData{Frame: frame, CanManage: true, Roles: []string{"member", hostile},
			Users:    []UserRow{{ID: "u1", Email: hostile, Name: hostile, Status: "active", Roles: []string{hostile}, Locked: true}},
			Imported: &ImportResult{Invited: 1, Errors: []string{hostile}}}, "<title>Users", `action="/t/lake/admin/users/invite"`},
		{PageAdminRoles, AdminRolesData{Frame: frame, CanManage: true, Permissions: []string{"users.read"},
			Roles: []RoleRow{{Name: hostile, Permissions: map[string]bool{"users.read": true}}}}, "<title>Roles", "✔"},
		{PageAdminPolicy, AdminPolicyData{Frame: frame, CanManage: true, Source: hostile, Issues: []string{hostile}, Failures: []string{hostile},
			Explain: &ExplainResult{Clause: hostile, Steps: []string{hostile}}, History: []VersionRow{{Number: 1, Comment: hostile, Current: true}}}, "<title>Policy", `id="policy-live"`},
		{PageAdminUnits, AdminUnitsData{Frame: frame, Units: []UnitRow{{ID: "u1", Label: hostile, Weight: "1/3", Owners: []UnitOwner{{UserID: "x", Email: hostile}}}},
			Imported: &ImportResult{Errors: []string{hostile}}}, "<title>Units", `value="remove-owner"`},
		{PageReauth, ReauthData{Frame: frame, Return: hostile}, "<title>Confirm your password", `name="return"`},
		{PageAdminSecurity, AdminSecurityData{Frame: frame, CanManage: true, MinPasswordLength: 12, MFA: "admins", Locks: []UserRow{{Email: hostile}}}, "<title>Security", `value="admins" selected`},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			var buf bytes.Buffer
			if err := p.Render(&buf, tt.page, tt.data); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range []string{`<html lang="en">`, tt.title, tt.want, `href="/static/plenum.css?v=`} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, hostile) {
				t.Error("unescaped input")
			}
			scripts := strings.Count(out, "<script")
			external := strings.Count(out, `<script src="/static/`)
			if strings.Contains(out, "style=") || scripts != external || strings.Contains(out, "<style") {
				t.Error("inline style or script breaks the CSP")
			}
			if strings.Contains(out, "http://") || strings.Contains(out, "https://") {
				t.Error("page loads or links something from another origin")
			}
		})
	}
	if err := p.Render(&bytes.Buffer{}, "nope", nil); err == nil {
		t.Error("unknown page rendered")
	}
	if !strings.Contains(signinOut(t), `<p class="error" role="alert">`) {
		t.Error("package-level Render did not render the error message")
	}
}

// Every input has a label.
func signinOut(t *testing.T) string {
	var buf bytes.Buffer
	if err := Render(&buf, PageSignIn, SignInData{Error: "E-mail or password is wrong."}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, id := range []string{"email", "password"} {
		if !strings.Contains(out, `<label for="`+id+`">`) || !strings.Contains(out, `id="`+id+`"`) {
			t.Errorf("input %s has no label", id)
		}
	}
	return out
}

func TestStatic(t *testing.T) {
	b, err := fs.ReadFile(Static(), "plenum.css")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("@import")) || bytes.Contains(b, []byte("url(")) {
		t.Error("the stylesheet loads external resources")
	}
	u := AssetURL("plenum.css")
	if !strings.HasPrefix(u, "/static/plenum.css?v=") || len(u) != len("/static/plenum.css?v=")+12 {
		t.Errorf("AssetURL = %q", u)
	}
	if AssetURL("missing.css") != "/static/missing.css" {
		t.Error("AssetURL invents a version for a missing file")
	}
}
