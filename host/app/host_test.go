package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestFirstStartAndOperatorSignIn follows what a person does after
// `go tool task run`: open the demo association, sign in to the console
// with the printed credentials, see the tenants, sign out.
func TestFirstStartAndOperatorSignIn(t *testing.T) {
	testhost.StartEach(t, testhost.Options{Demo: true}, func(t *testing.T, h *testhost.Host) {
		if !h.First.OperatorCreated || h.First.DemoTenant == nil {
			t.Fatalf("first start: %+v", h.First)
		}
		pw, err := os.ReadFile(h.First.PasswordFile)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(h.First.PasswordFile); st.Mode().Perm() != 0o600 {
			t.Fatalf("password file mode %v", st.Mode())
		}
		if resp, body := h.Get(t, "/t/demo/"); resp.StatusCode != 200 || !strings.Contains(body, "Demo Residents") {
			t.Fatalf("demo tenant page: %d", resp.StatusCode)
		}
		if resp, _ := h.Get(t, "/operator/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/operator/signin" {
			t.Fatalf("console without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		signin := func(password, csrf string) (*http.Response, string) {
			form := url.Values{"email": {h.First.OperatorEmail}, "password": {password}, "csrf": {csrf}}
			return h.Do(t, "POST", "/operator/signin", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		}
		_, page := h.Get(t, "/operator/signin")
		csrf := csrfField.FindStringSubmatch(page)[1]
		if resp, _ := signin(strings.TrimSpace(string(pw)), "forged"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged CSRF: %d", resp.StatusCode)
		}
		if resp, body := signin("wrong password, long enough", csrf); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "E-mail or password is wrong.") {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}
		_, page = h.Get(t, "/operator/signin")
		csrf = csrfField.FindStringSubmatch(page)[1]
		resp, _ := signin(strings.TrimSpace(string(pw)), csrf)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "plenum_op" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie %+v", cookie)
		}
		resp, body := h.Get(t, "/operator/")
		if resp.StatusCode != 200 || !strings.Contains(body, "demo") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("console: %d", resp.StatusCode)
		}
		csrf = csrfField.FindStringSubmatch(body)[1]
		if resp, _ := h.Do(t, "POST", "/operator/signout", "application/x-www-form-urlencoded", strings.NewReader("csrf=forged")); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("sign-out with forged CSRF: %d", resp.StatusCode)
		}
		if resp, _ := h.Do(t, "POST", "/operator/signout", "application/x-www-form-urlencoded", strings.NewReader("csrf="+url.QueryEscape(csrf))); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", resp.StatusCode)
		}
		if resp, _ := h.Get(t, "/operator/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("console after sign-out: %d", resp.StatusCode)
		}
		// Every step is in the audit log, which verifies, and no personal
		// data is in clear in the export.
		var buf strings.Builder
		if _, err := h.App.Audit.ExportECS(context.Background(), &buf, audit.ExportOptions{TenantID: audit.PlatformChain}); err != nil {
			t.Fatal(err)
		}
		for _, action := range []string{"operator.create", "operator.signin", "operator.signout"} {
			if !strings.Contains(buf.String(), `"action":"`+action+`"`) {
				t.Errorf("no %s event", action)
			}
		}
		if strings.Contains(buf.String(), "127.0.0.1") || strings.Contains(buf.String(), "@plenum") {
			t.Error("personal data in clear in the audit export")
		}
		rep, err := h.App.Audit.Verify(context.Background(), audit.VerifyOptions{})
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}
