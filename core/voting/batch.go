package voting

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Batching of votes. Under load, votes arrive together; writing each in a
// transaction of its own makes the database's single writer (SQLite) or
// the tenant's audit chain head (PostgreSQL) the limit. The batcher takes
// what is queued, up to maxBatch votes of one tenant, and writes them in
// one transaction: each vote in a savepoint (a refused vote changes
// nothing and does not disturb the others) and one audit append for all.
// No vote is acknowledged before its transaction commits. Nothing waits
// for a batch to fill: a lone vote is written at once.
const (
	maxBatch    = 128
	queueLength = 4096
	workerIdle  = 2 * time.Second
)

type castJob struct {
	ctx      context.Context
	tenantID string
	req      CastRequest
	done     chan castResult
}

type castResult struct {
	rc  *Receipt
	err error
}

// batcher owns the queue and its workers; workers start on demand and
// stop when idle.
type batcher struct {
	s       *Ballots
	q       chan *castJob
	workers int

	mu      sync.Mutex
	running int
}

func newBatcher(s *Ballots, workers int) *batcher {
	return &batcher{s: s, q: make(chan *castJob, queueLength), workers: workers}
}

func (b *batcher) submit(ctx context.Context, tenantID string, req CastRequest) (*Receipt, error) {
	job := &castJob{ctx: ctx, tenantID: tenantID, req: req, done: make(chan castResult, 1)}
	select {
	case b.q <- job:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b.mu.Lock()
	if b.running < b.workers {
		b.running++
		go b.work()
	}
	b.mu.Unlock()
	// Once queued, the vote is written whatever the caller does: wait for
	// the outcome rather than leave it unknown.
	res := <-job.done
	return res.rc, res.err
}

func (b *batcher) work() {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	var next *castJob // a job of another tenant met while collecting
	for {
		if next != nil {
			var jobs []*castJob
			jobs, next = b.collect(next)
			b.run(jobs)
			continue
		}
		select {
		case job := <-b.q:
			var jobs []*castJob
			jobs, next = b.collect(job)
			b.run(jobs)
			idle.Reset(workerIdle)
		case <-idle.C:
			b.mu.Lock()
			if len(b.q) > 0 {
				b.mu.Unlock()
				idle.Reset(workerIdle)
				continue
			}
			b.running--
			b.mu.Unlock()
			return
		}
	}
}

// collect takes first and whatever else of its tenant is queued now, up
// to maxBatch. It stops at the first job of another tenant and returns it
// as next, for the worker to start its next batch with: nothing is put
// back into the queue, which may be full by then.
func (b *batcher) collect(first *castJob) (jobs []*castJob, next *castJob) {
	jobs = []*castJob{first}
	for len(jobs) < maxBatch {
		select {
		case j := <-b.q:
			if j.tenantID != first.tenantID {
				return jobs, j
			}
			jobs = append(jobs, j)
			continue
		default:
		}
		break
	}
	return jobs, nil
}

// run writes jobs in one transaction and answers each.
func (b *batcher) run(jobs []*castJob) {
	s := b.s
	results := make([]castResult, len(jobs))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []audit.Event
	err := s.tx(ctx, jobs[0].tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		events = events[:0]
		ballots := map[string]*Ballot{}
		now := s.stamp()
		for i, job := range jobs {
			if job.ctx.Err() != nil {
				results[i].err = job.ctx.Err()
				continue
			}
			results[i] = castResult{}
			err := tx.Savepoint(ctx, func(ctx context.Context) error {
				bl, ok := ballots[job.req.BallotID]
				if !ok {
					var err error
					if bl, err = s.get(ctx, tx, job.req.BallotID); err != nil {
						return err
					}
					ballots[job.req.BallotID] = bl
				}
				rc, ev, err := s.cast(ctx, tx, bl, job.req, now)
				if err != nil {
					return err
				}
				results[i].rc = rc
				events = append(events, ev)
				return nil
			})
			if errors.Is(err, store.ErrSavepoint) {
				return err // the transaction's state is unknown: fail the batch
			}
			if err != nil {
				results[i] = castResult{err: err}
			}
		}
		if len(events) == 0 {
			return nil
		}
		if _, err := s.audit.AppendBatch(ctx, tx, events); err != nil {
			return fmt.Errorf("audit votes: %w", err)
		}
		return nil
	})
	for i, job := range jobs {
		if err != nil && results[i].err == nil {
			results[i] = castResult{err: err}
		}
		job.done <- results[i]
	}
}
