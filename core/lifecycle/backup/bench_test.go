package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

// The size the lifecycle work measures: one tenant with 100,000 units,
// 1,000 ballots and 1,000,000 vote records (and their voting rights).
const (
	benchUnits   = 100_000
	benchBallots = 1_000
	benchPer     = 1_000 // votes per ballot
)

// BenchmarkBackup measures Create and Restore on that tenant, on each
// engine: rows/s and MB/s of the encrypted file.
//
//	go test -run '^$' -bench Backup -benchtime 1x -timeout 30m ./core/lifecycle/backup/
func BenchmarkBackup(b *testing.B) {
	for _, c := range testkit.Databases(b) {
		b.Run(c.Name, func(b *testing.B) {
			fresh := func() *store.DB {
				if c.Config.Driver == store.Postgres {
					return testkit.OpenDB(b, testkit.PostgresConfig(b))
				}
				return testkit.OpenDB(b, testkit.SQLiteConfig(b))
			}
			src := fresh()
			rows := benchFill(b, src)
			key, _ := GenerateKey()
			var file bytes.Buffer
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				file.Reset()
				if _, err := Create(context.Background(), src, &file, key, CreateOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			create := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			dst := fresh()
			start = time.Now()
			if _, err := Restore(context.Background(), dst, bytes.NewReader(file.Bytes()), key); err != nil {
				b.Fatal(err)
			}
			restore := time.Since(start)
			b.ReportMetric(float64(rows)/create.Seconds(), "backup-rows/s")
			b.ReportMetric(float64(file.Len())/1e6/create.Seconds(), "backup-MB/s")
			b.ReportMetric(float64(rows)/restore.Seconds(), "restore-rows/s")
			b.ReportMetric(float64(file.Len())/1e6, "file-MB")
		})
	}
}

// benchFill writes the tenant with multi-row inserts and returns the
// number of rows written.
func benchFill(b *testing.B, db *store.DB) int64 {
	ctx := context.Background()
	ts := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var rows int64
	insert := func(tx bun.Tx, table, cols string, n int, row func(i int) []any) error {
		per := strings.Count(cols, ",") + 1
		const batch = 400
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			var sb strings.Builder
			args := make([]any, 0, (hi-lo)*per)
			sb.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
			for i := lo; i < hi; i++ {
				if i > lo {
					sb.WriteString(",")
				}
				sb.WriteString("(" + strings.TrimSuffix(strings.Repeat("?,", per), ",") + ")")
				args = append(args, row(i)...)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			rows += int64(hi - lo)
		}
		return nil
	}
	choice := make([]byte, 64) // the size of a sealed motion choice
	_, _ = rand.Read(choice)
	err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO tenants (id, slug, name, status, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			"t-big", "big", "Big Co-operative", "active", "{}", ts, ts); err != nil {
			return err
		}
		rows++
		if err := insert(tx, "units", "tenant_id, id, label, weight, created_at, updated_at", benchUnits, func(i int) []any {
			return []any{"t-big", fmt.Sprintf("u%06d", i), fmt.Sprintf("Flat %06d", i), "1/100000", ts, ts}
		}); err != nil {
			return err
		}
		if err := insert(tx, "ballots", "tenant_id, id, title, state, rules, rules_hash, opens_at, closes_at, created_by, created_at, updated_at, result", benchBallots, func(i int) []any {
			return []any{"t-big", fmt.Sprintf("b%04d", i), "Motion", "published", `{"kind":"motion"}`, "h", ts, ts, "user:x", ts, ts, `{"decision":"pass"}`}
		}); err != nil {
			return err
		}
		if err := insert(tx, "ballot_rights", "tenant_id, ballot_id, unit_id, weight, online_at", benchBallots*benchPer, func(i int) []any {
			return []any{"t-big", fmt.Sprintf("b%04d", i/benchPer), fmt.Sprintf("u%06d", i%benchPer), "1/100000", ts}
		}); err != nil {
			return err
		}
		return insert(tx, "votes", "tenant_id, id, ballot_id, unit_id, channel, cast_by, cast_at, revision, choice, receipt", benchBallots*benchPer, func(i int) []any {
			return []any{"t-big", fmt.Sprintf("v%07d", i), fmt.Sprintf("b%04d", i/benchPer), fmt.Sprintf("u%06d", i%benchPer), "online", "user-x", ts, 1, choice, fmt.Sprintf("R%07d", i)}
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return rows
}
