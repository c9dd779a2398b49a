package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

// fixture is a migrated database with a real keyring, a signing key and
// two tenants' keys.
type fixture struct {
	db   *store.DB
	keys *crypto.Keyring
	log  *audit.Log
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	m, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.NewKeyring(ctx, db, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"tenant-a", "tenant-b", "tenant-c"} {
		if err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return k.CreateKey(ctx, tx, s) }); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := audit.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(ctx, db, k, signer, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, keys: k, log: l}
}

func (f *fixture) append(t testing.TB, tenant string, n int) {
	t.Helper()
	s, err := f.db.Scoped(tenant)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			_, err := f.log.Append(ctx, tx, audit.Event{
				Actor: "user:1", Action: "ballot.update", Target: fmt.Sprintf("ballot:%d", i),
				RequestID: "req-1", Details: map[string]string{"field": "title"},
				IP: "192.0.2.7", UserAgent: "Mozilla/5.0 test",
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) verify(t testing.TB) *audit.Report {
	t.Helper()
	rep, err := f.log.Verify(context.Background(), audit.VerifyOptions{BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// raw runs SQL on a system transaction with the append-only guard lifted,
// as an attacker with database access would.
func (f *fixture) tamper(t testing.TB, sql string, args ...any) {
	t.Helper()
	err := f.db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if f.db.Dialect() == store.Postgres {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"); err != nil {
				return err
			}
		} else {
			for _, tr := range []string{"audit_events_no_update", "audit_events_no_delete"} {
				if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+tr); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, sql, args...)
		return err
	})
	if err != nil {
		t.Fatalf("tamper %q: %v", sql, err)
	}
}

func TestAppendAndVerify(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.append(t, "tenant-a", 12)
		f.append(t, "tenant-b", 3)
		if n, err := f.log.Checkpoint(context.Background()); err != nil || n != 2 {
			t.Fatalf("Checkpoint = %d, %v; want 2 chains", n, err)
		}
		if n, _ := f.log.Checkpoint(context.Background()); n != 0 {
			t.Fatalf("second Checkpoint signed %d chains with no new events", n)
		}
		f.append(t, "tenant-a", 2)
		rep := f.verify(t)
		if !rep.OK() || rep.Events != 17 || rep.Chains != 2 || rep.Checkpoints != 2 {
			t.Fatalf("report %+v", rep)
		}
	})
}

func TestRollbackLeavesNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.append(t, "tenant-a", 1)
		s, _ := db.Scoped("tenant-a")
		boom := errors.New("change failed")
		err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			if _, err := f.log.Append(ctx, tx, audit.Event{Actor: "user:1", Action: "x.y"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		rep := f.verify(t)
		if !rep.OK() || rep.Events != 1 {
			t.Fatalf("after rollback: %+v", rep)
		}
		f.append(t, "tenant-a", 1)
		if rep := f.verify(t); !rep.OK() || rep.Events != 2 {
			t.Fatalf("append after rollback: %+v", rep)
		}
	})
}

func TestInvalidEvents(t *testing.T) {
	f := newFixture(t, testkit.OpenDB(t, testkit.SQLiteConfig(t)))
	s, _ := f.db.Scoped("tenant-a")
	for _, ev := range []audit.Event{
		{Action: "x"},
		{Actor: "a"},
		{Actor: "a", Action: "x", Outcome: "maybe"},
		{Actor: "a", Action: strings.Repeat("x", 600)},
		{Actor: "a", Action: "x", UserAgent: "\xff\xfe"},
	} {
		err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			_, err := f.log.Append(ctx, tx, ev)
			return err
		})
		if !errors.Is(err, audit.ErrInvalidEvent) {
			t.Errorf("Append(%+v) = %v, want ErrInvalidEvent", ev, err)
		}
	}
}

func TestTamperDetected(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		kind string
		seq  int64
	}{
		{"edited action", "UPDATE audit_events SET action = 'ballot.delete' WHERE tenant_id = 'tenant-a' AND seq = 4", audit.Edited, 4},
		{"edited details", `UPDATE audit_events SET details = '{"field":"quorum"}' WHERE tenant_id = 'tenant-a' AND seq = 2`, audit.Edited, 2},
		{"removed middle", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq = 5", audit.Removed, 5},
		{"reordered", "UPDATE audit_events SET seq = 1000 WHERE tenant_id = 'tenant-a' AND seq = 6; UPDATE audit_events SET seq = 6 WHERE tenant_id = 'tenant-a' AND seq = 7; UPDATE audit_events SET seq = 7 WHERE tenant_id = 'tenant-a' AND seq = 1000", audit.Reordered, 6},
		{"truncated tail", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq > 8", audit.Truncated, 10},
		{"forged checkpoint", "UPDATE audit_checkpoints SET signature = hash || hash WHERE tenant_id = 'tenant-a'", audit.BadCheckpoint, 10},
		{"moved to other chain", "UPDATE audit_events SET tenant_id = 'tenant-b', seq = 4 WHERE tenant_id = 'tenant-a' AND seq = 10", audit.Edited, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db)
				f.append(t, "tenant-a", 10)
				f.append(t, "tenant-b", 3)
				if _, err := f.log.Checkpoint(context.Background()); err != nil {
					t.Fatal(err)
				}
				if rep := f.verify(t); !rep.OK() {
					t.Fatalf("clean log reported %+v", rep.Problems)
				}
				f.tamper(t, tt.sql)
				rep := f.verify(t)
				found := false
				for _, p := range rep.Problems {
					if p.Kind == tt.kind && p.Seq == tt.seq {
						found = true
					}
				}
				if !found {
					t.Fatalf("want %s at seq %d, got %+v", tt.kind, tt.seq, rep.Problems)
				}
			})
		})
	}
}

