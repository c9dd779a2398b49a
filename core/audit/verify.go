package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"
)

// The kinds of problem Verify reports.
const (
	// Edited: an event's stored hash differs from the hash of its content,
	// or the chain head names a hash no event has.
	Edited = "edited"
	// Removed: a sequence number is missing, or an event does not link to
	// the one before it and links to no other event either (the first
	// event's previous hash is not the genesis hash).
	Removed = "removed"
	// Reordered: an event links to an event other than the one stored just
	// before it, one seen earlier in the chain or stored after it.
	Reordered = "reordered"
	// Truncated: the chain head or a checkpoint names a sequence number
	// beyond the last stored event.
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

// recentWindow is how many recent event hashes a ChainVerifier remembers
// to tell a reordered link (to an event seen a little earlier) from a
// removal; maxPending is how many unexplained links it keeps, to recognise
// a link to an event stored later, beyond the current batch.
const (
	recentWindow = 1024
	maxPending   = 64
)

type link struct {
	seq  int64
	hash [sha256.Size]byte
}

type pendingLink struct {
	problem int // index in problems
	prev    [sha256.Size]byte
}

// ChainVerifier checks one chain's events, fed in stored order (ascending
// seq). It keeps the previous hash, a fixed window of recent hashes and the
// current batch, so memory stays bounded whatever the chain's length.
//
// # Notes
//
// Each event yields at most one problem, checked in this order:
//   - its seq skips numbers: Removed at the first missing seq (the link
//     check is skipped, the hash check still runs, since deleting an event
//     leaves the others intact);
//   - its seq goes backwards: Reordered;
//   - its previous hash is not the stored hash of the event before it:
//     Reordered when it is the hash of another event (one of the last
//     1024, or one fed later — in the same batch, or up to 64 unexplained
//     links remembered across batches), otherwise Removed;
//   - its content does not hash to its stored hash: Edited.
//
// Rewriting an event and recomputing its hash is reported as Removed at
// the next event (its link no longer matches); rewriting every hash from
// some event to the end is caught only by the chain head and the signed
// checkpoints, which Log.Verify checks.
type ChainVerifier struct {
	chain    string
	expected int64
	prev     []byte // stored hash of the event fed last (genesis first)
	recent   [recentWindow]link
	nRecent  int
	pending  []pendingLink
	buf      []byte
	events   int64
	problems []Problem
}

// NewChainVerifier starts the verification of chain.
func NewChainVerifier(chain string) *ChainVerifier {
	return &ChainVerifier{chain: chain, expected: 1, prev: append([]byte(nil), genesis...)}
}

// VerifyChain checks a whole chain held in memory, in stored order, and
// returns its problems. It cannot see a tail cut short: that takes the
// chain head or a checkpoint (see Log.Verify).
func VerifyChain(chain string, recs []Record) []Problem {
	v := NewChainVerifier(chain)
	v.Feed(recs)
	return v.Problems()
}

// Feed checks the next batch of events, in stored order.
func (v *ChainVerifier) Feed(batch []Record) {
	for i := range batch {
		r := &batch[i]
		v.events++
		if len(v.pending) > 0 {
			v.resolvePending(r)
		}
		switch {
		case r.Seq > v.expected:
			if r.Seq == v.expected+1 {
				v.add(v.expected, Removed, fmt.Sprintf("event %d is missing", v.expected))
			} else {
				v.add(v.expected, Removed, fmt.Sprintf("events %d to %d are missing", v.expected, r.Seq-1))
			}
			v.checkHash(r)
		case r.Seq < v.expected:
			v.add(r.Seq, Reordered, fmt.Sprintf("sequence number %d is stored after %d", r.Seq, v.expected-1))
		case !bytes.Equal(r.PrevHash, v.prev):
			v.brokenLink(r, batch[i+1:])
		default:
			v.checkHash(r)
		}
		v.prev = append(v.prev[:0], r.Hash...)
		if len(r.Hash) == sha256.Size {
			l := &v.recent[v.nRecent%recentWindow]
			l.seq = r.Seq
			copy(l.hash[:], r.Hash)
			v.nRecent++
		}
		if r.Seq >= v.expected {
			v.expected = r.Seq + 1
		}
	}
}

func (v *ChainVerifier) checkHash(r *Record) {
	var sum [sha256.Size]byte
	sum, v.buf = ComputeHash(r, v.buf)
	if !bytes.Equal(sum[:], r.Hash) {
		v.add(r.Seq, Edited, "content does not match its hash")
	}
}

// brokenLink classifies an event whose previous hash is not the stored
// hash of the event before it.
func (v *ChainVerifier) brokenLink(r *Record, rest []Record) {
	if r.Seq == 1 {
		// The first event must start from genesis whatever happened.
		if s, ok := v.findLater(r.PrevHash, rest); ok {
			v.add(r.Seq, Reordered, fmt.Sprintf("the first event links to the event stored at seq %d", s))
			return
		}
		v.add(r.Seq, Removed, "the first event does not start from the genesis hash")
		v.remember(r.PrevHash)
		return
	}
	if s, ok := v.findRecent(r.PrevHash); ok {
		v.add(r.Seq, Reordered, fmt.Sprintf("links to the event stored at seq %d, not to the one before it", s))
		return
	}
	if s, ok := v.findLater(r.PrevHash, rest); ok {
		v.add(r.Seq, Reordered, fmt.Sprintf("links to the event stored later at seq %d", s))
		return
	}
	v.add(r.Seq, Removed, "does not link to the event before it (an event was removed, or the one before it was replaced)")
	v.remember(r.PrevHash)
}

// remember keeps the unexplained link of the problem just added, so that
// an event fed later with that hash turns it into Reordered.
func (v *ChainVerifier) remember(prev []byte) {
	if len(prev) != sha256.Size {
		return
	}
	p := pendingLink{problem: len(v.problems) - 1}
	copy(p.prev[:], prev)
	if len(v.pending) == maxPending {
		v.pending = append(v.pending[:0], v.pending[1:]...)
	}
	v.pending = append(v.pending, p)
}

func (v *ChainVerifier) findRecent(h []byte) (int64, bool) {
	if len(h) != sha256.Size {
		return 0, false
	}
	n := min(v.nRecent, recentWindow)
	for i := 0; i < n; i++ {
		l := &v.recent[(v.nRecent-1-i+recentWindow)%recentWindow]
		if bytes.Equal(l.hash[:], h) {
			return l.seq, true
		}
	}
	return 0, false
}

func (v *ChainVerifier) findLater(h []byte, rest []Record) (int64, bool) {
	for i := range rest {
		if bytes.Equal(rest[i].Hash, h) {
			return rest[i].Seq, true
		}
	}
	return 0, false
}

// resolvePending turns an earlier Removed into Reordered when r is the
// event that link named.
func (v *ChainVerifier) resolvePending(r *Record) {
	for i := range v.pending {
		if bytes.Equal(v.pending[i].prev[:], r.Hash) {
			p := &v.problems[v.pending[i].problem]
			p.Kind = Reordered
			if p.Seq == 1 {
				p.Detail = fmt.Sprintf("the first event links to the event stored at seq %d", r.Seq)
			} else {
				p.Detail = fmt.Sprintf("links to the event stored later at seq %d", r.Seq)
			}
			v.pending = append(v.pending[:i], v.pending[i+1:]...)
			return
		}
	}
}

func (v *ChainVerifier) add(seq int64, kind, detail string) {
	v.problems = append(v.problems, Problem{Chain: v.chain, Seq: seq, Kind: kind, Detail: detail})
}

// Problems returns what was found so far.
func (v *ChainVerifier) Problems() []Problem { return v.problems }

// Events returns how many events were fed.
func (v *ChainVerifier) Events() int64 { return v.events }

// LastSeq returns the seq of the last event fed (0 before any).
func (v *ChainVerifier) LastSeq() int64 { return v.expected - 1 }

// Verify recomputes every chain (or the one in opts) and checks the chain
// heads and signed checkpoints against the events. It needs no data key.
// Events are read in batches of opts.BatchSize (keyset pagination on
// seq), so memory stays bounded.
//
// # Notes
//
// Verify may run while events are appended. On PostgreSQL each query sees
// what was committed when it started, so each chain is read from a fixed
// point: its head first, then its events up to the head. Events,
// checkpoints and a head found beyond that point are checked against a
// second reading of the head, so that appends made during verification are
// not reported as tampering.
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

// readHead returns chain's head, or nil when it has none.
func readHead(ctx context.Context, tx bun.Tx, chain string) (*head, error) {
	h := new(head)
	err := tx.NewSelect().Model(h).Where("tenant_id = ?", chain).Scan(ctx)
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	}
	return nil, fmt.Errorf("read head of %s: %w", chain, err)
}

