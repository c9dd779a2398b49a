package audit_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

// testSealer is a small AES-256-GCM sealer with one key per scope derived
// from a random master key; destroy makes a scope's data unreadable, as
// crypto-shredding does.
type testSealer struct {
	master    [32]byte
	mu        sync.Mutex
	destroyed map[string]bool
}

var _ audit.Sealer = (*testSealer)(nil)

func newTestSealer(t testing.TB) *testSealer {
	s := &testSealer{destroyed: map[string]bool{}}
	if _, err := rand.Read(s.master[:]); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *testSealer) aead(scope string) (cipher.AEAD, error) {
	s.mu.Lock()
	gone := s.destroyed[scope]
	s.mu.Unlock()
	if gone {
		return nil, fmt.Errorf("key of %s destroyed", scope)
	}
	m := hmac.New(sha256.New, s.master[:])
	m.Write([]byte(scope))
	b, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (s *testSealer) Seal(_ context.Context, scope string, plaintext, ad []byte) ([]byte, error) {
	g, err := s.aead(scope)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plaintext, ad), nil
}

func (s *testSealer) Open(_ context.Context, scope string, ciphertext, ad []byte) ([]byte, error) {
	g, err := s.aead(scope)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < g.NonceSize() {
		return nil, errors.New("ciphertext too short")
	}
	return g.Open(nil, ciphertext[:g.NonceSize()], ciphertext[g.NonceSize():], ad)
}

func (s *testSealer) destroy(scope string) {
	s.mu.Lock()
	s.destroyed[scope] = true
	s.mu.Unlock()
}

// fixture is a migrated database with a test sealer and a signing key.
type fixture struct {
	db     *store.DB
	sealer *testSealer
	log    *audit.Log
}

func newFixture(t testing.TB, db *store.DB, opts ...audit.Options) *fixture {
	t.Helper()
	var o audit.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	signer, err := audit.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSealer(t)
	l, err := audit.New(context.Background(), db, s, signer, o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, sealer: s, log: l}
}

func testEvent(i int) audit.Event {
	return audit.Event{
		Actor: "user:1", Action: "ballot.update", Target: fmt.Sprintf("ballot:%d", i),
		RequestID: "req-1", Details: map[string]string{"field": "title", "b": "<&>"},
		IP: "192.0.2.7", UserAgent: "Mozilla/5.0 test",
	}
}

