package server

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/testkit"
)

// noKeys and noAudit stand in for the keyring and the audit log, which
// have their own tests.
type noKeys struct{}

func (noKeys) CreateKey(context.Context, bun.Tx, string) error { return nil }

type noAudit struct{}

func (noAudit) Record(context.Context, *store.Tx, tenancy.Change) error { return nil }

// realTenants returns a tenancy.Service over a fresh SQLite database with
// four tenants: alpha (active, host alpha.example.org), beta (active),
// paused (suspended) and gone (deleted).
func realTenants(t *testing.T) *tenancy.Service {
	t.Helper()
	ctx := context.Background()
	svc := tenancy.NewService(testkit.OpenDB(t, testkit.SQLiteConfig(t)), noKeys{}, noAudit{}, nil)
	for _, r := range []tenancy.CreateRequest{
		{Slug: "alpha", Name: "Résidence Les Tilleuls", Host: "alpha.example.org"},
		{Slug: "beta", Name: "Beta Co-op"},
		{Slug: "paused", Name: "Paused Club"},
		{Slug: "gone", Name: "Gone Society"},
	} {
		tn, err := svc.Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		switch tn.Slug {
		case "paused":
			_, err = svc.SetStatus(ctx, tn.ID, tenancy.Suspended, "test")
		case "gone":
			_, err = svc.Delete(ctx, tn.ID, "test")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

func TestTenantLanding(t *testing.T) {
	svc := realTenants(t)
	alpha, err := svc.BySlug(context.Background(), "alpha")
	if err != nil {
		t.Fatal(err)
	}
	s, logs := newServer(t, Options{HostTenants: true}, Deps{Tenants: svc})
	tests := []struct {
		name, host, path string
		status           int
		body             string
	}{
		{"by slug", "", "/t/alpha/", 200, "<h1>Résidence Les Tilleuls</h1>"},
		{"title names the tenant", "", "/t/alpha/", 200, "<title>Résidence Les Tilleuls — Plenum</title>"},
		{"unknown slug", "", "/t/nobody/", 404, "There is nothing at this address."},
		{"invalid slug", "", "/t/Not%20A%20Slug/", 404, "There is nothing at this address."},
		{"deleted", "", "/t/gone/", 404, "There is nothing at this address."},
		{"suspended", "", "/t/paused/", 403, "This association&#39;s space is suspended."},
		{"own host name", "alpha.example.org", "/", 200, "<h1>Résidence Les Tilleuls</h1>"},
		{"own host name, own slug", "alpha.example.org", "/t/alpha/", 200, "Résidence Les Tilleuls"},
		{"own host name serves no other tenant", "alpha.example.org", "/t/beta/", 404, "There is nothing at this address."},
		{"platform host", "plenum.example.org", "/t/beta/", 200, "Beta Co-op"},
		{"platform host start page", "plenum.example.org", "/", 200, "Operator console"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, body := do(t, s, req)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.body)
			}
			checkSecurityHeaders(t, resp, false)
			if strings.Contains(body, "identity work") {
				t.Error("internal roadmap shown to users")
			}
		})
	}
	if !strings.Contains(logs.String(), `"tenant_id":"`+alpha.ID+`"`) {
		t.Error("access log lacks the tenant id")
	}
}

// Handlers behind /t/:slug see the tenant in the request's context and in
// Locals.
func TestTenantInContext(t *testing.T) {
	s, _ := newServer(t, Options{}, Deps{Tenants: realTenants(t)})
	app := fiber.New(fiber.Config{ErrorHandler: s.handleError})
	var got *tenancy.Tenant
	app.Get("/t/:slug/probe", s.withTenant, func(c *fiber.Ctx) error {
		got, _ = tenancy.FromContext(c.UserContext())
		if tenantOf(c) != got {
			t.Error("Locals and context disagree")
		}
		return c.SendString("ok")
	})
	resp, err := app.Test(httptest.NewRequest("GET", "/t/beta/probe", nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || got == nil || got.Slug != "beta" {
		t.Fatalf("%d, tenant %+v", resp.StatusCode, got)
	}
	resp, err = app.Test(httptest.NewRequest("GET", "/t/paused/probe", nil))
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("suspended: %v %v", resp, err)
	}
}
