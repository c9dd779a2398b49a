package store_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	for _, c := range testkit.Databases(t) {
		t.Run(c.Name, func(t *testing.T) {
			db, err := store.Open(ctx, c.Config)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
				t.Fatalf("CheckSchema on empty database = %v, want ErrSchemaBehind", err)
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 {
				t.Fatal("no migration applied to an empty database")
			}
			again, err := db.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second Migrate = %v, %v; want nothing applied", again, err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatalf("CheckSchema after migrate: %v", err)
			}
			// A database from a newer binary is refused before any change.
			err = db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', CURRENT_TIMESTAMP)")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
				t.Fatalf("Migrate on newer schema = %v, want ErrSchemaTooNew", err)
			}
			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
				t.Fatalf("CheckSchema on newer schema = %v, want ErrSchemaTooNew", err)
			}
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  store.Config
	}{
		{"unknown driver", store.Config{Driver: "mysql", DSN: "x"}},
		{"empty dsn", store.Config{Driver: store.SQLite}},
		{"missing directory", store.Config{Driver: store.SQLite, DSN: "/nonexistent/dir/plenum.db"}},
		{"postgres without url", store.Config{Driver: store.Postgres, DSN: "host=localhost"}},
		{"bad role", store.Config{Driver: store.Postgres, DSN: "postgres://x", Role: "a; DROP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if db, err := store.Open(ctx, tt.cfg); err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestScopedRequiresTenant(t *testing.T) {
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	for _, id := range []string{"", "UPPER", "a b", "x'; --"} {
		if _, err := db.Scoped(id); !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("Scoped(%q) = %v, want ErrNoTenant", id, err)
		}
	}
}

func TestOpenRejectsNonDatabaseFile(t *testing.T) {
	p := t.TempDir() + "/plenum.db"
	if err := os.WriteFile(p, []byte("this is not a database, it is a text file that is long enough to have a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), store.Config{Driver: store.SQLite, DSN: p})
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a text file")
	}
}
