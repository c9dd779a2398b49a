// Package testhost starts a real Plenum host for tests: the same assembly
// as `plenum serve`, on a random loopback port, against a fresh SQLite file
// or a fresh PostgreSQL schema, with an HTTP client that keeps cookies.
package testhost

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/app"
	"github.com/plenum-vote/plenum/host/config"
	"github.com/plenum-vote/plenum/testkit"
)

// Options configure Start.
type Options struct {
	// DB is the database to use; the zero value means a fresh SQLite file.
	DB store.Config
	// Demo creates the demo tenant on start, as `plenum serve` does by
	// default.
	Demo bool
}

// Host is a running host.
type Host struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// App gives tests the host's services (tenants, audit log, …).
	App *app.App
	// First is what the first-start set-up created.
	First *app.FirstStart
	// Client keeps cookies and does not follow redirects, so tests see
	// them.
	Client *http.Client
}

// Start runs a host until t ends.
func Start(t testing.TB, opts Options) *Host {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Demo = opts.Demo
	cfg.Database = config.Database{Driver: string(store.SQLite), DSN: filepath.Join(dir, "plenum.db")}
	if opts.DB.Driver != "" {
		cfg.Database = config.Database{Driver: string(opts.DB.Driver), DSN: opts.DB.DSN, Role: opts.DB.Role}
	}
	cfg.MasterKeyFile = filepath.Join(dir, "master.key")
	cfg.AuditKeyFile = filepath.Join(dir, "audit-signing.key")
	cfg.ShutdownTimeout = 5 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg.Listen = ln.Addr().String()
	cfg.BaseURL = "http://" + cfg.Listen
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, cfg.Logger(testWriter{t}), app.Options{Migrate: true})
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("open host: %v", err)
	}
	first, err := a.Bootstrap(ctx)
	if err != nil {
		cancel()
		ln.Close()
		a.Close()
		t.Fatalf("bootstrap: %v", err)
	}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- a.Serve(ctx, ln, func(net.Addr) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		a.Close()
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	jar, _ := cookiejar.New(nil)
	return &Host{
		URL: cfg.BaseURL, App: a, First: first,
		Client: &http.Client{
			Jar:           jar,
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// StartEach runs fn against a host on every engine from
// testkit.Databases: SQLite always, PostgreSQL when configured.
func StartEach(t *testing.T, opts Options, fn func(t *testing.T, h *Host)) {
	t.Helper()
	for _, c := range testkit.Databases(t) {
		t.Run(c.Name, func(t *testing.T) {
			o := opts
			o.DB = c.Config
			fn(t, Start(t, o))
		})
	}
}

// CreateTenant creates a tenant through the host's tenancy service.
func (h *Host) CreateTenant(t testing.TB, slug, name string) *tenancy.Tenant {
	t.Helper()
	tn, err := h.App.Tenants.Create(context.Background(), tenancy.CreateRequest{Slug: slug, Name: name, Actor: "test"})
	if err != nil {
		t.Fatalf("create tenant %s: %v", slug, err)
	}
	return tn
}

// Get fetches path and returns the response with its body read.
func (h *Host) Get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	return h.Do(t, http.MethodGet, path, "", nil)
}

// Do sends a request with an optional body and returns the response with
// its body read.
func (h *Host) Do(t testing.TB, method, path, contentType string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, body)
	if err != nil {
		t.Fatalf("request %s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp, string(b)
}

// testWriter sends the host's log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
