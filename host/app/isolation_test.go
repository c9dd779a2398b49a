package app_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/host/registry"
	"github.com/plenum-vote/plenum/testkit/plugin"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// headRow and checkpointRow reach the audit log's tenant-owned tables the
// way any scoped query would.
type headRow struct {
	bun.BaseModel `bun:"table:audit_heads"`
	store.Owned
	Seq int64 `bun:"seq"`
}

// scopedProbe counts, inside tenant A's scope, the rows of one
// tenant-owned table that belong to tenant B (identified by B's row ids or
// simply by B's tenant id). Every tenant-owned table must have a probe:
// TestIsolation fails when a table with a tenant_id column has none, so
// new tables join this test as they are added.
type scopedProbe func(ctx context.Context, tx *store.Tx, other string) (int, error)

var scopedProbes = map[string]scopedProbe{
	"audit_events": func(ctx context.Context, tx *store.Tx, other string) (int, error) {
		n, err := tx.Select((*audit.Record)(nil)).WhereOr("tenant_id = ?", other).Count(ctx)
		return int(n), err
	},
	"audit_heads": func(ctx context.Context, tx *store.Tx, other string) (int, error) {
		n, err := tx.Select((*headRow)(nil)).WhereOr("tenant_id = ?", other).Count(ctx)
		return int(n), err
	},
	"tenant_plugins": func(ctx context.Context, tx *store.Tx, other string) (int, error) {
		n, err := tx.Select((*registry.Binding)(nil)).WhereOr("tenant_id = ?", other).Count(ctx)
		return int(n), err
	},
	"audit_checkpoints": func(ctx context.Context, tx *store.Tx, other string) (int, error) {
		n, err := tx.Select((*audit.Checkpoint)(nil)).WhereOr("tenant_id = ?", other).Count(ctx)
		return int(n), err
	},
}

// platformTables have a tenant_id column but are platform data, reached
// only through store.System: the keyring's wrapped keys.
var platformTables = map[string]string{
	"tenant_keys": "wrapped data keys, read only by core/crypto through System()",
}

// routeCase asks tenant A's space for something of tenant B. {a} and {b}
// are the slugs, {bid} B's tenant id.
type routeCase struct {
	method, path string
	// wantBStatus: what B's own request gets (to show the route works).
	wantOwn int
}

var tenantRoutes = map[string]routeCase{
	"GET /t/:slug/": {method: "GET", path: "/t/{a}/", wantOwn: 200},
}

func TestIsolation(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		a := h.CreateTenant(t, "alpha", "Alpha Housing Co-op")
		b := h.CreateTenant(t, "bravo", "Bravo Residents")
		// Each tenant enables a plugin, so tenant_plugins has rows of both.
		module := plugin.Build(t, filepath.Join("..", "..", "plugins", "majority"))
		manifest, err := os.ReadFile(filepath.Join("..", "..", "plugins", "majority", "plugin.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.App.Registry.Install(ctx, registry.InstallRequest{Module: module, Manifest: manifest, AllowUnsigned: true}); err != nil {
			t.Fatal(err)
		}
		for _, tn := range []string{a.ID, b.ID} {
			if _, err := h.App.Registry.Enable(ctx, registry.EnableRequest{TenantID: tn, Hook: "tally", Plugin: "majority", Version: "0.1.0"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.App.Audit.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}

		// Every tenant-owned table has a probe, and A sees none of B's rows.
		for _, table := range tenantTables(t, h.App.DB) {
			probe, ok := scopedProbes[table]
			if !ok {
				if _, platform := platformTables[table]; !platform {
					t.Errorf("table %s has tenant_id but no isolation probe: add one to scopedProbes", table)
				}
				continue
			}
			for _, pair := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				s, err := h.App.DB.Scoped(pair[0])
				if err != nil {
					t.Fatal(err)
				}
				err = s.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					n, err := probe(ctx, tx, pair[1])
					if n != 0 {
						t.Errorf("%s: tenant %s sees %d rows of tenant %s", table, pair[0], n, pair[1])
					}
					return err
				})
				if err != nil {
					t.Fatalf("%s: %v", table, err)
				}
			}
		}

		// Every tenant route has a case; asked in A's space, nothing of B's
		// comes back.
		for _, r := range h.App.Server.App().GetRoutes(true) {
			if !strings.HasPrefix(r.Path, "/t/:slug") || r.Method == "HEAD" || r.Method == "USE" {
				continue
			}
			key := r.Method + " " + r.Path
			rc, ok := tenantRoutes[key]
			if !ok {
				t.Errorf("route %s has no isolation case: add one to tenantRoutes", key)
				continue
			}
			path := strings.NewReplacer("{a}", a.Slug, "{b}", b.Slug, "{bid}", b.ID).Replace(rc.path)
			req, _ := http.NewRequest(rc.method, h.URL+path, nil)
			resp, err := h.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if strings.Contains(body, b.Name) || strings.Contains(body, b.ID) {
				t.Errorf("%s in A's space shows B's data", key)
			}
			own := strings.NewReplacer("{a}", b.Slug).Replace(rc.path)
			if resp, _ := h.Get(t, own); resp.StatusCode != rc.wantOwn {
				t.Errorf("%s for its own tenant: %d, want %d", key, resp.StatusCode, rc.wantOwn)
			}
		}
	})
}

// tenantTables lists the tables that have a tenant_id column.
func tenantTables(t *testing.T, db *store.DB) []string {
	t.Helper()
	var names []string
	err := db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var q string
		if db.Dialect() == store.Postgres {
			q = "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'tenant_id'"
		} else {
			q = "SELECT m.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c WHERE m.type = 'table' AND c.name = 'tenant_id'"
		}
		return tx.NewRaw(q).Scan(ctx, &names)
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no tenant tables found")
	}
	return names
}

// On PostgreSQL every tenant-owned table has row-level security enabled,
// forced on the owner, and a policy.
func TestRowLevelSecurityOnEveryTenantTable(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		if h.App.DB.Dialect() != store.Postgres {
			t.Skip("row-level security exists on PostgreSQL only")
		}
		for _, table := range tenantTables(t, h.App.DB) {
			if _, platform := platformTables[table]; platform {
				continue
			}
			var enabled, forced bool
			var policies int
			err := h.App.DB.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				if err := tx.QueryRowContext(ctx, `SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_class AS c
					JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = ?`, table).Scan(&enabled, &forced); err != nil {
					return err
				}
				return tx.QueryRowContext(ctx, "SELECT count(*) FROM pg_policies WHERE schemaname = current_schema() AND tablename = ?", table).Scan(&policies)
			})
			if err != nil {
				t.Fatal(err)
			}
			if !enabled || !forced || policies == 0 {
				t.Errorf("%s: rls enabled=%v forced=%v policies=%d", table, enabled, forced, policies)
			}
		}
	})
}
