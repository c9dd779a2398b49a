package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

type note struct {
	bun.BaseModel `bun:"table:test_notes"`
	store.Owned
	ID   int64  `bun:"id,pk"`
	Body string `bun:"body"`
}

type platformRow struct {
	bun.BaseModel `bun:"table:tenants"`
	ID            string `bun:"id,pk"`
}

// createNotes makes a tenant-owned table the way migrations do, with
// row-level security on PostgreSQL.
func createNotes(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "CREATE TABLE test_notes (id BIGINT PRIMARY KEY, tenant_id TEXT NOT NULL, body TEXT)"); err != nil {
			return err
		}
		if db.Dialect() != store.Postgres {
			return nil
		}
		_, err := tx.ExecContext(ctx, `ALTER TABLE test_notes ENABLE ROW LEVEL SECURITY;
			ALTER TABLE test_notes FORCE ROW LEVEL SECURITY;
			CREATE POLICY tenant_isolation ON test_notes USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id))`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScopedIsolation(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		createNotes(t, db)
		a, _ := db.Scoped("tenant-a")
		b, _ := db.Scoped("tenant-b")
		insert := func(s *store.Scoped, rows ...*note) {
			t.Helper()
			if err := s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.Insert(ctx, &rows) }); err != nil {
				t.Fatal(err)
			}
		}
		insert(a, &note{ID: 1, Body: "a1"}, &note{ID: 2, Body: "a2"})
		insert(b, &note{ID: 3, Body: "b1"})

		count := func(s *store.Scoped, where string, args ...any) int {
			t.Helper()
			var n int
			err := s.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
				q := tx.Select((*note)(nil))
				if where != "" {
					q = q.Where(where, args...)
				}
				c, err := q.Count(ctx)
				n = int(c)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(a, ""); n != 2 {
			t.Errorf("tenant A sees %d notes, want 2", n)
		}
		if n := count(a, "id = ?", 3); n != 0 {
			t.Errorf("tenant A sees tenant B's note by id")
		}
		// Update and delete by tenant A of B's row change nothing.
		err := a.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			res, err := tx.Update((*note)(nil)).Set("body = 'hijacked'").Where("id = ?", 3).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 0 {
				t.Errorf("update reached %d rows of another tenant", n)
			}
			res, err = tx.Delete((*note)(nil)).Where("id = ?", 3).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 0 {
				t.Errorf("delete reached %d rows of another tenant", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(b, "body = ?", "b1"); n != 1 {
			t.Errorf("tenant B's note changed")
		}
		// Writing a row that names another tenant is refused.
		err = a.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.Insert(ctx, &note{Owned: store.Owned{TenantID: "tenant-b"}, ID: 9})
		})
		if !errors.Is(err, store.ErrCrossTenant) {
			t.Errorf("cross-tenant insert = %v, want ErrCrossTenant", err)
		}
		// Models that are not tenant-owned cannot go through a scoped handle.
		err = a.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			var rows []platformRow
			return tx.Select(&rows).Scan(ctx)
		})
		if !errors.Is(err, store.ErrNotTenantOwned) {
			t.Errorf("select of platform table = %v, want ErrNotTenantOwned", err)
		}
		err = a.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.Insert(ctx, &platformRow{ID: "x"})
		})
		if !errors.Is(err, store.ErrNotTenantOwned) {
			t.Errorf("insert into platform table = %v, want ErrNotTenantOwned", err)
		}
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = a.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.Insert(ctx, &note{ID: 10, Body: "half"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if n := count(a, "id = ?", 10); n != 0 {
			t.Errorf("rolled-back row is visible")
		}
	})
}

// On PostgreSQL row-level security holds a second time, for hand-written
// SQL that forgets the tenant filter, and hides everything outside a scope.
func TestRowLevelSecurity(t *testing.T) {
	for _, c := range testkit.Databases(t) {
		if c.Name != "postgres" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.OpenDB(t, c.Config)
			createNotes(t, db)
			a, _ := db.Scoped("tenant-a")
			b, _ := db.Scoped("tenant-b")
			for i, s := range []*store.Scoped{a, b, b} {
				err := s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
					return tx.Insert(ctx, &note{ID: int64(i + 1)})
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var n int
			err := a.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
				return store.RawTx(tx).QueryRowContext(ctx, "SELECT count(*) FROM test_notes").Scan(&n)
			})
			if err != nil || n != 1 {
				t.Fatalf("raw SQL in tenant A's scope sees %d rows (%v), want 1", n, err)
			}
			err = a.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := store.RawTx(tx).ExecContext(ctx, "INSERT INTO test_notes (id, tenant_id) VALUES (50, 'tenant-b')")
				return err
			})
			if err == nil {
				t.Fatal("raw insert of another tenant's row passed row-level security")
			}
			if err := store.Bun(db).QueryRowContext(ctx, "SELECT count(*) FROM test_notes").Scan(&n); err != nil || n != 0 {
				t.Fatalf("outside any scope %d rows are visible (%v), want 0", n, err)
			}
			err = db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return tx.QueryRowContext(ctx, "SELECT count(*) FROM test_notes").Scan(&n)
			})
			if err != nil || n != 3 {
				t.Fatalf("system scope sees %d rows (%v), want 3", n, err)
			}
		})
	}
}

// A caller's WhereOr cannot widen a scoped SELECT to other tenants' rows.
func TestScopedSelectResistsWhereOr(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		createNotes(t, db)
		a, _ := db.Scoped("tenant-a")
		b, _ := db.Scoped("tenant-b")
		for i, s := range []*store.Scoped{a, b} {
			if err := s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.Insert(ctx, &note{ID: int64(i + 1)})
			}); err != nil {
				t.Fatal(err)
			}
		}
		err := a.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			var rows []note
			if err := tx.Select(&rows).WhereOr("tenant_id = ?", "tenant-b").WhereOr("1 = 1").Scan(ctx); err != nil {
				return err
			}
			for _, r := range rows {
				if r.TenantID != "tenant-a" {
					t.Errorf("WhereOr reached a row of %s", r.TenantID)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
