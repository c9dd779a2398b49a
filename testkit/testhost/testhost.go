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
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/identity"
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
	// Localhost makes the base URL http://localhost:PORT instead of the
	// loopback address, for what needs a host name (passkeys' relying
	// party id cannot be an IP address).
	Localhost bool
	// SMSWebhook, when set, sends text messages to that URL signed with
	// SMSSecret (host/sms).
	SMSWebhook string
	// SMTP, when set (host:port), sends the host's e-mail there, in plain
	// text over loopback — testkit/mailtest's server. Otherwise mail is
	// written as files into the data directory.
	SMTP string
	// Log receives the host's log instead of the test's log (benchmarks
	// send it to io.Discard, so that the test log's buffering is not
	// measured).
	Log io.Writer
	// Tally installs the first-party tally plugins, built from the source
	// tree (cached by content), as `plenum serve` does in the source tree.
	Tally bool
}

// SMSSecret signs the test host's SMS webhook requests.
const SMSSecret = "plenum-test-sms-secret-0123456789abcdef"

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
	cfg.Backups = false // tests call App.DailyBackup themselves
	cfg.Database = config.Database{Driver: string(store.SQLite), DSN: filepath.Join(dir, "plenum.db")}
	if opts.DB.Driver != "" {
		cfg.Database = config.Database{Driver: string(opts.DB.Driver), DSN: opts.DB.DSN, Role: opts.DB.Role}
	}
	cfg.MasterKeyFile = filepath.Join(dir, "master.key")
	cfg.AuditKeyFile = filepath.Join(dir, "audit-signing.key")
	cfg.ShutdownTimeout = 5 * time.Second
	// Test identity providers run on loopback.
	cfg.SSOAllowPrivateNetworks = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg.Listen = ln.Addr().String()
	cfg.BaseURL = "http://" + cfg.Listen
	if opts.Localhost {
		cfg.BaseURL = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	if opts.SMSWebhook != "" {
		cfg.SMS = config.SMS{WebhookURL: opts.SMSWebhook, Secret: SMSSecret}
	}
	if opts.SMTP != "" {
		host, port, err := net.SplitHostPort(opts.SMTP)
		if err != nil {
			t.Fatalf("smtp address: %v", err)
		}
		cfg.Mail.SMTPHost, cfg.Mail.TLS = host, "none"
		cfg.Mail.SMTPPort, _ = strconv.Atoi(port)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logTo io.Writer = testWriter{t}
	if opts.Log != nil {
		logTo = opts.Log
	}
	a, err := app.Open(ctx, cfg, cfg.Logger(logTo), app.Options{Migrate: true})
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
	if opts.Tally {
		root := app.SourceRoot()
		if root == "" {
			t.Fatal("tally plugins: not inside the source tree")
		}
		if _, err := a.InstallBundled(ctx, root, nil); err != nil {
			cancel()
			a.Close()
			t.Fatalf("tally plugins: %v", err)
		}
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

// NewClient returns another cookie-keeping client that does not follow
// redirects: a second browser.
func (h *Host) NewClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CreateUser adds an active user with password pw to the tenant, holding
// roles, straight through the host's services.
func (h *Host) CreateUser(t testing.TB, tn *tenancy.Tenant, email, pw string, roles ...string) *identity.User {
	t.Helper()
	ctx := context.Background()
	u, tok, err := h.App.Users.Invite(ctx, tn.ID, "system", email, "", identity.RequestMeta{})
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	if _, err := h.App.Users.SetPasswordWithLink(ctx, tn.ID, tok, pw, false, identity.RequestMeta{}); err != nil {
		t.Fatalf("password of %s: %v", email, err)
	}
	for _, r := range roles {
		if err := h.App.Access.Assign(ctx, tn.ID, "system", u.ID, r); err != nil {
			t.Fatalf("assign %s to %s: %v", r, email, err)
		}
	}
	return u
}

// SignIn signs c in to the tenant with e-mail and password through the
// sign-in form, and returns the session's CSRF token (read from the
// account page). It fails t unless sign-in completes without a second
// factor.
func (h *Host) SignIn(t testing.TB, c *http.Client, slug, email, pw string) string {
	t.Helper()
	base := h.URL + "/t/" + slug
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := CSRF(t, string(body))
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {csrf}, "email": {email}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/"+slug+"/" {
		t.Fatalf("sign-in of %s: %d to %q", email, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = c.Get(base + "/account")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return CSRF(t, string(body))
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([A-Za-z0-9_-]+)"`)

// CSRF returns the first CSRF token in a page.
func CSRF(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in page: %.300s", page)
	}
	return m[1]
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