// append records n events in tenant's chain, one transaction each.
func (f *fixture) append(t testing.TB, tenant string, n int) []audit.Record {
	t.Helper()
	s, err := f.db.Scoped(tenant)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for i := 0; i < n; i++ {
		err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			r, err := f.log.Append(ctx, tx, testEvent(i))
			out = append(out, r)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (f *fixture) verify(t testing.TB, opts ...audit.VerifyOptions) *audit.Report {
	t.Helper()
	o := audit.VerifyOptions{BatchSize: 7}
	if len(opts) > 0 {
		o = opts[0]
	}
	rep, err := f.log.Verify(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// sys runs fn in a system transaction and fails t on error.
func (f *fixture) sys(t testing.TB, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	if err := f.db.System().Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

type headRow struct {
	Seq  int64
	Hash []byte
}

func (f *fixture) head(t testing.TB, chain string) headRow {
	t.Helper()
	var h headRow
	f.sys(t, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_heads WHERE tenant_id = ?", chain).Scan(&h.Seq, &h.Hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return h
}

// tamper runs SQL on a system transaction with the append-only guard
// lifted, as an attacker with database access would.
func (f *fixture) tamper(t testing.TB, sql string, args ...any) {
	t.Helper()
	f.sys(t, func(ctx context.Context, tx bun.Tx) error {
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
}

func TestAppendAndVerify(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		recs := f.append(t, "tenant-a", 12)
		f.append(t, "tenant-b", 3)
		for i, r := range recs {
			if r.Seq != int64(i+1) || r.TenantID != "tenant-a" || len(r.Hash) != sha256.Size {
				t.Fatalf("record %d: seq %d chain %q hash %x", i, r.Seq, r.TenantID, r.Hash)
			}
			if i > 0 && !bytes.Equal(r.PrevHash, recs[i-1].Hash) {
				t.Fatalf("record %d does not link to %d", i+1, i)
			}
		}
		if !bytes.Equal(recs[0].PrevHash, make([]byte, sha256.Size)) {
			t.Fatalf("first prev hash %x, want genesis", recs[0].PrevHash)
		}
		if h := f.head(t, "tenant-a"); h.Seq != 12 || !bytes.Equal(h.Hash, recs[11].Hash) {
			t.Fatalf("head %d %x, want 12 %x", h.Seq, h.Hash, recs[11].Hash)
		}
		if n, err := f.log.Checkpoint(context.Background()); err != nil || n != 2 {
			t.Fatalf("Checkpoint = %d, %v; want 2 chains", n, err)
		}
		if n, _ := f.log.Checkpoint(context.Background()); n != 0 {
			t.Fatalf("second Checkpoint signed %d chains with no new events", n)
		}
		f.append(t, "tenant-a", 2)
		if n, _ := f.log.Checkpoint(context.Background()); n != 1 {
			t.Fatalf("third Checkpoint signed %d chains, want the one that advanced", n)
		}
		rep := f.verify(t)
		if !rep.OK() || rep.Events != 17 || rep.Chains != 2 || rep.Checkpoints != 3 {
			t.Fatalf("report %+v", rep)
		}
		one := f.verify(t, audit.VerifyOptions{TenantID: "tenant-b"})
		if !one.OK() || one.Events != 3 || one.Chains != 1 || one.Checkpoints != 1 {
			t.Fatalf("report of one chain %+v", one)
		}
	})
}

func TestAppendStampsTimeAndID(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		paris := time.FixedZone("CET", 3600)
		clock := time.Date(2026, 3, 1, 10, 0, 0, 123456789, paris)
		f := newFixture(t, db, audit.Options{Now: func() time.Time { return clock }})
		s, _ := db.Scoped("tenant-a")
		var recs []audit.Record
		err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			var err error
			recs, err = f.log.AppendBatch(ctx, tx, []audit.Event{{Actor: "system", Action: "a.b"}, {Actor: "system", Action: "a.c", Outcome: audit.Denied}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
		for i, r := range recs {
			if !r.At.Equal(want) || r.At.Location() != time.UTC {
				t.Errorf("At = %v, want %v", r.At, want)
			}
			id, err := uuid.Parse(r.ID)
			if err != nil || id.Version() != 7 {
				t.Errorf("ID %q is not a UUIDv7", r.ID)
			}
			if r.Seq != int64(i+1) || len(r.PersonalDigest) != 0 || r.Personal != nil || r.Details != "{}" {
				t.Errorf("record %+v", r)
			}
		}
		if recs[0].Outcome != audit.Success || recs[1].Outcome != audit.Denied {
			t.Errorf("outcomes %q %q", recs[0].Outcome, recs[1].Outcome)
		}
		// The stored time reads back the same, so the chain verifies.
		err = s.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			got, err := f.log.List(ctx, tx, audit.ListOptions{})
			if err == nil && (len(got) != 2 || !got[1].At.Equal(want)) {
				t.Errorf("List = %+v", got)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep := f.verify(t); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}

func TestRollbackLeavesNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.append(t, "tenant-a", 1)
		before := f.head(t, "tenant-a")
		s, _ := db.Scoped("tenant-a")
		boom := errors.New("change failed")
		for _, n := range []int{1, 5} {
			err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
				if _, err := f.log.AppendBatch(ctx, tx, make([]audit.Event, n)); !errors.Is(err, audit.ErrInvalidEvent) {
					t.Errorf("empty events accepted: %v", err)
				}
				evs := make([]audit.Event, n)
				for i := range evs {
					evs[i] = testEvent(i)
				}
				if _, err := f.log.AppendBatch(ctx, tx, evs); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
		}
		// A chain's very first append rolled back leaves no head either.
		b, _ := db.Scoped("tenant-b")
		_ = b.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			if _, err := f.log.Append(ctx, tx, testEvent(0)); err != nil {
				t.Fatal(err)
			}
			return boom
		})
		if after := f.head(t, "tenant-a"); after.Seq != before.Seq || !bytes.Equal(after.Hash, before.Hash) {
			t.Fatalf("head moved from %d to %d", before.Seq, after.Seq)
		}
		rep := f.verify(t)
		if !rep.OK() || rep.Events != 1 || rep.Chains != 1 {
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
		{Actor: "a", Action: "x", Details: map[string]string{"k": strings.Repeat("v", 20000)}},
	} {
		err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			_, err := f.log.Append(ctx, tx, ev)
			return err
		})
		if !errors.Is(err, audit.ErrInvalidEvent) {
			t.Errorf("Append(%.60v) = %v, want ErrInvalidEvent", ev, err)
		}
	}
	// Personal data without a sealer is refused, not stored in clear.
	l, err := audit.New(context.Background(), f.db, nil, nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		_, err := l.Append(ctx, tx, audit.Event{Actor: "a", Action: "x", IP: "192.0.2.1"})
		return err
	})
	if !errors.Is(err, audit.ErrNoSealer) {
		t.Errorf("personal data without sealer: %v, want ErrNoSealer", err)
	}
	if _, err := l.Checkpoint(context.Background()); err == nil {
		t.Error("Checkpoint without a signing key succeeded")
	}
}

func TestPlatformChain(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.sys(t, func(ctx context.Context, btx bun.Tx) error {
			tx, err := db.System().Scope(btx, audit.PlatformChain)
			if err != nil {
				return err
			}
			_, err = f.log.Append(ctx, tx, audit.Event{Actor: "operator:1", Action: "tenant.create", Target: "tenant:x"})
			return err
		})
		rep := f.verify(t, audit.VerifyOptions{TenantID: audit.PlatformChain})
		if !rep.OK() || rep.Events != 1 {
			t.Fatalf("%+v", rep)
		}
	})
}

func TestTamperDetected(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		chain string
		kind  string
		seq   int64
	}{
		{"edited action", "UPDATE audit_events SET action = 'ballot.delete' WHERE tenant_id = 'tenant-a' AND seq = 4", "tenant-a", audit.Edited, 4},
		{"edited details", `UPDATE audit_events SET details = '{"field":"quorum"}' WHERE tenant_id = 'tenant-a' AND seq = 2`, "tenant-a", audit.Edited, 2},
		{"edited personal digest", `UPDATE audit_events SET personal_digest = prev_hash WHERE tenant_id = 'tenant-a' AND seq = 3`, "tenant-a", audit.Edited, 3},
		{"removed middle", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq = 5", "tenant-a", audit.Removed, 5},
		{"removed first", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq = 1", "tenant-a", audit.Removed, 1},
		{"removed and renumbered", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq = 5; UPDATE audit_events SET seq = seq - 1 WHERE tenant_id = 'tenant-a' AND seq = 6", "tenant-a", audit.Removed, 5},
		{"swapped seq", "UPDATE audit_events SET seq = 1000 WHERE tenant_id = 'tenant-a' AND seq = 6; UPDATE audit_events SET seq = 6 WHERE tenant_id = 'tenant-a' AND seq = 7; UPDATE audit_events SET seq = 7 WHERE tenant_id = 'tenant-a' AND seq = 1000", "tenant-a", audit.Reordered, 6},
		{"truncated tail", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq > 8", "tenant-a", audit.Truncated, 10},
		{"truncated tail and head rewound", "DELETE FROM audit_events WHERE tenant_id = 'tenant-a' AND seq > 8; UPDATE audit_heads SET seq = 8, hash = (SELECT hash FROM audit_events WHERE tenant_id = 'tenant-a' AND seq = 8) WHERE tenant_id = 'tenant-a'", "tenant-a", audit.Truncated, 10},
		{"all events deleted", "DELETE FROM audit_events WHERE tenant_id = 'tenant-b'", "tenant-b", audit.Truncated, 3},
		{"forged checkpoint", "UPDATE audit_checkpoints SET signature = hash || hash WHERE tenant_id = 'tenant-a'", "tenant-a", audit.BadCheckpoint, 10},
		{"checkpoint by unknown key", "UPDATE audit_checkpoints SET key_id = '0011223344556677' WHERE tenant_id = 'tenant-b'", "tenant-b", audit.BadCheckpoint, 3},
		{"event rewritten with its checkpoint's hash", "UPDATE audit_events SET hash = prev_hash WHERE tenant_id = 'tenant-a' AND seq = 10", "tenant-a", audit.BadCheckpoint, 10},
		{"moved to other chain", "UPDATE audit_events SET tenant_id = 'tenant-b', seq = 4 WHERE tenant_id = 'tenant-a' AND seq = 10", "tenant-b", audit.Edited, 4},
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
				for _, batch := range []int{3, 5000} {
					rep := f.verify(t, audit.VerifyOptions{BatchSize: batch})
					found := false
					for _, p := range rep.Problems {
						if p.Chain == tt.chain && p.Kind == tt.kind && p.Seq == tt.seq {
							found = true
						}
						if p.Chain != tt.chain && tt.name != "moved to other chain" {
							t.Errorf("problem reported on untouched chain: %+v", p)
						}
					}
					if !found {
						t.Fatalf("batch %d: want %s in %s at seq %d, got %+v", batch, tt.kind, tt.chain, tt.seq, rep.Problems)
					}
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
			"UPDATE audit_events SET personal = personal_digest WHERE tenant_id = 'tenant-a'",
		} {
			err := db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, q)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want append-only refusal", q, err)
			}
		}
		// Erasure, the one update allowed, works through raw SQL too.
		f.sys(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE audit_events SET personal = NULL WHERE tenant_id = 'tenant-a' AND seq = 1")
			return err
		})
		if rep := f.verify(t); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}

func TestPersonalDataSealedAndErasable(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.append(t, "tenant-a", 3)
		// The row holds no plaintext personal data, only the sealed bytes.
		f.sys(t, func(ctx context.Context, tx bun.Tx) error {
			rows, err := tx.QueryContext(ctx, "SELECT personal, personal_digest, details FROM audit_events WHERE tenant_id = 'tenant-a'")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var p, d []byte
				var details string
				if err := rows.Scan(&p, &d, &details); err != nil {
					return err
				}
				sum := sha256.Sum256(p)
				if len(p) == 0 || !bytes.Equal(d, sum[:]) {
					t.Errorf("personal %x digest %x", p, d)
				}
				for _, clear := range []string{"192.0.2.7", "Mozilla"} {
					if bytes.Contains(p, []byte(clear)) || strings.Contains(details, clear) {
						t.Errorf("%s stored in clear", clear)
					}
				}
			}
			return rows.Err()
		})
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
		p, err := f.log.OpenPersonal(ctx, &recs[0])
		if err != nil || p.IP != "192.0.2.7" || p.UserAgent != "Mozilla/5.0 test" {
			t.Fatalf("OpenPersonal = %+v, %v", p, err)
		}
		// Sealed data is bound to its event: moved to another, it does not open.
		moved := recs[1]
		moved.Personal = recs[0].Personal
		if _, err := f.log.OpenPersonal(ctx, &moved); err == nil {
			t.Error("personal data of event 3 opened as event 2's")
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
		err = s.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			recs, err = f.log.List(ctx, tx, audit.ListOptions{})
			return err
		})
		if err != nil || recs[2].Personal != nil || recs[2].PersonalDigest == nil || recs[0].Personal == nil {
			t.Fatalf("after erasure: %v %+v", err, recs[2])
		}
		if p, err := f.log.OpenPersonal(ctx, &recs[2]); err != nil || p.IP != "" {
			t.Errorf("OpenPersonal of erased = %+v, %v", p, err)
		}
		if rep := f.verify(t); !rep.OK() {
			t.Fatalf("chain broken by erasure: %+v", rep.Problems)
		}
		// Destroying the key (crypto-shredding) keeps the chain valid too.
		f.sealer.destroy("tenant-a")
		if _, err := f.log.OpenPersonal(ctx, &recs[0]); err == nil {
			t.Error("opened personal data after the key was destroyed")
		}
		if rep := f.verify(t); !rep.OK() {
			t.Fatalf("chain broken by key destruction: %+v", rep.Problems)
		}
	})
}

