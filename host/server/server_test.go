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
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plenum-vote/plenum/core/tenancy"
)

// tenants is an in-memory TenantStore; it can be told to panic, to test
// recovery.
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

func (f *tenants) List(context.Context, bool) ([]tenancy.Tenant, error) { return nil, nil }

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func newTest(t *testing.T, opts Options, ts *tenants, db Pinger) (*Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	if ts == nil {
		host := "rue12.example.org"
		ts = &tenants{byslug: map[string]*tenancy.Tenant{
			"rue-12":  {ID: "t-1", Slug: "rue-12", Name: "Rue de la Paix 12", Status: tenancy.Active, Host: &host},
			"paused":  {ID: "t-2", Slug: "paused", Name: "Paused", Status: tenancy.Suspended},
			"removed": {ID: "t-3", Slug: "removed", Name: "Removed", Status: tenancy.Deleted},
		}}
	}
	if db == nil {
		db = pinger{}
	}
	s, err := New(opts, Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Tenants: ts, DB: db, Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

func do(t *testing.T, s *Server, req *http.Request) (*http.Response, string) {
	t.Helper()
	if req.RemoteAddr == "" {
		req.RemoteAddr = "203.0.113.5:4000"
	}
	resp, err := s.App().Test(req, int((5 * time.Second).Milliseconds()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
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
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestRoutes(t *testing.T) {
	s, _ := newTest(t, Options{BaseURL: "http://127.0.0.1:8080"}, nil, nil)
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, "Operator console"},
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/readyz", 200, `"ready"`},
		{"GET", "/static/plenum.css", 200, "--accent"},
		{"GET", "/t/rue-12/", 200, "Rue de la Paix 12"},
		{"GET", "/t/rue-12", 200, "Rue de la Paix 12"},
		{"GET", "/t/nobody/", 404, "There is nothing at this address."},
		{"GET", "/t/removed/", 404, "There is nothing at this address."},
		{"GET", "/t/paused/", 403, "suspended"},
		{"GET", "/t/BAD%20SLUG/", 404, ""},
		{"GET", "/no/such/page", 404, "There is nothing at this address."},
		{"GET", "/operator/", 503, "not configured"},
		{"GET", "/api/nothing", 404, `"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := do(t, s, httptest.NewRequest(tt.method, tt.path, nil))
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.body)
			}
			for h, want := range map[string]string{
				"Content-Security-Policy":      "frame-ancestors 'none'",
				"X-Content-Type-Options":       "nosniff",
				"Referrer-Policy":              "same-origin",
				"Cross-Origin-Opener-Policy":   "same-origin",
				"Cross-Origin-Resource-Policy": "same-origin",
				"Permissions-Policy":           "camera=()",
			} {
				if !strings.Contains(resp.Header.Get(h), want) {
					t.Errorf("header %s = %q, want %q", h, resp.Header.Get(h), want)
				}
			}
			if resp.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no request id")
			}
		})
	}
}

func TestHSTSWhenHTTPS(t *testing.T) {
	s, _ := newTest(t, Options{BaseURL: "https://plenum.example.org"}, nil, nil)
	resp, _ := do(t, s, httptest.NewRequest("GET", "/healthz", nil))
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "includeSubDomains") {
		t.Fatalf("HSTS = %q", got)
	}
}

func TestHostTenants(t *testing.T) {
	s, _ := newTest(t, Options{HostTenants: true}, nil, nil)
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "rue12.example.org"
	if _, body := do(t, s, req); !strings.Contains(body, "Rue de la Paix 12") {
		t.Fatal("tenant not served by host name")
	}
}

func TestRequestIDFromProxies(t *testing.T) {
	untrusted, _ := newTest(t, Options{}, nil, nil)
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-ID", "spoofed-id")
	if resp, _ := do(t, untrusted, req); resp.Header.Get("X-Request-Id") == "spoofed-id" {
		t.Fatal("request id taken from an untrusted peer")
	}
	trusted, _ := newTest(t, Options{TrustedProxies: []string{"127.0.0.1/32"}}, nil, nil)
	req, _ = http.NewRequest("GET", serve(t, trusted)+"/healthz", nil)
	req.Header.Set("X-Request-ID", "proxy-id-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "proxy-id-1" {
		t.Fatal("request id of a trusted proxy ignored")
	}
}

func TestPanicRecovered(t *testing.T) {
	s, logs := newTest(t, Options{}, &tenants{panics: true}, nil)
	resp, body := do(t, s, httptest.NewRequest("GET", "/t/any/", nil))
	if resp.StatusCode != 500 || strings.Contains(body, "secret detail") || strings.Contains(body, "goroutine") {
		t.Fatalf("panic answer %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "secret detail") {
		t.Fatal("panic not logged")
	}
	// The server keeps serving.
	if resp, _ := do(t, s, httptest.NewRequest("GET", "/healthz", nil)); resp.StatusCode != 200 {
		t.Fatal("server broken after panic")
	}
}

func TestReadyzFails(t *testing.T) {
	s, _ := newTest(t, Options{}, nil, pinger{err: errors.New("database is down")})
	resp, body := do(t, s, httptest.NewRequest("GET", "/readyz", nil))
	if resp.StatusCode != 503 || !strings.Contains(body, `"database"`) || strings.Contains(body, "is down") {
		t.Fatalf("readyz %d %q", resp.StatusCode, body)
	}
}

func TestMetrics(t *testing.T) {
	s, _ := newTest(t, Options{}, nil, nil)
	base := serve(t, s)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get("/t/rue-12/")
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `plenum_http_requests_total{method="GET",route="/t/:slug/",status="200"} 1`) || !strings.Contains(body, "plenum_build_info") {
		t.Fatalf("metrics %d:\n%s", code, body)
	}
	// Only the configured networks may read metrics.
	closed, _ := newTest(t, Options{MetricsFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil, nil)
	resp, err := http.Get(serve(t, closed) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("metrics served outside MetricsFrom: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	s, _ := newTest(t, Options{BodyLimit: 1024}, nil, nil)
	req := httptest.NewRequest("POST", "/operator/signin", strings.NewReader(strings.Repeat("a", 4096)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.App().Test(req)
	if err == nil && resp.StatusCode != 413 {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
}

// The access log carries no IP address, user agent, query string, slug
// values or cookies.
func TestAccessLogHasNoPersonalData(t *testing.T) {
	s, logs := newTest(t, Options{}, nil, nil)
	req := httptest.NewRequest("GET", "/t/rue-12/?email=ada@example.org&token=s3cret", nil)
	req.Header.Set("User-Agent", "Secret-Agent/1.0")
	req.Header.Set("Cookie", "plenum_op=cookie-value")
	do(t, s, req)
	out := logs.String()
	for _, leak := range []string{"203.0.113.5", "Secret-Agent", "ada@example.org", "s3cret", "cookie-value", "rue-12"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, `"route":"/t/:slug/"`) || !strings.Contains(out, `"tenant":"t-1"`) {
		t.Errorf("log lacks route pattern or tenant: %s", out)
	}
}
