package audit_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

// benchAppend runs b.N appends from 8 concurrent writers over 3 chains, in
// transactions of batch events each, and reports appends/s.
func benchAppend(b *testing.B, batch int) {
	for _, c := range testkit.Databases(b) {
		// b.Run calls its function several times with growing N: open the
		// database once, on the outer benchmark.
		db := testkit.OpenDB(b, c.Config)
		f := newFixture(b, db)
		b.Run(c.Name, func(b *testing.B) {
			chains := []string{"tenant-a", "tenant-b", "tenant-c"}
			evs := make([]audit.Event, batch)
			for i := range evs {
				evs[i] = audit.Event{Actor: "user:42", Action: "vote.cast", Target: "ballot:7", RequestID: "r", IP: "203.0.113.9", UserAgent: "bench"}
			}
			var next atomic.Int64
			total := int64(b.N)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					s, _ := db.Scoped(chains[w%len(chains)])
					for {
						n := next.Add(int64(batch))
						if n-int64(batch) >= total {
							return
						}
						err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
							_, err := f.log.AppendBatch(ctx, tx, evs)
							return err
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "appends/s")
		})
	}
}

// BenchmarkAppend: one event per transaction (target on SQLite ≥ 3,000/s).
func BenchmarkAppend(b *testing.B) { benchAppend(b, 1) }

// BenchmarkAppendBatch: 100 events per transaction (target on SQLite ≥ 20,000/s).
func BenchmarkAppendBatch(b *testing.B) { benchAppend(b, 100) }

// chainOf builds a valid in-memory chain of n events.
func chainOf(n int) []audit.Record {
	recs := make([]audit.Record, n)
	prev := make([]byte, sha256.Size)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var buf []byte
	for i := range recs {
		r := &recs[i]
		r.TenantID, r.Seq = "tenant-a", int64(i+1)
		r.ID = fmt.Sprintf("0190a6f2-0000-7000-8000-%012d", i)
		r.At = at.Add(time.Duration(i) * time.Millisecond)
		r.Actor, r.Action, r.Target, r.Outcome, r.RequestID = "user:42", "vote.cast", "ballot:7", "success", "req-abcdef"
		r.Details = `{"channel":"online"}`
		d := sha256.Sum256([]byte{byte(i)})
		r.PersonalDigest = d[:]
		r.PrevHash = prev
		var sum [sha256.Size]byte
		sum, buf = audit.ComputeHash(r, buf)
		r.Hash = sum[:]
		prev = r.Hash
	}
	return recs
}

// BenchmarkVerifyChain checks a chain held in memory (target ≥ 1,000,000
// events/s): the cost of verification itself, without reading.
func BenchmarkVerifyChain(b *testing.B) {
	recs := chainOf(100_000)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		v := audit.NewChainVerifier("tenant-a")
		for j := 0; j < len(recs); j += 5000 {
			v.Feed(recs[j:min(j+5000, len(recs))])
		}
		if len(v.Problems()) != 0 {
			b.Fatal(v.Problems())
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/time.Since(start).Seconds(), "events/s")
}

// BenchmarkVerifyDB runs `audit verify` over 20,000 stored events,
// reading included.
func BenchmarkVerifyDB(b *testing.B) {
	for _, c := range testkit.Databases(b) {
		db := testkit.OpenDB(b, c.Config)
		f := newFixture(b, db)
		s, _ := db.Scoped("tenant-a")
		evs := make([]audit.Event, 500)
		for i := range evs {
			evs[i] = audit.Event{Actor: "user:42", Action: "vote.cast", IP: "203.0.113.9"}
		}
		for i := 0; i < 40; i++ {
			if err := s.Tx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
				_, err := f.log.AppendBatch(ctx, tx, evs)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.Name, func(b *testing.B) {
			b.ResetTimer()
			start := time.Now()
			var events int64
			for i := 0; i < b.N; i++ {
				rep, err := f.log.Verify(context.Background(), audit.VerifyOptions{})
				if err != nil || !rep.OK() {
					b.Fatal(err, rep)
				}
				events += rep.Events
			}
			b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
		})
	}
}
