package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The kinds of problem Verify reports.
const (
	// Edited: an event's stored hash differs from the hash of its content.
	Edited = "edited"
	// Removed: a sequence number is missing, or an event does not link to
	// the one before it.
	Removed = "removed"
	// Reordered: an event links to an event stored later in the chain.
	Reordered = "reordered"
	// Truncated: the chain head or a checkpoint names events that are gone.
	Truncated = "truncated"
	// BadCheckpoint: a checkpoint's signature does not verify, its key is
	// unknown, or the hash it signs differs from the event's.
	BadCheckpoint = "bad-checkpoint"
)

// Problem is one finding of Verify.
type Problem struct {
	Chain  string
	Seq    int64
	Kind   string
	Detail string
}

// Report is the result of Verify.
type Report struct {
	Chains      int
	Events      int64
	Checkpoints int
	Problems    []Problem
	Duration    time.Duration
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// VerifyOptions select what Verify checks.
type VerifyOptions struct {
	// TenantID limits verification to one chain.
	TenantID string
	// BatchSize is how many events are read at a time (default 5000).
	BatchSize int
}

// ChainVerifier checks one chain's events, fed in stored order. It keeps
// only the previous hash and the current batch, so memory stays bounded
// whatever the chain's length.
type ChainVerifier struct {
	chain    string
	expected int64
	prev     []byte
	lastHash []byte
	buf      []byte
	events   int64
	problems []Problem
}

// NewChainVerifier starts the verification of chain.
func NewChainVerifier(chain string) *ChainVerifier {
	return &ChainVerifier{chain: chain, expected: 1, prev: genesis}
}

// Feed checks the next batch of events, in stored order.
func (v *ChainVerifier) Feed(batch []Record) {
	for i := range batch {
		r := &batch[i]
		v.events++
		reported := false
		if r.Seq != v.expected {
			if r.Seq > v.expected {
				v.add(v.expected, Removed, fmt.Sprintf("events %d to %d are missing", v.expected, r.Seq-1))
			} else {
				v.add(r.Seq, Reordered, fmt.Sprintf("sequence number %d appears after %d", r.Seq, v.expected-1))
			}
			reported = true
		} else if !bytes.Equal(r.PrevHash, v.prev) {
			if laterIndex(batch[i+1:], r.PrevHash) {
				v.add(r.Seq, Reordered, "links to an event stored after it")
			} else {
				v.add(r.Seq, Removed, "does not link to the event before it")
			}
			reported = true
		}
		sum, b := ComputeHash(r, v.buf)
		v.buf = b
		if !bytes.Equal(sum[:], r.Hash) && !reported {
			v.add(r.Seq, Edited, "content does not match its hash")
		}
		v.prev = r.Hash
		v.lastHash = r.Hash
		v.expected = r.Seq + 1
	}
}

func laterIndex(rest []Record, h []byte) bool {
	for i := range rest {
		if bytes.Equal(rest[i].Hash, h) {
			return true
		}
	}
	return false
}

func (v *ChainVerifier) add(seq int64, kind, detail string) {
	v.problems = append(v.problems, Problem{Chain: v.chain, Seq: seq, Kind: kind, Detail: detail})
}

// Problems returns what was found so far.
func (v *ChainVerifier) Problems() []Problem { return v.problems }

// Events returns how many events were fed.
func (v *ChainVerifier) Events() int64 { return v.events }

// Verify recomputes every chain (or the one in opts) and checks the chain
// heads and signed checkpoints against the events. It needs no data key.
func (l *Log) Verify(ctx context.Context, opts VerifyOptions) (*Report, error) {
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	rep := &Report{}
	err := l.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		keys, err := loadKeys(ctx, tx)
		if err != nil {
			return err
		}
		chains, err := listChains(ctx, tx, opts.TenantID)
		if err != nil {
			return err
		}
		for _, chain := range chains {
			if err := verifyChain(ctx, tx, chain, keys, opts.BatchSize, rep); err != nil {
				return err
			}
		}
		rep.Chains = len(chains)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func loadKeys(ctx context.Context, tx bun.Tx) (map[string]ed25519.PublicKey, error) {
	var ks []signingKey
	if err := tx.NewSelect().Model(&ks).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	m := make(map[string]ed25519.PublicKey, len(ks))
	for _, k := range ks {
		if len(k.PublicKey) == ed25519.PublicKeySize {
			m[k.KeyID] = ed25519.PublicKey(k.PublicKey)
		}
	}
	return m, nil
}

// listChains returns every chain that has a head, events or checkpoints,
// so a chain whose events were all deleted is still checked.
func listChains(ctx context.Context, tx bun.Tx, only string) ([]string, error) {
	var ids []string
	q := `SELECT tenant_id FROM audit_heads
		UNION SELECT DISTINCT tenant_id FROM audit_events
		UNION SELECT DISTINCT tenant_id FROM audit_checkpoints
		ORDER BY 1`
	if err := tx.NewRaw(q).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("list audit chains: %w", err)
	}
	if only == "" {
		return ids, nil
	}
	for _, id := range ids {
		if id == only {
			return []string{only}, nil
		}
	}
	return nil, nil
}

func verifyChain(ctx context.Context, tx bun.Tx, chain string, keys map[string]ed25519.PublicKey, batchSize int, rep *Report) error {
	var cps []Checkpoint
	if err := tx.NewSelect().Model(&cps).Where("tenant_id = ?", chain).Order("seq").Scan(ctx); err != nil {
		return fmt.Errorf("read checkpoints of %s: %w", chain, err)
	}
	bySeq := make(map[int64]*Checkpoint, len(cps))
	for i := range cps {
		c := &cps[i]
		bySeq[c.Seq] = c
		pub, ok := keys[c.KeyID]
		switch {
		case !ok:
			rep.Problems = append(rep.Problems, Problem{chain, c.Seq, BadCheckpoint, "signed by unknown key " + c.KeyID})
		case !ed25519.Verify(pub, checkpointMessage(c), c.Signature):
			rep.Problems = append(rep.Problems, Problem{chain, c.Seq, BadCheckpoint, "signature does not verify"})
		}
	}
	rep.Checkpoints += len(cps)

	v := NewChainVerifier(chain)
	var last int64
	batch := make([]Record, 0, batchSize)
	for {
		var err error
		batch, err = readBatch(ctx, tx, chain, last, batchSize, batch[:0])
		if err != nil {
			return fmt.Errorf("read events of %s: %w", chain, err)
		}
		if len(batch) == 0 {
			break
		}
		v.Feed(batch)
		for i := range batch {
			if c := bySeq[batch[i].Seq]; c != nil && !bytes.Equal(c.Hash, batch[i].Hash) {
				v.add(c.Seq, BadCheckpoint, "checkpoint hash differs from the event's")
			}
		}
		last = batch[len(batch)-1].Seq
		if len(batch) < batchSize {
			break
		}
	}
	for i := range cps {
		if cps[i].Seq > last {
			v.add(cps[i].Seq, Truncated, fmt.Sprintf("a checkpoint covers event %d but the chain ends at %d", cps[i].Seq, last))
		}
	}
	var h head
	err := tx.NewSelect().Model(&h).Where("tenant_id = ?", chain).Scan(ctx)
	switch {
	case err == nil:
		if h.Seq > last {
			v.add(h.Seq, Truncated, fmt.Sprintf("the chain head is at %d but the chain ends at %d", h.Seq, last))
		} else if h.Seq < last || !bytes.Equal(h.Hash, v.lastHash) && last > 0 {
			v.add(last, Edited, "the chain head does not match the last event")
		}
	case errors.Is(err, sql.ErrNoRows):
		if last > 0 {
			v.add(last, Truncated, "the chain has events but no head")
		}
	default:
		return fmt.Errorf("read head of %s: %w", chain, err)
	}
	rep.Events += v.Events()
	rep.Problems = append(rep.Problems, v.Problems()...)
	return nil
}

// readBatch reads the next events of chain after seq with plain row
// scanning: verification reads every event, and bun's reflective model
// scanning cost more than hashing them.
func readBatch(ctx context.Context, tx bun.Tx, chain string, after int64, n int, dst []Record) ([]Record, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, at, actor, action, target, outcome, request_id, details,
		personal_digest, prev_hash, hash FROM audit_events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, chain, after, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Record
		r.TenantID = chain
		if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.Actor, &r.Action, &r.Target, &r.Outcome, &r.RequestID, &r.Details,
			&r.PersonalDigest, &r.PrevHash, &r.Hash); err != nil {
			return nil, err
		}
		dst = append(dst, r)
	}
	return dst, rows.Err()
}