func TestScopedReadsOwnChainOnly(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.append(t, "tenant-a", 2)
		f.append(t, "tenant-b", 5)
		if _, err := f.log.Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
		s, _ := db.Scoped("tenant-a")
		err := s.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			recs, err := f.log.List(ctx, tx, audit.ListOptions{Limit: 100})
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.TenantID != "tenant-a" {
					t.Errorf("tenant A sees an event of %s", r.TenantID)
				}
			}
			if len(recs) != 2 {
				t.Errorf("tenant A sees %d events, want 2", len(recs))
			}
			n, err := tx.Select((*audit.Record)(nil)).WhereOr("tenant_id = ?", "tenant-b").WhereOr("seq = 5").Count(ctx)
			if err != nil || n != 0 {
				t.Errorf("scoped select of B's events: %d, %v", n, err)
			}
			if db.Dialect() != store.Postgres {
				return nil
			}
			// Row-level security hides B's rows even from a query that
			// drops the scoped FROM clause.
			for _, table := range []string{"audit_events", "audit_heads", "audit_checkpoints"} {
				var rows []audit.Record
				err := tx.Select(&rows).ModelTableExpr(table + " AS record").ColumnExpr("record.tenant_id").Scan(ctx)
				if err != nil {
					return err
				}
				for _, r := range rows {
					if r.TenantID != "tenant-a" {
						t.Errorf("raw query on %s in A's scope sees a row of %s", table, r.TenantID)
					}
				}
				if len(rows) == 0 {
					t.Errorf("raw query on %s sees nothing of A's", table)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Nor can tenant A's scope write into B's chain.
		err = s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			return tx.Insert(ctx, &audit.Record{Owned: store.Owned{TenantID: "tenant-b"}, Seq: 6})
		})
		if !errors.Is(err, store.ErrCrossTenant) {
			t.Errorf("cross-tenant insert: %v", err)
		}
	})
}

