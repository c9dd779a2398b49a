package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plenum-vote/plenum/core/tenancy"
)

// tenants is an in-memory TenantStore; it can be told to panic, to test
// recovery. Tests that need the real service use realTenants.
type tenants struct {
	byslug map[string]*tenancy.Tenant
	panics bool
}

func (f *tenants) BySlug(_ context.Context, slug string) (*tenancy.Tenant, error) {
	if f.panics {
		panic("tenant store exploded with secret detail")
	}
	if t, ok := f.byslug[slug]; ok {
		return t, nil
	}
	return nil, tenancy.ErrNotFound
}

func (f *tenants) ByHost(_ context.Context, host string) (*tenancy.Tenant, error) {
	for _, t := range f.byslug {
		if t.Host != nil && *t.Host == host {
			return t, nil
		}
	}
	return nil, tenancy.ErrNotFound
}

func (f *tenants) List(context.Context, bool) ([]tenancy.Tenant, error) {
	var out []tenancy.Tenant
	for _, t := range f.byslug {
		out = append(out, *t)
	}
	return out, nil
}

func fakeTenants() *tenants {
	host := "rue12.example.org"
	return &tenants{byslug: map[string]*tenancy.Tenant{
		"rue-12":  {ID: "t-1", Slug: "rue-12", Name: "Rue de la Paix 12", Status: tenancy.Active, Host: &host},
		"paused":  {ID: "t-2", Slug: "paused", Name: "Paused", Status: tenancy.Suspended},
		"removed": {ID: "t-3", Slug: "removed", Name: "Removed", Status: tenancy.Deleted},
	}}
}

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newServer builds a server; deps.Tenants defaults to fakeTenants and
// deps.DB to a pinger that answers. It returns the log output.
func newServer(t *testing.T, opts Options, deps Deps) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	deps.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	if deps.Tenants == nil {
		deps.Tenants = fakeTenants()
	}
	if deps.DB == nil {
		deps.DB = pinger{}
	}
	if deps.Metrics == nil {
		deps.Metrics = prometheus.NewRegistry()
	}
	s, err := New(opts, deps)
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

