// Package store opens Plenum's database through uptrace/bun, runs its
// versioned migrations and hands out the two ways to reach data: a
// tenant-scoped handle that cannot be had without a tenant, and an explicit
// system handle for the platform's own tables.
//
// SQLite (embedded, the default) and PostgreSQL are both supported by the
// same code. On PostgreSQL, row-level security enforces tenant isolation a
// second time: every transaction sets the transaction-local setting
// plenum.tenant_id (or plenum.system for system work) and the policies
// created by the migrations compare rows against it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names a supported database engine.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver Dialect
	// DSN is a file path for SQLite and a postgres:// URL for PostgreSQL.
	DSN string
	// Role, when set on PostgreSQL, is assumed with SET LOCAL ROLE at the
	// start of every transaction. Use it when the connecting user is a
	// superuser or owns the tables without FORCE ROW LEVEL SECURITY, so
	// that row-level security still applies.
	Role string
	// MaxOpenConns bounds the connection pool; 0 picks a default.
	MaxOpenConns int
}

// Validate reports a configuration that cannot be opened.
func (c Config) Validate() error {
	switch c.Driver {
	case SQLite, Postgres:
	default:
		return fmt.Errorf("database driver %q is not supported: use %q or %q", c.Driver, SQLite, Postgres)
	}
	if strings.TrimSpace(c.DSN) == "" {
		return errors.New("database DSN is empty: set a SQLite file path or a postgres:// URL")
	}
	if c.Driver == Postgres && !strings.HasPrefix(c.DSN, "postgres://") && !strings.HasPrefix(c.DSN, "postgresql://") {
		return errors.New("PostgreSQL DSN must be a postgres:// URL")
	}
	if c.Role != "" && !validIdent(c.Role) {
		return fmt.Errorf("database role %q is not a plain identifier", c.Role)
	}
	return nil
}

// DB is an open Plenum database. It is safe for concurrent use.
type DB struct {
	bun     *bun.DB
	dialect Dialect
	role    string
	// SQLite only: read-only transactions run on their own pool of
	// connections that begin DEFERRED, so readers never queue behind the
	// writer (WAL lets them read alongside it); write transactions pass
	// one at a time through writer, in the process, rather than sleeping
	// in SQLite's busy handler.
	read   *bun.DB
	writer chan struct{}
}

// Open opens and pings the database described by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Driver == "" {
		cfg.Driver = SQLite
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var (
		bdb, readers *bun.DB
	)
	switch cfg.Driver {
	case SQLite:
		if dir := filepath.Dir(cfg.DSN); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("open SQLite database %s: directory %s is not usable: %w", cfg.DSN, dir, err)
			}
		}
		sqldb, err := sql.Open("sqlite", sqliteDSN(cfg.DSN))
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", cfg.DSN, err)
		}
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 8
		}
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
		bdb = bun.NewDB(sqldb, sqlitedialect.New())
		rdb, err := sql.Open("sqlite", sqliteReadDSN(cfg.DSN))
		if err != nil {
			_ = bdb.Close()
			return nil, fmt.Errorf("open SQLite database %s: %w", cfg.DSN, err)
		}
		rdb.SetMaxOpenConns(2 * n)
		rdb.SetMaxIdleConns(2 * n)
		readers = bun.NewDB(rdb, sqlitedialect.New())
	case Postgres:
		sqldb, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 16
		}
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		bdb = bun.NewDB(sqldb, pgdialect.New())
	}
	db := &DB{bun: bdb, dialect: cfg.Driver, role: cfg.Role, read: readers}
	if readers != nil {
		db.writer = make(chan struct{}, 1)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Ping(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s database: %w", cfg.Driver, err)
	}
	if cfg.Driver == SQLite {
		// Reading the schema proves the file is a database and not some
		// other file that happens to sit at the path.
		var n int
		if err := bdb.QueryRowContext(pingCtx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open SQLite database %s: %w", cfg.DSN, err)
		}
	}
	return db, nil
}

// sqliteDSN turns a file path into a modernc.org/sqlite DSN with the pragmas
// Plenum relies on: WAL for concurrent readers, a busy timeout so writers
// queue instead of failing, foreign keys on, and IMMEDIATE write
// transactions so that two writers never deadlock upgrading a read lock.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// sqliteReadDSN is sqliteDSN for the read-only pool: DEFERRED
// transactions (a reader takes no write lock) on connections that refuse
// to write.
func sqliteReadDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "query_only(1)")
	q.Set("_txlock", "deferred")
	return "file:" + path + "?" + q.Encode()
}

// Dialect reports the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.bun.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (db *DB) Close() error {
	if db.read != nil {
		_ = db.read.Close()
	}
	return db.bun.Close()
}

func validIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