func TestConcurrentAppends(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		chains := []string{"tenant-a", "tenant-b", "tenant-c"}
		const writers, perWriter = 8, 200
		var wg sync.WaitGroup
		errs := make(chan error, writers+1)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < perWriter; {
					s, _ := db.Scoped(chains[(w+i)%len(chains)])
					// Even writers append one event per transaction, odd
					// ones batches of 4.
					n := 1 + 3*(w%2)
					err := s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
						evs := make([]audit.Event, n)
						for j := range evs {
							evs[j] = audit.Event{Actor: fmt.Sprintf("user:%d", w), Action: "vote.cast", IP: "198.51.100.1"}
						}
						_, err := f.log.AppendBatch(ctx, tx, evs)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					i += n
					if i%50 == 0 {
						if _, err := f.log.Checkpoint(ctx); err != nil {
							errs <- err
							return
						}
					}
				}
			}(w)
		}
		// Verification while appends go on must not mistake them for tampering.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				time.Sleep(100 * time.Millisecond)
				rep, err := f.log.Verify(ctx, audit.VerifyOptions{BatchSize: 50})
				if err != nil {
					errs <- err
					return
				}
				if !rep.OK() {
					errs <- fmt.Errorf("verify during appends: %+v", rep.Problems)
					return
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := f.log.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		rep := f.verify(t)
		if !rep.OK() || rep.Events != writers*perWriter || rep.Chains != 3 {
			t.Fatalf("after concurrent appends: events %d, problems %+v", rep.Events, rep.Problems)
		}
		// Every chain is contiguous from 1 and its head is its last event.
		f.sys(t, func(ctx context.Context, tx bun.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT e.tenant_id, count(*), min(e.seq), max(e.seq), max(h.seq)
				FROM audit_events e JOIN audit_heads h ON h.tenant_id = e.tenant_id GROUP BY e.tenant_id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			total := int64(0)
			for rows.Next() {
				var chain string
				var n, lo, hi, head int64
				if err := rows.Scan(&chain, &n, &lo, &hi, &head); err != nil {
					return err
				}
				if lo != 1 || hi != n || head != n {
					t.Errorf("chain %s: %d events, seq %d..%d, head %d", chain, n, lo, hi, head)
				}
				total += n
			}
			if total != writers*perWriter {
				t.Errorf("%d events stored, want %d", total, writers*perWriter)
			}
			return rows.Err()
		})
	})
}