// do runs req through the app (the peer address is 0.0.0.0) and returns
// the response with its body read.
func do(t *testing.T, s *Server, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := s.App().Test(req, int((10 * time.Second).Milliseconds()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func get(t *testing.T, s *Server, path string) (*http.Response, string) {
	t.Helper()
	return do(t, s, httptest.NewRequest("GET", path, nil))
}

// serve runs s on a loopback listener until t ends and returns its URL.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve after Shutdown: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "same-origin",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

func checkSecurityHeaders(t *testing.T, resp *http.Response, hsts bool) {
	t.Helper()
	for h, want := range securityHeaders {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	got := resp.Header.Get("Strict-Transport-Security")
	if hsts && got != "max-age=63072000; includeSubDomains" {
		t.Errorf("HSTS = %q", got)
	}
	if !hsts && got != "" {
		t.Errorf("HSTS %q over plain HTTP", got)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-ID")
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		method, path string
		accept       string
		status       int
		body         string
		ctype        string
	}{
		{"GET", "/", "", 200, "Operator console", "text/html"},
		{"HEAD", "/", "", 200, "", "text/html"},
		{"GET", "/healthz", "", 200, "ok", "text/plain"},
		{"GET", "/readyz", "", 200, `"ready"`, "application/json"},
		{"GET", "/static/plenum.css", "", 200, "--accent", "text/css"},
		{"GET", "/static/", "", 404, "There is nothing at this address.", "text/html"},
		{"GET", "/static/../web.go", "", 404, "", ""},
		{"GET", "/t/rue-12/", "", 200, "Rue de la Paix 12", "text/html"},
		{"GET", "/t/nobody/", "", 404, "There is nothing at this address.", "text/html"},
		{"GET", "/t/removed/", "", 404, "There is nothing at this address.", "text/html"},
		{"GET", "/t/paused/", "", 403, "space is suspended", "text/html"},
		{"GET", "/t/BAD%20SLUG/", "", 404, "", "text/html"},
		{"GET", "/no/such/page", "", 404, "There is nothing at this address.", "text/html"},
		{"GET", "/no/such/page", "application/json", 404, `"error":"There is nothing at this address."`, "application/json"},
		{"GET", "/api/nothing", "", 404, `"request_id"`, "application/json"},
		{"POST", "/healthz", "", 404, "", "text/html"},
		{"GET", "/operator/", "", 503, "not configured", "text/html"},
	}
	for _, https := range []bool{false, true} {
		base := "http://127.0.0.1:8080"
		if https {
			base = "https://plenum.example.org"
		}
		s, _ := newServer(t, Options{BaseURL: base}, Deps{})
		for _, tt := range tests {
			t.Run(base+" "+tt.method+" "+tt.path+" "+tt.accept, func(t *testing.T) {
				req := httptest.NewRequest(tt.method, tt.path, nil)
				if tt.accept != "" {
					req.Header.Set("Accept", tt.accept)
				}
				resp, body := do(t, s, req)
				if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
					t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.body)
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) {
					t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
				}
				checkSecurityHeaders(t, resp, https)
			})
		}
	}
}

func TestTLSMeansHSTS(t *testing.T) {
	s, _ := newServer(t, Options{TLS: true}, Deps{})
	resp, _ := get(t, s, "/healthz")
	checkSecurityHeaders(t, resp, true)
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		deps Deps
	}{
		{"no tenants", Options{}, Deps{DB: pinger{}}},
		{"no db", Options{}, Deps{Tenants: fakeTenants()}},
		{"relative base URL", Options{BaseURL: "plenum.example.org"}, Deps{Tenants: fakeTenants(), DB: pinger{}}},
		{"bad proxy", Options{TrustedProxies: []string{"10.0.0.0/33"}}, Deps{Tenants: fakeTenants(), DB: pinger{}}},
	} {
		if _, err := New(tc.opts, tc.deps); err == nil {
			t.Errorf("%s: New succeeded", tc.name)
		}
	}
	// Registering twice in one registry fails loudly rather than silently.
	reg := prometheus.NewRegistry()
	d := Deps{Tenants: fakeTenants(), DB: pinger{}, Metrics: reg}
	if _, err := New(Options{}, d); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{}, d); err == nil {
		t.Error("second server registered the same collectors")
	}
}

