package app_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestTenantFormsRefuseBadInput posts hostile and malformed values to
// the tenant's forms: each gets a clear 4xx answer, nothing changes, and
// nothing hostile comes back unescaped.
func TestTenantFormsRefuseBadInput(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		tn := h.CreateTenant(t, "delta", "Delta Co-op")
		const pw = "saffron gondolas at twilight"
		h.CreateUser(t, tn, "owner@delta.example", pw, "owner")
		csrf := h.SignIn(t, h.Client, tn.Slug, "owner@delta.example", pw)
		base := h.URL + "/t/" + tn.Slug
		usersBefore := countUsers(t, h, tn.ID)
		settingsBefore, err := h.App.Users.Settings(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}

		post := func(path string, form url.Values, hdr map[string]string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := h.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, readAll(t, resp)
		}
		with := func(v url.Values) url.Values { v.Set("csrf", csrf); return v }

		for _, tc := range []struct {
			name string
			path string
			form url.Values
			hdr  map[string]string
			want int
			// mustNot must not appear in the answer (unescaped echo).
			mustNot string
		}{
			{name: "forged CSRF token", path: "/admin/users/invite", form: url.Values{"csrf": {"forged"}, "email": {"x@delta.example"}}, want: 403},
			{name: "no CSRF token", path: "/admin/users/invite", form: url.Values{"email": {"x@delta.example"}}, want: 403},
			{name: "cross-site post", path: "/admin/users/invite", form: with(url.Values{"email": {"x@delta.example"}}), hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 403},
			{name: "sign-in without its form token", path: "/signin", form: url.Values{"email": {"owner@delta.example"}, "password": {pw}}, want: 403},
			{name: "oversized e-mail", path: "/admin/users/invite", form: with(url.Values{"email": {strings.Repeat("a", 300) + "@delta.example"}}), want: 422},
			{name: "oversized name", path: "/admin/users/invite", form: with(url.Values{"email": {"y@delta.example"}, "name": {strings.Repeat("n", 2000)}}), want: 422},
			{name: "invalid UTF-8 name", path: "/admin/users/invite", form: with(url.Values{"email": {"y@delta.example"}, "name": {"Ad\xffa"}}), want: 422},
			{name: "SQL in the address", path: "/admin/users/invite", form: with(url.Values{"email": {"x'); DROP TABLE users;--@delta.example"}}), want: 422, mustNot: "DROP TABLE users;--@"},
			{name: "script in the address", path: "/admin/users/invite", form: with(url.Values{"email": {"<script>alert(1)</script>@delta.example"}}), want: 422, mustNot: "<script>alert(1)"},
			{name: "unknown role", path: "/admin/users/invite", form: with(url.Values{"email": {"y@delta.example"}, "role": {"overlord"}}), want: 422},
			{name: "role name with SQL", path: "/admin/roles", form: with(url.Values{"name": {"x'; DROP TABLE access_roles;--"}}), want: 422},
			{name: "built-in role changed", path: "/admin/roles", form: with(url.Values{"name": {"member"}, "perm": {"users.manage"}}), want: 422},
			{name: "unknown permission", path: "/admin/roles", form: with(url.Values{"name": {"clerk"}, "perm": {"everything.manage"}}), want: 422},
			{name: "policy that is not JSON", path: "/admin/policy", form: with(url.Values{"expected": {"0"}, "policy": {"<script>alert(1)</script>"}}), want: 422, mustNot: "<script>alert(1)"},
			{name: "policy with a typo", path: "/admin/policy", form: with(url.Values{"expected": {"0"}, "policy": {`{"rules":[{"role":"board","permissions":["ballots.manage"],"condition":"principal.rolez.size() > 0"}]}`}}), want: 422},
			{name: "policy with script in a condition", path: "/admin/policy", form: with(url.Values{"expected": {"0"}, "policy": {`{"rules":[{"role":"board","permissions":["ballots.manage"],"condition":"\"</textarea><script>alert(1)</script>\" == 1"}]}`}}), want: 422, mustNot: "<script>alert(1)"},
			{name: "policy from a stale version", path: "/admin/policy", form: with(url.Values{"expected": {"7"}, "policy": {`{"rules":[]}`}}), want: 409},
			{name: "policy version not a number", path: "/admin/policy", form: with(url.Values{"expected": {"1 OR 1=1"}, "policy": {`{"rules":[]}`}}), want: 400},
			{name: "security settings out of bounds", path: "/admin/security", form: with(url.Values{"min_password_length": {"4"}, "account_threshold": {"5"}, "ip_threshold": {"50"}, "delay_after": {"2"},
				"window": {"15m"}, "lock_for": {"5m"}, "max_lock_for": {"24h"}, "invitation_ttl": {"72h"}, "idle_timeout": {"30m"}, "absolute_timeout": {"12h"}, "mfa": {"optional"}}), want: 422},
			{name: "security settings garbage", path: "/admin/security", form: with(url.Values{"min_password_length": {"twelve"}}), want: 422},
			{name: "unknown user action", path: "/admin/users/0194b5e2-0000-7000-8000-000000000000", form: with(url.Values{"op": {"disable"}}), want: 404},
			{name: "user id with SQL", path: "/admin/users/1%27%20OR%20%271%27=%271", form: with(url.Values{"op": {"disable"}}), want: 404},
			{name: "replayed or unknown link token", path: "/link", form: with(url.Values{"token": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "password": {pw}, "confirm": {pw}}), want: 403},
			{name: "revoke a session that is not ours", path: "/account/sessions/revoke", form: with(url.Values{"session": {strings.Repeat("ab", 32)}}), want: 404},
			{name: "TOTP code that was never issued", path: "/account/totp/confirm", form: with(url.Values{"code": {"12345678901234567890"}}), want: 422},
		} {
			status, body := post(tc.path, tc.form, tc.hdr)
			if status != tc.want {
				t.Errorf("%s: status %d, want %d: %.300s", tc.name, status, tc.want, body)
			}
			if tc.mustNot != "" && strings.Contains(body, tc.mustNot) {
				t.Errorf("%s: answer echoes %q unescaped", tc.name, tc.mustNot)
			}
		}

		// A body beyond the limit is refused before it is read.
		// The server answers from the headers and may close the connection
		// while the client is still writing, which the client sees as a
		// reset: that is a refusal too.
		big := url.Values{"csrf": {csrf}, "name": {strings.Repeat("x", 2<<20)}}
		req, _ := http.NewRequest("POST", base+"/admin/users/invite", strings.NewReader(big.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err := h.Client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("2 MiB form: %d, want 413", resp.StatusCode)
			}
		} else if !strings.Contains(err.Error(), "connection reset") && !strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("2 MiB form: %v", err)
		}
		// A CSV import of binary junk is refused or reports every line.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", csrf)
		fw, _ := mw.CreateFormFile("csv", "owners.csv")
		_, _ = fw.Write([]byte("\x00\x01\x02\"\xff\xfe,\n\"unterminated"))
		_ = mw.Close()
		req, _ = http.NewRequest("POST", base+"/admin/users/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "not valid CSV") {
			t.Errorf("junk CSV: %d %.300s", resp.StatusCode, body)
		}

		// Nothing changed.
		if n := countUsers(t, h, tn.ID); n != usersBefore {
			t.Errorf("users: %d before, %d after", usersBefore, n)
		}
		if v, err := h.App.Access.CurrentPolicy(ctx, tn.ID); err != nil || v.Version != 0 {
			t.Errorf("policy changed: %d %v", v.Version, err)
		}
		if roles, err := h.App.Access.Roles(ctx, tn.ID); err != nil || len(roles) != 5 {
			t.Errorf("roles changed: %d %v", len(roles), err)
		}
		if s, err := h.App.Users.Settings(ctx, tn.ID); err != nil || s != settingsBefore {
			t.Errorf("settings changed: %+v %v", s, err)
		}
	})
}

func countUsers(t *testing.T, h *testhost.Host, tenantID string) int {
	t.Helper()
	us, err := h.App.Users.List(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}