func TestExportECS(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := base
		f := newFixture(t, db, audit.Options{Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Hour)
			return clock
		}})
		mu.Lock()
		clock = base // New read the clock to date the signing key
		mu.Unlock()
		recs := f.append(t, "tenant-a", 3) // at 09:00, 10:00, 11:00
		f.append(t, "tenant-b", 1)
		s, _ := db.Scoped("tenant-a")
		if err := s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := f.log.Append(ctx, tx, audit.Event{Actor: "system", Action: "retention.sweep", Outcome: audit.Failure})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		export := func(opts audit.ExportOptions) []map[string]any {
			t.Helper()
			var buf bytes.Buffer
			n, err := f.log.ExportECS(ctx, &buf, opts)
			if err != nil {
				t.Fatal(err)
			}
			var docs []map[string]any
			for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if line == "" {
					continue
				}
				var doc map[string]any
				if err := json.Unmarshal([]byte(line), &doc); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				docs = append(docs, doc)
			}
			if n != len(docs) {
				t.Fatalf("ExportECS returned %d, wrote %d lines", n, len(docs))
			}
			return docs
		}
		if docs := export(audit.ExportOptions{}); len(docs) != 5 {
			t.Fatalf("export of all chains: %d events", len(docs))
		}
		docs := export(audit.ExportOptions{TenantID: "tenant-a"})
		if len(docs) != 4 {
			t.Fatalf("%d events", len(docs))
		}
		doc := docs[0]
		ev := doc["event"].(map[string]any)
		want := map[string]any{
			"id": recs[0].ID, "kind": "event", "action": "ballot.update", "outcome": "success",
			"sequence": 1.0, "hash": fmt.Sprintf("%x", recs[0].Hash),
		}
		for k, v := range want {
			if ev[k] != v {
				t.Errorf("event.%s = %v, want %v", k, ev[k], v)
			}
		}
		if doc["@timestamp"] != "2026-05-01T09:00:00Z" {
			t.Errorf("@timestamp = %v", doc["@timestamp"])
		}
		if doc["organization"].(map[string]any)["id"] != "tenant-a" || doc["user"].(map[string]any)["id"] != "user:1" {
			t.Errorf("organization/user: %v", doc)
		}
		if doc["http"].(map[string]any)["request"].(map[string]any)["id"] != "req-1" {
			t.Errorf("http.request.id: %v", doc["http"])
		}
		if l := doc["labels"].(map[string]any); l["field"] != "title" || l["b"] != "<&>" {
			t.Errorf("labels = %v", l)
		}
		if _, ok := doc["source"]; ok {
			t.Error("source.ip exported without IncludePersonal")
		}
		if last := docs[3]; last["event"].(map[string]any)["outcome"] != "failure" || last["http"] != nil || last["labels"] != nil {
			t.Errorf("last doc %v", last)
		}
		docs = export(audit.ExportOptions{TenantID: "tenant-a", IncludePersonal: true})
		if docs[0]["source"].(map[string]any)["ip"] != "192.0.2.7" || docs[0]["user_agent"].(map[string]any)["original"] != "Mozilla/5.0 test" {
			t.Errorf("personal fields: %v %v", docs[0]["source"], docs[0]["user_agent"])
		}
		// Since is inclusive, Until exclusive.
		docs = export(audit.ExportOptions{TenantID: "tenant-a", Since: base.Add(2 * time.Hour), Until: base.Add(4 * time.Hour)})
		if len(docs) != 2 || docs[0]["event"].(map[string]any)["sequence"] != 2.0 {
			t.Errorf("Since/Until: %d docs %v", len(docs), docs)
		}
		// A destroyed key drops the personal fields, not the export.
		f.sealer.destroy("tenant-a")
		docs = export(audit.ExportOptions{TenantID: "tenant-a", IncludePersonal: true})
		if len(docs) != 4 || docs[0]["source"] != nil {
			t.Errorf("after key destruction: %d docs, source %v", len(docs), docs[0]["source"])
		}
	})
}

func TestSigningKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	s1, err := audit.LoadOrCreateSigningKey(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	if len(s1.KeyID()) != 16 {
		t.Errorf("key id %q", s1.KeyID())
	}
	s2, err := audit.LoadOrCreateSigningKey(p)
	if err != nil || s1.KeyID() != s2.KeyID() {
		t.Fatalf("reload: %v", err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadOrCreateSigningKey(p); err == nil {
		t.Error("group-readable key accepted")
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadOrCreateSigningKey(bad); err == nil {
		t.Error("garbage key accepted")
	}
	// New registers the public key, once, so any host can verify.
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	for i := 0; i < 2; i++ {
		if _, err := audit.New(context.Background(), db, nil, s2, audit.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	err = db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM audit_signing_keys WHERE key_id = ?", s2.KeyID()).Scan(&n)
	})
	if err != nil || n != 1 {
		t.Fatalf("registered keys: %d, %v", n, err)
	}
}
