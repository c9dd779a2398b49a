package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

//go:embed migrations
var migrationFS embed.FS

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Plenum than the running binary.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// ErrSchemaBehind is returned by CheckSchema when migrations are pending.
var ErrSchemaBehind = errors.New("database schema is behind this binary")

// Migration is one versioned schema change, written once per dialect.
type Migration struct {
	Version int
	Name    string
	sql     string
}

// Migrations lists the migrations embedded in the binary for dialect d, in
// version order.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations for %s: %w", d, err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: rest, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations with version %d", out[i].Version)
		}
	}
	return out, nil
}

// schemaMigration records one applied migration.
type schemaMigration struct {
	bun.BaseModel `bun:"table:schema_migrations"`
	Version       int       `bun:"version,pk"`
	Name          string    `bun:"name,notnull"`
	AppliedAt     time.Time `bun:"applied_at,notnull"`
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL
)`

// migrateLockKey is the PostgreSQL advisory lock that serialises hosts
// migrating the same database at once.
const migrateLockKey = 0x706c656e756d // "plenum"

// Migrate applies every pending migration, each in its own transaction
// together with its record in schema_migrations. It returns the versions it
// applied. A database migrated by a newer binary is refused with
// ErrSchemaTooNew before anything is changed.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	if _, err := db.bun.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range ms {
		did, err := db.applyOne(ctx, m, ms[len(ms)-1].Version)
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

func (db *DB) applyOne(ctx context.Context, m Migration, latest int) (bool, error) {
	did := false
	err := db.bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if db.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", migrateLockKey); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		var cur int
		if err := tx.NewSelect().Model((*schemaMigration)(nil)).ColumnExpr("COALESCE(MAX(version), 0)").Scan(ctx, &cur); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if cur > latest {
			return tooNew(cur, latest)
		}
		n, err := tx.NewSelect().Model((*schemaMigration)(nil)).Where("version = ?", m.Version).Count(ctx)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			return nil
		}
		// The raw *sql.Tx runs the file as written: no placeholder
		// formatting, several statements in one call.
		if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		rec := &schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}
		if _, err := tx.NewInsert().Model(rec).Exec(ctx); err != nil {
			return fmt.Errorf("record migration %04d: %w", m.Version, err)
		}
		did = true
		return nil
	})
	return did, err
}

func tooNew(cur, latest int) error {
	return fmt.Errorf("%w: the database is at version %d but this plenum knows versions up to %d; run a newer plenum or point it at another database", ErrSchemaTooNew, cur, latest)
}

// SchemaVersion returns the highest applied migration (0 for an empty
// database) and the highest this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	ms, err := Migrations(db.dialect)
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	exists, err := db.tableExists(ctx, "schema_migrations")
	if err != nil {
		return 0, latest, err
	}
	if !exists {
		return 0, latest, nil
	}
	if err := db.bun.NewSelect().Model((*schemaMigration)(nil)).ColumnExpr("COALESCE(MAX(version), 0)").Scan(ctx, &current); err != nil {
		return 0, latest, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}

// CheckSchema reports ErrSchemaTooNew or ErrSchemaBehind when the database
// and the binary disagree.
func (db *DB) CheckSchema(ctx context.Context) error {
	cur, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case cur > latest:
		return tooNew(cur, latest)
	case cur < latest:
		return fmt.Errorf("%w: the database is at version %d and this plenum expects %d; run `plenum migrate`", ErrSchemaBehind, cur, latest)
	}
	return nil
}

func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	var err error
	switch db.dialect {
	case Postgres:
		err = db.bun.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", name).Scan(&n)
	default:
		err = db.bun.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	return n > 0, nil
}
