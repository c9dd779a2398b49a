package backup

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// maxSnapshotColumns is json_build_array's limit: a PostgreSQL function
// takes at most 100 arguments.
const maxSnapshotColumns = 100

// snapshotPostgres reads every table in ONE statement, so that all rows
// come from one snapshot although the store's transactions run at READ
// COMMITTED (where each statement sees its own snapshot) and cannot be
// asked for REPEATABLE READ. Each row is turned into a JSON array on the
// server (bytes as hex, timestamps as UTC text with microseconds, JSON
// documents as text) and written to outs[i] for tables[i] exactly as
// exportTable would write it.
func snapshotPostgres(ctx context.Context, tx bun.Tx, tables []tableSchema, outs []*rowWriter) error {
	if len(tables) == 0 {
		return nil
	}
	parts := make([]string, len(tables))
	for i, ts := range tables {
		if len(ts.columns) > maxSnapshotColumns {
			return fmt.Errorf("read %s: %d columns, at most %d are supported", ts.name, len(ts.columns), maxSnapshotColumns)
		}
		exprs := make([]string, len(ts.columns))
		for j, c := range ts.columns {
			col := quoteIdent(c.Name)
			switch c.Type {
			case TypeBytes:
				exprs[j] = "encode(" + col + ", 'hex')"
			case TypeTimestamp:
				exprs[j] = "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
			case TypeJSON:
				exprs[j] = col + "::text"
			default:
				exprs[j] = col
			}
		}
		parts[i] = "SELECT " + strconv.Itoa(i) + " AS t, row_number() OVER (ORDER BY " + orderBy(store.Postgres, ts) + ") AS n, " +
			"json_build_array(" + strings.Join(exprs, ", ") + ")::text AS r FROM " + quoteIdent(ts.name)
	}
	q := "SELECT t, r FROM (" + strings.Join(parts, " UNION ALL ") + ") AS snapshot ORDER BY t, n"
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	defer rows.Close()
	var (
		t    int
		r    string
		vals []any
	)
	for rows.Next() {
		if err := rows.Scan(&t, &r); err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		if t < 0 || t >= len(tables) {
			return fmt.Errorf("read snapshot: table index %d out of range", t)
		}
		ts := tables[t]
		dec := json.NewDecoder(strings.NewReader(r))
		dec.UseNumber()
		var raw []any
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("read %s: %w", ts.name, err)
		}
		if len(raw) != len(ts.columns) {
			return fmt.Errorf("read %s: %d values for %d columns", ts.name, len(raw), len(ts.columns))
		}
		vals = vals[:0]
		for j, c := range ts.columns {
			v, err := fromSnapshot(c.Type, raw[j])
			if err != nil {
				return fmt.Errorf("read %s.%s: %w", ts.name, c.Name, err)
			}
			vals = append(vals, v)
		}
		if err := outs[t].write(ts.name, ts.columns, vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	return nil
}

// fromSnapshot turns one element of a server-built JSON row into the value
// the driver would have returned for the column.
func fromSnapshot(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case TypeInteger:
		if n, ok := v.(json.Number); ok {
			return n.Int64()
		}
	case TypeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case TypeBytes:
		if s, ok := v.(string); ok {
			return hex.DecodeString(s)
		}
	case TypeTimestamp:
		if s, ok := v.(string); ok {
			return time.Parse(time.RFC3339Nano, s)
		}
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%T in a %s column", v, typ)
}