func TestAppendOnly(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.append(t, "tenant-a", 3)
		for _, q := range []string{
			"UPDATE audit_events SET action = 'x' WHERE tenant_id = 'tenant-a'",
			"DELETE FROM audit_events WHERE tenant_id = 'tenant-a'",
			"UPDATE audit_events SET personal = NULL, actor = 'y' WHERE tenant_id = 'tenant-a'",
		} {
			err := db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, q)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want append-only refusal", q, err)
			}
		}
	})
}

func TestPersonalDataSealedAndErasable(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.append(t, "tenant-a", 3)
		s, _ := db.Scoped("tenant-a")
		var recs []audit.Record
		err := s.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			recs, err = f.log.List(ctx, tx, audit.ListOptions{})
			return err
		})
		if err != nil || len(recs) != 3 || recs[0].Seq != 3 {
			t.Fatalf("List = %d records, %v", len(recs), err)
		}
		for _, r := range recs {
			if bytes.Contains(r.Personal, []byte("192.0.2.7")) || bytes.Contains(r.Personal, []byte("Mozilla")) {
				t.Fatal("personal data stored in clear")
			}
		}
		p, err := f.log.OpenPersonal(ctx, &recs[0])
		if err != nil || p.IP != "192.0.2.7" || p.UserAgent != "Mozilla/5.0 test" {
			t.Fatalf("OpenPersonal = %+v, %v", p, err)
		}
		err = s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			n, err := f.log.ErasePersonal(ctx, tx, []int64{1, 2})
			if n != 2 {
				t.Errorf("erased %d", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep := f.verify(t); !rep.OK() {
			t.Fatalf("chain broken by erasure: %+v", rep.Problems)
		}
	})
}

func TestScopedReadsOwnChainOnly(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.append(t, "tenant-a", 2)
		f.append(t, "tenant-b", 5)
		s, _ := db.Scoped("tenant-a")
		err := s.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			recs, err := f.log.List(ctx, tx, audit.ListOptions{Limit: 100})
			for _, r := range recs {
				if r.TenantID != "tenant-a" {
					t.Errorf("tenant A sees an event of %s", r.TenantID)
				}
			}
			if len(recs) != 2 {
				t.Errorf("tenant A sees %d events, want 2", len(recs))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestConcurrentAppends(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		chains := []string{"tenant-a", "tenant-b", "tenant-c"}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		const perWorker = 60
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < perWorker; i++ {
					s, _ := db.Scoped(chains[(w+i)%len(chains)])
					err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
						_, err := f.log.Append(ctx, tx, audit.Event{Actor: fmt.Sprintf("user:%d", w), Action: "vote.cast", IP: "198.51.100.1"})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					if i%20 == 0 {
						if _, err := f.log.Checkpoint(context.Background()); err != nil {
							errs <- err
							return
						}
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep := f.verify(t)
		if !rep.OK() || rep.Events != 8*perWorker {
			t.Fatalf("after concurrent appends: events %d, problems %+v", rep.Events, rep.Problems)
		}
	})
}

func TestExportECS(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testkit.OpenDB(t, testkit.SQLiteConfig(t)))
	f.append(t, "tenant-a", 2)
	for _, withPersonal := range []bool{false, true} {
		var buf bytes.Buffer
		n, err := f.log.ExportECS(ctx, &buf, audit.ExportOptions{TenantID: "tenant-a", IncludePersonal: withPersonal})
		if err != nil || n != 2 {
			t.Fatalf("ExportECS = %d, %v", n, err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		var doc map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
			t.Fatal(err)
		}
		ev := doc["event"].(map[string]any)
		if doc["@timestamp"] == nil || ev["action"] != "ballot.update" || ev["outcome"] != "success" || ev["sequence"].(float64) != 1 {
			t.Fatalf("doc %v", doc)
		}
		if doc["organization"].(map[string]any)["id"] != "tenant-a" || doc["labels"].(map[string]any)["field"] != "title" {
			t.Fatalf("doc %v", doc)
		}
		_, hasIP := doc["source"]
		if hasIP != withPersonal || strings.Contains(buf.String(), "192.0.2.7") != withPersonal {
			t.Fatalf("personal data in export = %v, want %v", hasIP, withPersonal)
		}
	}
}

func TestSigningKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	s1, err := audit.LoadOrCreateSigningKey(p)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := audit.LoadOrCreateSigningKey(p)
	if err != nil || s1.KeyID() != s2.KeyID() {
		t.Fatalf("reload: %v", err)
	}
}
