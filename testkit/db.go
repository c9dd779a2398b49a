package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that creates test schemas

	"github.com/plenum-vote/plenum/core/store"
)

// EnvPostgres names the environment variable holding the DSN of a
// PostgreSQL server tests may use, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvPostgres = "PLENUM_TEST_POSTGRES"

// EnvRequire names the environment variable listing services (comma
// separated: postgres, redis, browser, …) whose absence fails a test
// instead of skipping it. CI sets it so nothing is silently skipped.
const EnvRequire = "PLENUM_TEST_REQUIRE"

// pgTestRole is the unprivileged role test schemas belong to. Connecting as
// a role that is neither superuser nor BYPASSRLS makes row-level security
// apply in tests exactly as it does in production.
const pgTestRole = "plenum_test"

// Required reports whether service is listed in PLENUM_TEST_REQUIRE.
func Required(service string) bool {
	for _, s := range strings.Split(os.Getenv(EnvRequire), ",") {
		if strings.TrimSpace(s) == service {
			return true
		}
	}
	return false
}

// Unavailable skips t because service is missing, or fails it when CI
// requires the service.
func Unavailable(t testing.TB, service, why string) {
	t.Helper()
	if Required(service) {
		t.Fatalf("%s is required (%s=%s) but unavailable: %s", service, EnvRequire, os.Getenv(EnvRequire), why)
	}
	t.Skipf("%s unavailable: %s", service, why)
}

// DBCase is one database engine a test runs against.
type DBCase struct {
	Name   string
	Config store.Config
}

// Databases returns the engines every store-level test must pass on:
// always SQLite in a fresh temporary file, and PostgreSQL in a fresh schema
// when PLENUM_TEST_POSTGRES is set. When PostgreSQL is required but not
// configured, t fails.
func Databases(t testing.TB) []DBCase {
	t.Helper()
	cases := []DBCase{{Name: "sqlite", Config: SQLiteConfig(t)}}
	if os.Getenv(EnvPostgres) == "" {
		if Required("postgres") {
			t.Fatalf("postgres is required (%s) but %s is not set", EnvRequire, EnvPostgres)
		}
		return cases
	}
	return append(cases, DBCase{Name: "postgres", Config: PostgresConfig(t)})
}

// ForEachDB runs fn as a subtest on every engine from Databases, with a
// freshly opened and migrated database.
func ForEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, c := range Databases(t) {
		t.Run(c.Name, func(t *testing.T) {
			fn(t, OpenDB(t, c.Config))
		})
	}
}

// OpenDB opens and migrates the database of cfg and closes it when t ends.
func OpenDB(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Driver, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", cfg.Driver, err)
	}
	return db
}

// SQLiteConfig returns the configuration of a fresh SQLite file in a
// temporary directory.
func SQLiteConfig(t testing.TB) store.Config {
	t.Helper()
	return store.Config{Driver: store.SQLite, DSN: filepath.Join(t.TempDir(), "plenum.db")}
}

// PostgresConfig creates a fresh schema owned by an unprivileged role on
// the server named by PLENUM_TEST_POSTGRES, drops it when t ends, and
// returns a configuration that connects as that role with the schema first
// on the search path. It fails t when the server cannot be reached.
func PostgresConfig(t testing.TB) store.Config {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		Unavailable(t, "postgres", EnvPostgres+" is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres admin DSN: %v", err)
	}
	defer adb.Close()
	if err := adb.PingContext(ctx); err != nil {
		Unavailable(t, "postgres", err.Error())
	}
	ensureTestRole(ctx, t, adb)
	schema := "t_" + randomHex(t, 8)
	if _, err := adb.ExecContext(ctx, "CREATE SCHEMA "+schema+" AUTHORIZATION "+pgTestRole); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adb, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer adb.Close()
		_, _ = adb.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.User = url.User(pgTestRole)
	q := u.Query()
	q.Set("search_path", schema)
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return store.Config{Driver: store.Postgres, DSN: u.String(), MaxOpenConns: 8}
}

func ensureTestRole(ctx context.Context, t testing.TB, adb *sql.DB) {
	t.Helper()
	// Test binaries of several packages run at once and would race on
	// CREATE ROLE and GRANT ("tuple concurrently updated"): an advisory
	// lock held for the transaction serialises them.
	tx, err := adb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7061626)"); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+pgTestRole+`') THEN
			CREATE ROLE `+pgTestRole+` LOGIN NOSUPERUSER NOBYPASSRLS;
		END IF;
	END $$`); err != nil {
		t.Fatalf("create role %s: %v", pgTestRole, err)
	}
	var db string
	if err := tx.QueryRowContext(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatalf("current database: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `GRANT CREATE, CONNECT ON DATABASE "`+db+`" TO `+pgTestRole); err != nil {
		t.Fatalf("grant: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
