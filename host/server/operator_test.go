package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/identity"
)

// operators is an in-test OperatorAuth with one account,
// op@example.org / a-long-operator-password.
type operators struct {
	mu       sync.Mutex
	sessions map[string]*identity.Session
	metas    []identity.RequestMeta
	n        int
}

const (
	opEmail    = "op@example.org"
	opPassword = "a-long-operator-password"
)

func (o *operators) SignIn(_ context.Context, email, password string, meta identity.RequestMeta) (string, *identity.Session, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.metas = append(o.metas, meta)
	if email != opEmail || password != opPassword {
		return "", nil, identity.ErrInvalidCredentials
	}
	if o.sessions == nil {
		o.sessions = map[string]*identity.Session{}
	}
	o.n++
	token := "token-" + strings.Repeat("x", o.n)
	now := time.Now()
	s := &identity.Session{ID: "s" + token, OperatorID: "op-1", Email: email, CSRFToken: "session-csrf-" + token,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour)}
	o.sessions[token] = s
	return token, s, nil
}

func (o *operators) Session(_ context.Context, token string) (*identity.Session, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.sessions[token]; ok {
		return s, nil
	}
	return nil, identity.ErrNoSession
}

func (o *operators) SignOut(_ context.Context, token string, meta identity.RequestMeta) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.metas = append(o.metas, meta)
	if _, ok := o.sessions[token]; !ok {
		return identity.ErrNoSession
	}
	delete(o.sessions, token)
	return nil
}

