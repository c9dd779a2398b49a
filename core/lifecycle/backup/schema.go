package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Portable column types: how a value is written in a backup, whatever the
// engine that held it.
const (
	TypeText      = "text"
	TypeInteger   = "integer"
	TypeBoolean   = "boolean"
	TypeBytes     = "bytes"
	TypeTimestamp = "timestamp"
	TypeJSON      = "json"
)

// bookkeeping is the table that records applied migrations; a backup
// records the schema version in its manifest instead.
const bookkeeping = "schema_migrations"

// Column is one column of a table in a backup.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// tableSchema is what introspection learns of one table.
type tableSchema struct {
	name    string
	columns []Column
	pk      []string
	refs    []string // tables this one references by foreign key
}

// portableType maps a declared (SQLite) or information_schema (PostgreSQL)
// type to a portable one.
func portableType(declared string) string {
	t := strings.ToLower(declared)
	switch {
	case strings.Contains(t, "json"):
		return TypeJSON
	case strings.Contains(t, "int"):
		return TypeInteger
	case strings.Contains(t, "bool"):
		return TypeBoolean
	case strings.Contains(t, "blob"), strings.Contains(t, "bytea"):
		return TypeBytes
	case strings.Contains(t, "timestamp"), strings.Contains(t, "date"), strings.Contains(t, "time"):
		return TypeTimestamp
	default:
		return TypeText
	}
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// introspect lists the tables of the database (schema_migrations aside)
// by name.
func introspect(ctx context.Context, tx bun.Tx, d store.Dialect) ([]tableSchema, error) {
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if d == store.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	if err := scanStrings(ctx, tx, &names, q); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []tableSchema
	for _, n := range names {
		if n == bookkeeping || strings.HasPrefix(n, "sqlite_") {
			continue
		}
		ts, err := describe(ctx, tx, d, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
	return out, nil
}

func describe(ctx context.Context, tx bun.Tx, d store.Dialect, table string) (tableSchema, error) {
	ts := tableSchema{name: table}
	switch d {
	case store.Postgres:
		rows, err := tx.QueryContext(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", table)
		if err != nil {
			return ts, fmt.Errorf("columns of %s: %w", table, err)
		}
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				rows.Close()
				return ts, fmt.Errorf("columns of %s: %w", table, err)
			}
			ts.columns = append(ts.columns, Column{Name: name, Type: portableType(typ)})
		}
		if err := closeRows(rows); err != nil {
			return ts, fmt.Errorf("columns of %s: %w", table, err)
		}
		if err := scanStrings(ctx, tx, &ts.pk, `SELECT a.attname FROM pg_index i
			JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE i.indisprimary AND n.nspname = current_schema() AND c.relname = ? ORDER BY k.ord`, table); err != nil {
			return ts, fmt.Errorf("primary key of %s: %w", table, err)
		}
		if err := scanStrings(ctx, tx, &ts.refs, `SELECT DISTINCT r.relname FROM pg_constraint k
			JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_class r ON r.oid = k.confrelid
			WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = ? ORDER BY 1`, table); err != nil {
			return ts, fmt.Errorf("foreign keys of %s: %w", table, err)
		}
	default:
		rows, err := tx.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", table)
		if err != nil {
			return ts, fmt.Errorf("columns of %s: %w", table, err)
		}
		pk := map[int]string{}
		for rows.Next() {
			var name, typ string
			var n int
			if err := rows.Scan(&name, &typ, &n); err != nil {
				rows.Close()
				return ts, fmt.Errorf("columns of %s: %w", table, err)
			}
			ts.columns = append(ts.columns, Column{Name: name, Type: portableType(typ)})
			if n > 0 {
				pk[n] = name
			}
		}
		if err := closeRows(rows); err != nil {
			return ts, fmt.Errorf("columns of %s: %w", table, err)
		}
		for i := 1; i <= len(pk); i++ {
			ts.pk = append(ts.pk, pk[i])
		}
		if err := scanStrings(ctx, tx, &ts.refs, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?) ORDER BY 1`, table); err != nil {
			return ts, fmt.Errorf("foreign keys of %s: %w", table, err)
		}
	}
	if len(ts.columns) == 0 {
		return ts, fmt.Errorf("table %s has no columns", table)
	}
	return ts, nil
}

type rowCloser interface {
	Close() error
	Err() error
}

func closeRows(rows rowCloser) error {
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return err
	}
	return rows.Close()
}

func scanStrings(ctx context.Context, tx bun.Tx, dst *[]string, q string, args ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		*dst = append(*dst, s)
	}
	return closeRows(rows)
}

// fkOrder sorts tables so that every table comes after the tables it
// references (self-references aside); ties are broken by name so the
// order is stable. A reference cycle is an error.
func fkOrder(tables []tableSchema) ([]tableSchema, error) {
	byName := map[string]tableSchema{}
	for _, t := range tables {
		byName[t.name] = t
	}
	names := make([]string, 0, len(tables))
	for _, t := range tables {
		names = append(names, t.name)
	}
	sort.Strings(names)
	state := map[string]int{} // 1 visiting, 2 done
	var out []tableSchema
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("foreign keys form a cycle: %s", strings.Join(append(path, n), " → "))
		}
		state[n] = 1
		refs := append([]string(nil), byName[n].refs...)
		sort.Strings(refs)
		for _, r := range refs {
			if _, ok := byName[r]; !ok || r == n {
				continue
			}
			if err := visit(r, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, byName[n])
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
