package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestEveryTenantRouteDeclaresAccess fails when a route under /t/:slug
// was registered without declaring who may call it, and when an admin
// route is reachable without a permission. Default deny: a member, whose
// role grants none of the admin permissions, is refused every admin
// route.
func TestEveryTenantRouteDeclaresAccess(t *testing.T) {
	testhost.StartEach(t, testhost.Options{Localhost: true}, func(t *testing.T, h *testhost.Host) {
		declared := h.App.Server.RouteAccess()
		var admin []string
		for _, r := range h.App.Server.App().GetRoutes(true) {
			if !strings.HasPrefix(r.Path, "/t/:slug") || r.Method == "HEAD" || r.Method == "USE" {
				continue
			}
			key := r.Method + " " + r.Path
			lvl, ok := declared[key]
			if !ok {
				t.Errorf("route %s declares no access: register it with tenantRoute", key)
				continue
			}
			if strings.HasPrefix(r.Path, "/t/:slug/admin") {
				if !strings.HasPrefix(lvl, "permission:") {
					t.Errorf("admin route %s is %s, want a permission", key, lvl)
				}
				admin = append(admin, key)
			}
		}
		if len(admin) == 0 {
			t.Fatal("no admin routes found")
		}
		tn := h.CreateTenant(t, "gamma", "Gamma Co-op")
		h.CreateUser(t, tn, "member@gamma.example", "marmalade lighthouses whisper at noon", "member")
		csrf := h.SignIn(t, h.Client, tn.Slug, "member@gamma.example", "marmalade lighthouses whisper at noon")
		for _, key := range admin {
			method, path, _ := strings.Cut(key, " ")
			path = strings.ReplaceAll(strings.ReplaceAll(path, ":slug", tn.Slug), ":id", "0194b5e2-0000-7000-8000-000000000000")
			var req *http.Request
			if method == "POST" {
				req, _ = http.NewRequest(method, h.URL+path, strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req, _ = http.NewRequest(method, h.URL+path, nil)
			}
			resp, err := h.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("member: %s answered %d, want 403", key, resp.StatusCode)
			}
		}
	})
}

// TestReauth: confirming the password sends the user back to a page of
// the same tenant only; a wrong password is refused.
func TestReauth(t *testing.T) {
	h := testhost.Start(t, testhost.Options{})
	tn := h.CreateTenant(t, "epsilon", "Epsilon Club")
	const pw = "juniper kettles on the veranda"
	h.CreateUser(t, tn, "sec@epsilon.example", pw, "owner")
	csrf := h.SignIn(t, h.Client, tn.Slug, "sec@epsilon.example", pw)
	for _, tc := range []struct {
		pw, back, want string
		status         int
	}{
		{pw, "/t/epsilon/admin/security", "/t/epsilon/admin/security", http.StatusSeeOther},
		{pw, "https://evil.example/", "/t/epsilon/", http.StatusSeeOther},
		{pw, "/t/other/admin/users", "/t/epsilon/", http.StatusSeeOther},
		{pw, "/t/epsilon//evil.example", "/t/epsilon/", http.StatusSeeOther},
		{"wrong password entirely", "/t/epsilon/admin/security", "", http.StatusUnauthorized},
	} {
		form := url.Values{"csrf": {csrf}, "password": {tc.pw}, "return": {tc.back}}
		req, _ := http.NewRequest("POST", h.URL+"/t/epsilon/reauth", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.want {
			t.Errorf("return %q: %d to %q, want %d to %q", tc.back, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.want)
		}
		// The session got a new token: read the new CSRF token.
		if resp.StatusCode == http.StatusSeeOther {
			r, err := h.Client.Get(h.URL + "/t/epsilon/account")
			if err != nil {
				t.Fatal(err)
			}
			csrf = testhost.CSRF(t, readAll(t, r))
		}
	}
}

// TestNoEscalation: an admin (who lacks billing.manage) can neither
// create a role carrying it nor grant the owner role, to others or to
// themselves.
func TestNoEscalation(t *testing.T) {
	h := testhost.Start(t, testhost.Options{})
	tn := h.CreateTenant(t, "eta", "Eta Co-op")
	const pw = "walnut balconies above the square"
	admin := h.CreateUser(t, tn, "admin@eta.example", pw, "admin")
	csrf := h.SignIn(t, h.Client, tn.Slug, "admin@eta.example", pw)
	postForm := func(path string, form url.Values) int {
		form.Set("csrf", csrf)
		resp, err := h.Client.PostForm(h.URL+"/t/eta"+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := postForm("/admin/roles", url.Values{"name": {"treasurer"}, "perm": {"billing.manage"}}); code != http.StatusForbidden {
		t.Errorf("role with billing.manage: %d, want 403", code)
	}
	if code := postForm("/admin/roles", url.Values{"name": {"clerk"}, "perm": {"users.read"}}); code != http.StatusSeeOther {
		t.Errorf("role within the admin's permissions: %d, want 303", code)
	}
	if code := postForm("/admin/users/"+admin.ID+"/roles", url.Values{"op": {"assign"}, "role": {"owner"}}); code != http.StatusForbidden {
		t.Errorf("admin making themselves owner: %d, want 403", code)
	}
	if code := postForm("/admin/sso", url.Values{"op": {"save"}, "name": {"corp"}, "kind": {"oidc"}, "display_name": {"Corp"},
		"issuer": {"https://idp.example"}, "client_id": {"plenum"}, "client_secret": {"s3cret-s3cret-s3cret"}, "role_claim": {"groups"},
		"role_mapping": {"staff = owner"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("SSO mapping to owner by an admin: %d, want 422", code)
	}
	if code := postForm("/admin/sso", url.Values{"op": {"save"}, "name": {"corp"}, "kind": {"oidc"}, "display_name": {"Corp"},
		"issuer": {"https://idp.example"}, "client_id": {"plenum"}, "client_secret": {"s3cret-s3cret-s3cret"}, "role_claim": {"groups"},
		"role_mapping": {"staff = board"}}); code != http.StatusSeeOther {
		t.Errorf("SSO mapping to board by an admin: %d, want 303", code)
	}
	if code := postForm("/admin/users/invite", url.Values{"email": {"crony@eta.example"}, "role": {"owner"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("admin inviting an owner: %d, want 422", code)
	}
	owner := h.CreateUser(t, tn, "owner@eta.example", "copper kites over the northern dunes", "owner")
	h.CreateUser(t, tn, "owner2@eta.example", "copper kites over the southern dunes", "owner")
	for _, op := range []string{"disable", "reset-mfa", "signout-all"} {
		if code := postForm("/admin/users/"+owner.ID, url.Values{"op": {op}}); code != http.StatusForbidden {
			t.Errorf("admin doing %s to an owner: %d, want 403", op, code)
		}
	}
	if code := postForm("/admin/users/"+owner.ID+"/roles", url.Values{"op": {"unassign"}, "role": {"owner"}}); code != http.StatusForbidden {
		t.Errorf("admin taking the owner role: %d, want 403", code)
	}
	if u, err := h.App.Users.Get(context.Background(), tn.ID, owner.ID); err != nil || u.Status != "active" {
		t.Errorf("owner after the admin's attempts: %+v %v", u, err)
	}
	roles, err := h.App.Access.RolesOf(context.Background(), tn.ID, admin.ID)
	if err != nil || len(roles) != 1 || roles[0] != "admin" {
		t.Errorf("admin's roles: %v %v", roles, err)
	}
}