// cleared reports whether c tells the browser to drop the cookie.
func cleared(c *http.Cookie) bool {
	return c != nil && c.Value == "" && (c.MaxAge < 0 || !c.Expires.IsZero() && c.Expires.Before(time.Now()))
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func cookieOf(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func postForm(t *testing.T, s *Server, path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		if c != nil {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return do(t, s, req)
}

func getWith(t *testing.T, s *Server, path string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return do(t, s, req)
}

// signinPage fetches the form and returns its CSRF cookie and field.
func signinPage(t *testing.T, s *Server) (*http.Cookie, string) {
	t.Helper()
	resp, body := get(t, s, "/operator/signin")
	c := cookieOf(resp, "plenum_signin_csrf")
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || c == nil || m == nil || c.Value != m[1] {
		t.Fatalf("sign-in page %d, cookie %v, field %v", resp.StatusCode, c, m)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("CSRF cookie %+v", c)
	}
	return c, m[1]
}

func TestOperatorSignIn(t *testing.T) {
	for _, https := range []bool{false, true} {
		base := "http://127.0.0.1:8080"
		if https {
			base = "https://plenum.example.org"
		}
		t.Run(base, func(t *testing.T) {
			ops := &operators{}
			s, logs := newServer(t, Options{BaseURL: base}, Deps{Tenants: realTenants(t), Operators: ops})

			// The console needs a session.
			resp, _ := get(t, s, "/operator/")
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/operator/signin" {
				t.Fatalf("anonymous console: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("operator redirect is cacheable")
			}

			csrfCookie, csrf := signinPage(t, s)
			good := url.Values{"email": {opEmail}, "password": {opPassword}, "csrf": {csrf}}
			wrong := url.Values{"email": {opEmail}, "password": {"not-the-password"}, "csrf": {csrf}}
			without := func(key string) url.Values {
				v := url.Values{}
				for k, vs := range good {
					if k != key {
						v[k] = vs
					}
				}
				return v
			}
			tests := []struct {
				name   string
				form   url.Values
				cookie *http.Cookie
				status int
				body   string
			}{
				{"no CSRF field", without("csrf"), csrfCookie, 403, "The form expired"},
				{"no CSRF cookie", good, nil, 403, "The form expired"},
				{"CSRF mismatch", url.Values{"email": {opEmail}, "password": {opPassword}, "csrf": {csrf + "x"}}, csrfCookie, 403, "The form expired"},
				{"wrong password", wrong, csrfCookie, 401, "E-mail or password is wrong."},
				{"unknown account", url.Values{"email": {"nobody@example.org"}, "password": {opPassword}, "csrf": {csrf}}, csrfCookie, 401, "E-mail or password is wrong."},
				{"oversized e-mail", url.Values{"email": {strings.Repeat("a", 300)}, "password": {opPassword}, "csrf": {csrf}}, csrfCookie, 401, "E-mail or password is wrong."},
			}
			for _, tt := range tests {
				resp, body := postForm(t, s, "/operator/signin", tt.form, tt.cookie)
				if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
					t.Errorf("%s: %d %q", tt.name, resp.StatusCode, body)
				}
				if cookieOf(resp, "plenum_op") != nil {
					t.Errorf("%s: session cookie set", tt.name)
				}
				if resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: cacheable", tt.name)
				}
				if tt.status == 401 && (strings.Contains(body, "not-the-password") || strings.Count(body, `role="alert"`) != 1) {
					t.Errorf("%s: page echoes the password or has no single message", tt.name)
				}
			}

			// A post another site makes is refused before anything else.
			req := httptest.NewRequest("POST", "/operator/signin", strings.NewReader(good.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.AddCookie(&http.Cookie{Name: csrfCookie.Name, Value: csrfCookie.Value})
			if resp, _ := do(t, s, req); resp.StatusCode != 403 {
				t.Errorf("cross-site post: %d", resp.StatusCode)
			}

			// Success.
			resp, _ = postForm(t, s, "/operator/signin", good, csrfCookie)
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/operator/" {
				t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			op := cookieOf(resp, "plenum_op")
			if op == nil || op.Value == "" || !op.HttpOnly || op.SameSite != http.SameSiteLaxMode || op.Path != "/" || op.Secure != https {
				t.Fatalf("session cookie %+v (want Secure=%v)", op, https)
			}
			if op.MaxAge <= 0 || op.MaxAge > 12*3600 {
				t.Errorf("session cookie MaxAge %d", op.MaxAge)
			}
			if c := cookieOf(resp, "plenum_signin_csrf"); !cleared(c) {
				t.Errorf("sign-in CSRF cookie not cleared: %+v", c)
			}

			// The console lists tenants, deleted ones included.
			resp, body := getWith(t, s, "/operator/", op)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("console: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
			for _, want := range []string{`<a href="/t/alpha/">alpha</a>`, "Résidence Les Tilleuls", "Beta Co-op", "Paused Club", "suspended", "Gone Society", "deleted", opEmail} {
				if !strings.Contains(body, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if strings.Contains(body, `href="/t/gone/"`) {
				t.Error("console links a deleted tenant")
			}
			checkSecurityHeaders(t, resp, https)

			// A signed-in operator skips the form.
			if resp, _ := getWith(t, s, "/operator/signin", op); resp.StatusCode != 303 {
				t.Errorf("signed-in sign-in page: %d", resp.StatusCode)
			}

			// Sign-out needs the session's CSRF token.
			for _, form := range []url.Values{{}, {"csrf": {csrf}}, {"csrf": {"session-csrf-wrong"}}} {
				if resp, _ := postForm(t, s, "/operator/signout", form, op); resp.StatusCode != 403 {
					t.Errorf("sign-out with %v: %d", form, resp.StatusCode)
				}
			}
			if resp, _ := postForm(t, s, "/operator/signout", url.Values{"csrf": {"session-csrf-" + op.Value}}); resp.StatusCode != 401 {
				t.Errorf("sign-out without a session: %d", resp.StatusCode)
			}
			resp, _ = postForm(t, s, "/operator/signout", url.Values{"csrf": {"session-csrf-" + op.Value}}, op)
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/operator/signin" {
				t.Fatalf("sign-out: %d", resp.StatusCode)
			}
			if c := cookieOf(resp, "plenum_op"); !cleared(c) || c.Secure != https {
				t.Errorf("session cookie not cleared: %+v", c)
			}
			if resp, _ := getWith(t, s, "/operator/", op); resp.StatusCode != 303 {
				t.Errorf("console after sign-out: %d", resp.StatusCode)
			}

			// The log holds no e-mail address, password or token.
			out := logs.String()
			for _, leak := range []string{opEmail, "nobody@example.org", opPassword, "not-the-password", op.Value, csrf} {
				if strings.Contains(out, leak) {
					t.Errorf("log contains %q", leak)
				}
			}
		})
	}
}

// The identity service is told where a sign-in came from: the peer, or the
// client a trusted proxy names (right-most untrusted hop).
func TestOperatorRequestMeta(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		xff     string
		want    string
	}{
		{"direct", nil, "", "0.0.0.0"},
		{"spoofed header from an untrusted peer", nil, "198.51.100.1", "0.0.0.0"},
		{"behind a trusted proxy", []string{"0.0.0.0/32"}, "198.51.100.1", "198.51.100.1"},
		{"client-chosen left-most hop ignored", []string{"0.0.0.0/32"}, "10.9.9.9, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", []string{"0.0.0.0/32", "10.0.0.0/8"}, "198.51.100.1, 10.0.0.2", "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := &operators{}
			s, _ := newServer(t, Options{TrustedProxies: tt.proxies}, Deps{Operators: ops})
			c, csrf := signinPage(t, s)
			req := httptest.NewRequest("POST", "/operator/signin", strings.NewReader(url.Values{"email": {opEmail}, "password": {opPassword}, "csrf": {csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("User-Agent", "TestBrowser/1")
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			resp, _ := do(t, s, req)
			if resp.StatusCode != 303 || len(ops.metas) != 1 {
				t.Fatalf("%d, %d calls", resp.StatusCode, len(ops.metas))
			}
			m := ops.metas[0]
			if m.IP != tt.want || m.UserAgent != "TestBrowser/1" || m.RequestID != resp.Header.Get("X-Request-Id") {
				t.Fatalf("meta %+v, want IP %s", m, tt.want)
			}
		})
	}
}