func verifyChain(ctx context.Context, tx bun.Tx, chain string, keys map[string]ed25519.PublicKey, batchSize int, rep *Report) error {
	h, err := readHead(ctx, tx, chain)
	if err != nil {
		return err
	}
	limit := int64(0) // no head yet: a chain being created, or a deleted head
	if h != nil {
		limit = h.Seq
	}
	v := NewChainVerifier(chain)
	var lastHash []byte
	checkCheckpoints := func(cps []Checkpoint) {
		rep.Checkpoints += len(cps)
		for i := range cps {
			c := &cps[i]
			pub, ok := keys[c.KeyID]
			switch {
			case !ok:
				v.add(c.Seq, BadCheckpoint, "signed by unknown key "+c.KeyID)
			case !ed25519.Verify(pub, checkpointMessage(c), c.Signature):
				v.add(c.Seq, BadCheckpoint, "signature does not verify")
			}
		}
	}
	var last int64
	batch := make([]Record, 0, min(batchSize, 1024))
	for last < limit {
		var err error
		batch, err = readBatch(ctx, tx, chain, last, limit, batchSize, batch[:0])
		if err != nil {
			return fmt.Errorf("read events of %s: %w", chain, err)
		}
		if len(batch) == 0 {
			// The tail up to the head is gone: its checkpoints are unread.
			var cps []Checkpoint
			if err := tx.NewSelect().Model(&cps).Where("tenant_id = ?", chain).Where("seq > ? AND seq <= ?", last, limit).
				Order("seq").Scan(ctx); err != nil {
				return fmt.Errorf("read checkpoints of %s: %w", chain, err)
			}
			checkCheckpoints(cps)
			for i := range cps {
				v.add(cps[i].Seq, Truncated, fmt.Sprintf("a checkpoint covers event %d but the chain ends at %d", cps[i].Seq, last))
			}
			break
		}
		v.Feed(batch)
		hi := batch[len(batch)-1].Seq
		if len(batch) < batchSize {
			hi = limit // the checkpoints of a missing tail are read here too
		}
		// The checkpoints of this stretch of the chain, compared with its
		// events as they stream by.
		var cps []Checkpoint
		if err := tx.NewSelect().Model(&cps).Where("tenant_id = ?", chain).Where("seq > ? AND seq <= ?", last, hi).
			Order("seq").Scan(ctx); err != nil {
			return fmt.Errorf("read checkpoints of %s: %w", chain, err)
		}
		checkCheckpoints(cps)
		j := 0
		for i := range cps {
			for j < len(batch) && batch[j].Seq < cps[i].Seq {
				j++
			}
			if j < len(batch) && batch[j].Seq == cps[i].Seq && !bytes.Equal(cps[i].Hash, batch[j].Hash) {
				v.add(cps[i].Seq, BadCheckpoint, "checkpoint hash differs from the event's")
			}
			if cps[i].Seq > batch[len(batch)-1].Seq {
				v.add(cps[i].Seq, Truncated, fmt.Sprintf("a checkpoint covers event %d but the chain ends at %d", cps[i].Seq, batch[len(batch)-1].Seq))
			}
		}
		last = batch[len(batch)-1].Seq
		lastHash = append(lastHash[:0], batch[len(batch)-1].Hash...)
		if len(batch) < batchSize {
			break
		}
	}
	if h != nil {
		switch {
		case h.Seq > last:
			v.add(h.Seq, Truncated, fmt.Sprintf("the chain head is at %d but the chain ends at %d", h.Seq, last))
		case !bytes.Equal(h.Hash, lastHash):
			v.add(last, Edited, "the chain head's hash is not the last event's")
		}
	}
	// What lies beyond the head read at the start is either appended since
	// (then the head has moved past it by now) or was put there by hand.
	var maxSeq int64
	if err := tx.NewRaw("SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE tenant_id = ?", chain).Scan(ctx, &maxSeq); err != nil {
		return fmt.Errorf("read events of %s: %w", chain, err)
	}
	var beyond []Checkpoint
	if err := tx.NewSelect().Model(&beyond).Where("tenant_id = ?", chain).Where("seq > ?", limit).Order("seq").Limit(100).Scan(ctx); err != nil {
		return fmt.Errorf("read checkpoints of %s: %w", chain, err)
	}
	if maxSeq > limit || len(beyond) > 0 {
		h2, err := readHead(ctx, tx, chain)
		if err != nil {
			return err
		}
		now := int64(math.MinInt64)
		if h2 != nil {
			now = h2.Seq
		}
		if maxSeq > limit && maxSeq > now {
			if h2 == nil {
				v.add(maxSeq, Truncated, "the chain has events but no head")
			} else {
				v.add(limit+1, Edited, fmt.Sprintf("events %d to %d lie beyond the chain head", limit+1, maxSeq))
			}
		}
		for i := range beyond {
			if beyond[i].Seq > now {
				rep.Checkpoints++
				v.add(beyond[i].Seq, Truncated, fmt.Sprintf("a checkpoint covers event %d but the chain head is at %d", beyond[i].Seq, max(now, 0)))
			}
		}
	}
	rep.Events += v.Events()
	rep.Problems = append(rep.Problems, v.Problems()...)
	return nil
}

// readBatch reads up to n events of chain with after < seq <= upTo, with
// plain row scanning: verification reads every event, and bun's reflective
// model scanning cost more than hashing them. The sealed personal data is
// not read; the chain covers only its digest.
func readBatch(ctx context.Context, tx bun.Tx, chain string, after, upTo int64, n int, dst []Record) ([]Record, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, at, actor, action, target, outcome, request_id, details,
		personal_digest, prev_hash, hash FROM audit_events WHERE tenant_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
		chain, after, upTo, n)
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
