package app_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/testkit/plugin"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// signIn signs the first operator in and returns the session's CSRF token.
func signIn(t *testing.T, h *testhost.Host) string {
	t.Helper()
	pw, err := os.ReadFile(h.First.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	_, page := h.Get(t, "/operator/signin")
	form := url.Values{"email": {h.First.OperatorEmail}, "password": {strings.TrimSpace(string(pw))}, "csrf": {csrfField.FindStringSubmatch(page)[1]}}
	if resp, _ := h.Do(t, "POST", "/operator/signin", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	_, console := h.Get(t, "/operator/")
	return csrfField.FindStringSubmatch(console)[1]
}

func TestOperatorPluginAPI(t *testing.T) {
	module := plugin.Build(t, filepath.Join("..", "..", "plugins", "majority"))
	manifest, err := os.ReadFile(filepath.Join("..", "..", "plugins", "majority", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		h.CreateTenant(t, "coop", "Co-op")
		// Without a session the API answers nothing useful.
		if resp, _ := h.Get(t, "/api/operator/plugins"); resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("anonymous: %d", resp.StatusCode)
		}
		csrf := signIn(t, h)
		do := func(method, path, ctype string, body []byte, token string) (*http.Response, string) {
			req, _ := http.NewRequest(method, h.URL+path, bytes.NewReader(body))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if token != "" {
				req.Header.Set("X-CSRF-Token", token)
			}
			resp, err := h.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			return resp, b.String()
		}
		upload := func(allowUnsigned bool) (string, []byte) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			fw, _ := mw.CreateFormFile("module", "plugin.wasm")
			fw.Write(module)
			fw, _ = mw.CreateFormFile("manifest", "plugin.json")
			fw.Write(manifest)
			if allowUnsigned {
				mw.WriteField("allow_unsigned", "true")
			}
			mw.Close()
			return mw.FormDataContentType(), buf.Bytes()
		}
		ct, body := upload(false)
		if resp, _ := do("POST", "/api/operator/plugins", ct, body, ""); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("install without CSRF token: %d", resp.StatusCode)
		}
		if resp, out := do("POST", "/api/operator/plugins", ct, body, csrf); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out, "not signed") {
			t.Fatalf("unsigned install: %d %s", resp.StatusCode, out)
		}
		ct, body = upload(true)
		if resp, out := do("POST", "/api/operator/plugins", ct, body, csrf); resp.StatusCode != http.StatusCreated || !strings.Contains(out, `"name":"majority"`) {
			t.Fatalf("install: %d %s", resp.StatusCode, out)
		}
		if resp, out := do("GET", "/api/operator/plugins", "", nil, ""); resp.StatusCode != 200 || !strings.Contains(out, "majority") {
			t.Fatalf("list: %d %s", resp.StatusCode, out)
		}
		enable := []byte(`{"plugin":"majority@0.1.0","config":{}}`)
		if resp, out := do("PUT", "/api/operator/tenants/coop/plugins/tally", "application/json", enable, csrf); resp.StatusCode != 200 {
			t.Fatalf("enable: %d %s", resp.StatusCode, out)
		}
		if resp, _ := do("PUT", "/api/operator/tenants/nobody/plugins/tally", "application/json", enable, csrf); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("enable for unknown tenant: %d", resp.StatusCode)
		}
		if resp, _ := do("PUT", "/api/operator/tenants/coop/plugins/embargo", "application/json", enable, csrf); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("enable for a hook the plugin lacks: %d", resp.StatusCode)
		}
		if resp, out := do("GET", "/api/operator/tenants/coop/plugins", "", nil, ""); resp.StatusCode != 200 || !strings.Contains(out, `"hook":"tally"`) {
			t.Fatalf("bindings: %d %s", resp.StatusCode, out)
		}
		if resp, _ := do("DELETE", "/api/operator/tenants/coop/plugins/tally", "", nil, csrf); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("disable: %d", resp.StatusCode)
		}
	})
}