func TestStaticIsCachedImmutable(t *testing.T) {
	s, _ := newServer(t, Options{}, Deps{})
	_, page := get(t, s, "/")
	i := strings.Index(page, "/static/plenum.css?v=")
	if i < 0 {
		t.Fatal("layout does not link the versioned stylesheet")
	}
	url := page[i : i+len("/static/plenum.css?v=")+12]
	resp, _ := get(t, s, url)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("%d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	req := httptest.NewRequest("GET", url, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, _ := do(t, s, req); resp.StatusCode != 304 {
		t.Fatalf("conditional request: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s, "/static/missing.css"); resp.Header.Get("Cache-Control") != "" {
		t.Fatal("a 404 is cached")
	}
}

func TestRequestID(t *testing.T) {
	untrusted, _ := newServer(t, Options{}, Deps{})
	trusted, _ := newServer(t, Options{TrustedProxies: []string{"0.0.0.0/32"}}, Deps{})
	tests := []struct {
		name     string
		s        *Server
		incoming string
		want     string // "" means a fresh id
	}{
		{"none", untrusted, "", ""},
		{"spoofed by an untrusted peer", untrusted, "spoofed-id", ""},
		{"from a trusted proxy", trusted, "proxy-id-1", "proxy-id-1"},
		{"malformed from a trusted proxy", trusted, "bad id\"<x>", ""},
		{"too long from a trusted proxy", trusted, strings.Repeat("a", 65), ""},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/no/such/page", nil)
			if tt.incoming != "" {
				req.Header.Set("X-Request-ID", tt.incoming)
			}
			resp, body := do(t, tt.s, req)
			id := resp.Header.Get("X-Request-Id")
			if tt.want != "" && id != tt.want {
				t.Fatalf("id %q, want %q", id, tt.want)
			}
			if tt.want == "" && (len(id) != 16 || id == tt.incoming || seen[id]) {
				t.Fatalf("id %q is not a fresh random id", id)
			}
			seen[id] = true
			if !strings.Contains(body, id) {
				t.Error("the error page does not show the request id")
			}
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	s, logs := newServer(t, Options{}, Deps{Tenants: &tenants{panics: true}})
	resp, body := get(t, s, "/t/any/")
	if resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, leak := range []string{"secret detail", "goroutine", ".go:", "panic"} {
		if strings.Contains(body, leak) {
			t.Errorf("body reveals %q: %s", leak, body)
		}
	}
	if id := resp.Header.Get("X-Request-Id"); !strings.Contains(body, id) {
		t.Error("body lacks the request id")
	}
	checkSecurityHeaders(t, resp, false)
	out := logs.String()
	if !strings.Contains(out, "secret detail") || !strings.Contains(out, "goroutine") || !strings.Contains(out, `"level":"ERROR"`) {
		t.Fatalf("panic and stack not logged at error level: %s", out)
	}
	if !strings.Contains(out, `"status":500`) || !strings.Contains(out, `"route":"/t/:slug"`) {
		t.Errorf("access log misses the panicking request: %s", out)
	}
	if resp, _ := get(t, s, "/healthz"); resp.StatusCode != 200 {
		t.Fatal("server broken after panic")
	}
}

// failingTenants fails with an internal error that must not reach clients.
type failingTenants struct{ tenants }

func (failingTenants) BySlug(context.Context, string) (*tenancy.Tenant, error) {
	return nil, errors.New("connection to 10.1.2.3 refused: password authentication failed")
}

func TestInternalErrorsStayInternal(t *testing.T) {
	s, logs := newServer(t, Options{}, Deps{Tenants: &failingTenants{}})
	resp, body := get(t, s, "/t/alpha/")
	if resp.StatusCode != 500 || strings.Contains(body, "10.1.2.3") || strings.Contains(body, "password") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "10.1.2.3 refused") || !strings.Contains(logs.String(), resp.Header.Get("X-Request-Id")) {
		t.Fatal("cause not logged with the request id")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	tests := []struct {
		name   string
		db     Pinger
		path   string
		status int
		body   string
	}{
		{"healthz needs nothing", pinger{err: errors.New("down")}, "/healthz", 200, "ok"},
		{"ready", pinger{}, "/readyz", 200, `{"status":"ready"}`},
		{"not ready", pinger{err: errors.New("database at db.internal is down")}, "/readyz", 503, `{"failed":["database"],"status":"unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t, Options{}, Deps{DB: tt.db})
			resp, body := get(t, s, tt.path)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

// slowPinger blocks until its context ends.
type slowPinger struct{}

func (slowPinger) Ping(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func TestReadyzTimesOut(t *testing.T) {
	s, _ := newServer(t, Options{}, Deps{DB: slowPinger{}})
	start := time.Now()
	resp, _ := get(t, s, "/readyz")
	if resp.StatusCode != 503 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d after %v", resp.StatusCode, time.Since(start))
	}
}

func TestMetrics(t *testing.T) {
	s, _ := newServer(t, Options{}, Deps{})
	base := serve(t, s)
	fetch := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	fetch("/t/rue-12/")
	fetch("/t/nobody/")
	fetch("/no/such/page?x=1")
	code, body := fetch("/metrics")
	for _, want := range []string{
		`plenum_http_requests_total{method="GET",route="/t/:slug/",status="200"} 1`,
		`plenum_http_requests_total{method="GET",route="/t/:slug",status="404"} 1`,
		`plenum_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`plenum_http_request_duration_seconds_bucket{method="GET",route="/t/:slug/",le=`,
		`plenum_build_info{`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics %d lack %q:\n%s", code, want, body)
		}
	}
	if strings.Contains(body, "rue-12") || strings.Contains(body, "nobody") {
		t.Error("raw paths in metric labels")
	}
}

func TestMetricsOnlyFromAllowedNetworks(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		xff    string
		status int
	}{
		{"peer not allowed", Options{}, "", 404},
		{"peer allowed", Options{MetricsFrom: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}}, "", 200},
		{"untrusted peer cannot claim loopback", Options{}, "127.0.0.1", 404},
		{"client behind a trusted proxy", Options{TrustedProxies: []string{"0.0.0.0"}}, "127.0.0.1", 200},
		{"left-most entry is not believed", Options{TrustedProxies: []string{"0.0.0.0"}}, "127.0.0.1, 203.0.113.9", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t, tt.opts, Deps{})
			req := httptest.NewRequest("GET", "/metrics", nil)
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if resp, _ := do(t, s, req); resp.StatusCode != tt.status {
				t.Fatalf("%d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	s, _ := newServer(t, Options{BodyLimit: 1024}, Deps{})
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"body over the limit", func() *http.Request {
			r := httptest.NewRequest("POST", "/operator/signin", strings.NewReader(strings.Repeat("a", 4096)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 413},
		{"body within the limit", func() *http.Request {
			r := httptest.NewRequest("POST", "/operator/signin", strings.NewReader("csrf=x"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 503}, // the operator console is not configured here
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, s, tt.req())
			if resp.StatusCode != tt.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			checkSecurityHeaders(t, resp, false)
		})
	}
	// Fiber itself refuses what is over the upload limit or the header
	// buffer, before routing; app.Test reports those as errors, so these
	// go over a real connection.
	small, _ := newServer(t, Options{BodyLimit: 1024, UploadLimit: 2048}, Deps{})
	base := serve(t, small)
	for _, tc := range []struct {
		name   string
		method string
		header string
		body   string
		status int
		msg    string
	}{
		{"over the upload limit", "POST", "", strings.Repeat("a", 4096), 413, "too large"},
		{"headers over 16 KiB", "GET", strings.Repeat("b", 20<<10), "", 431, "headers are too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+"/healthz", strings.NewReader(tc.body))
			if tc.header != "" {
				req.Header.Set("X-Big", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.msg) {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			checkSecurityHeaders(t, resp, false)
		})
	}
}

// The access log has one line per request with the route pattern and
// tenant id, and no IP address, user agent, raw path, query string,
// cookie, form value or token.
func TestAccessLogHasNoPersonalData(t *testing.T) {
	s, logs := newServer(t, Options{TrustedProxies: []string{"0.0.0.0/32"}}, Deps{})
	req := httptest.NewRequest("GET", "/t/rue-12/?email=ada@example.org&token=s3cret", nil)
	req.Header.Set("User-Agent", "Secret-Agent/1.0")
	req.Header.Set("Cookie", "plenum_op=cookie-value")
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	do(t, s, req)
	req = httptest.NewRequest("POST", "/operator/signin", strings.NewReader("email=grace%40example.org&password=hunter2hunter2&csrf=tok"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(t, s, req)
	out := logs.String()
	for _, leak := range []string{"0.0.0.0", "198.51.100.77", "Secret-Agent", "ada@example.org", "grace", "hunter2", "s3cret", "cookie-value", "rue-12", "?"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q: %s", leak, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2: %s", len(lines), out)
	}
	for _, want := range []string{`"msg":"request"`, `"method":"GET"`, `"route":"/t/:slug/"`, `"status":200`, `"tenant_id":"t-1"`, `"request_id":"`, `"duration_ms":`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %s: %s", want, lines[0])
		}
	}
}

func TestHostTenants(t *testing.T) {
	s, _ := newServer(t, Options{HostTenants: true}, Deps{})
	tests := []struct {
		host, path string
		status     int
		body       string
	}{
		{"rue12.example.org", "/", 200, "Rue de la Paix 12"},
		{"rue12.example.org:8080", "/", 200, "Rue de la Paix 12"},
		{"plenum.example.org", "/", 200, "Operator console"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", tt.path, nil)
		req.Host = tt.host
		if resp, body := do(t, s, req); resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s%s: %d %q", tt.host, tt.path, resp.StatusCode, body)
		}
	}
	// Without HostTenants the host name is ignored.
	s, _ = newServer(t, Options{}, Deps{})
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "rue12.example.org"
	if _, body := do(t, s, req); !strings.Contains(body, "Operator console") {
		t.Error("tenant served by host name without HostTenants")
	}
}

func TestServeAndShutdown(t *testing.T) {
	s, _ := newServer(t, Options{TrustedProxies: []string{"127.0.0.1/32"}}, Deps{})
	base := serve(t, s)
	req, _ := http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("X-Request-ID", "proxy-id-2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "proxy-id-2" {
		t.Fatalf("%d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
}
