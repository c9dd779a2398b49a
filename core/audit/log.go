package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Sealer encrypts and decrypts personal data with a scope's data key.
// core/crypto's Keyring satisfies it.
type Sealer interface {
	Seal(ctx context.Context, scope string, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, scope string, ciphertext, associatedData []byte) ([]byte, error)
}

// Options tune a Log.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Log appends, checkpoints, verifies and exports audit events.
type Log struct {
	db     *store.DB
	sealer Sealer
	signer *Signer
	now    func() time.Time
}

// New returns the log stored in db. It registers signer's public key so
// that checkpoints it signs can be verified later, by any host.
func New(ctx context.Context, db *store.DB, sealer Sealer, signer *Signer, opts Options) (*Log, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{db: db, sealer: sealer, signer: signer, now: opts.Now}
	if signer != nil {
		if err := l.registerKey(ctx); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Limits on what one event may carry, so a bug cannot bloat the log.
const (
	maxField   = 512
	maxDetails = 16 << 10
)

// ErrInvalidEvent is returned for an event that cannot be recorded.
var ErrInvalidEvent = errors.New("invalid audit event")

// ErrNoSealer is returned when personal data is to be sealed or opened by
// a Log that was given no Sealer.
var ErrNoSealer = errors.New("audit log has no sealer for personal data")

func validate(ev *Event) error {
	if ev.Action == "" || ev.Actor == "" {
		return fmt.Errorf("%w: actor and action are required", ErrInvalidEvent)
	}
	switch ev.Outcome {
	case "":
		ev.Outcome = Success
	case Success, Failure, Denied:
	default:
		return fmt.Errorf("%w: outcome %q", ErrInvalidEvent, ev.Outcome)
	}
	for _, s := range []string{ev.Actor, ev.Action, ev.Target, ev.RequestID, ev.IP, ev.UserAgent} {
		if len(s) > maxField || !utf8.ValidString(s) {
			return fmt.Errorf("%w: a field is longer than %d bytes or not UTF-8", ErrInvalidEvent, maxField)
		}
	}
	return nil
}

// Append records ev as the next event of the chain of tx's tenant, inside
// tx: if tx rolls back, the event was never there.
func (l *Log) Append(ctx context.Context, tx *store.Tx, ev Event) (Record, error) {
	recs, err := l.AppendBatch(ctx, tx, []Event{ev})
	if err != nil {
		return Record{}, err
	}
	return recs[0], nil
}

// Record appends ev to tenantID's chain in a transaction of its own, for
// events that accompany no change of data (a sensitive read, an export).
func (l *Log) Record(ctx context.Context, tenantID string, ev Event) error {
	sc, err := l.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := l.Append(ctx, tx, ev)
		return err
	})
}

// AppendBatch records evs, in order, as the next events of tx's chain with
// one lock of the chain head and one multi-row insert.
func (l *Log) AppendBatch(ctx context.Context, tx *store.Tx, evs []Event) ([]Record, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	chain := tx.TenantID()
	recs := make([]Record, len(evs))
	at := l.now().UTC().Truncate(time.Microsecond)
	for i := range evs {
		ev := evs[i]
		if err := validate(&ev); err != nil {
			return nil, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("audit event id: %w", err)
		}
		details, err := canonicalJSON(ev.Details)
		if err != nil {
			return nil, err
		}
		r := &recs[i]
		r.TenantID = chain // hashed below, before Insert would stamp it
		r.ID, r.At = id.String(), at
		r.Actor, r.Action, r.Target, r.Outcome, r.RequestID, r.Details = ev.Actor, ev.Action, ev.Target, ev.Outcome, ev.RequestID, details
		if ev.IP != "" || ev.UserAgent != "" || len(ev.PersonalDetails) > 0 {
			if l.sealer == nil {
				return nil, ErrNoSealer
			}
			pt, err := json.Marshal(personal{IP: ev.IP, UserAgent: ev.UserAgent, Details: ev.PersonalDetails})
			if err != nil {
				return nil, fmt.Errorf("encode personal data: %w", err)
			}
			if r.Personal, err = l.sealer.Seal(ctx, chain, pt, personalAD(chain, r.ID)); err != nil {
				return nil, fmt.Errorf("seal personal data: %w", err)
			}
			d := sha256.Sum256(r.Personal)
			r.PersonalDigest = d[:]
		} else {
			r.PersonalDigest = []byte{}
		}
	}
	h, err := lockHead(ctx, tx)
	if err != nil {
		return nil, err
	}
	var buf []byte
	prev := h.Hash
	for i := range recs {
		r := &recs[i]
		r.Seq = h.Seq + int64(i) + 1
		r.PrevHash = prev
		var sum [sha256.Size]byte
		sum, buf = ComputeHash(r, buf)
		r.Hash = sum[:]
		prev = r.Hash
	}
	if err := tx.Insert(ctx, &recs); err != nil {
		return nil, fmt.Errorf("append audit events: %w", err)
	}
	h.Seq, h.Hash = recs[len(recs)-1].Seq, prev
	if _, err := tx.Update(h).Column("seq", "hash").Exec(ctx); err != nil {
		return nil, fmt.Errorf("advance audit head: %w", err)
	}
	return recs, nil
}

// lockHead returns tx's chain head, creating it on the first event, locked
// for the rest of the transaction (row lock on PostgreSQL; SQLite write
// transactions are already exclusive).
func lockHead(ctx context.Context, tx *store.Tx) (*head, error) {
	for attempt := 0; attempt < 2; attempt++ {
		h := new(head)
		q := tx.Select(h)
		if tx.Dialect() == store.Postgres {
			q = q.For("UPDATE")
		}
		err := q.Scan(ctx)
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("read audit head: %w", err)
		}
		// First event of the chain. Concurrent first appends both get here;
		// DO NOTHING lets the loser wait for the winner's row instead of
		// failing, and the second SELECT … FOR UPDATE then locks it.
		if _, err := tx.NewInsert(&head{Hash: genesis}).On("CONFLICT (tenant_id) DO NOTHING").Exec(ctx); err != nil {
			return nil, fmt.Errorf("create audit head: %w", err)
		}
	}
	return nil, errors.New("audit head could not be created")
}

type personal struct {
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

func personalAD(chain, id string) []byte {
	return []byte("audit_events.personal:" + chain + ":" + id)
}

// canonicalJSON encodes details with sorted keys (encoding/json sorts map
// keys), so the same details always hash the same.
func canonicalJSON(details map[string]string) (string, error) {
	if len(details) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return "", fmt.Errorf("%w: details: %v", ErrInvalidEvent, err)
	}
	if len(b) > maxDetails {
		return "", fmt.Errorf("%w: details longer than %d bytes", ErrInvalidEvent, maxDetails)
	}
	return string(b), nil
}

// ListOptions select events for display.
type ListOptions struct {
	// Limit caps the number of events (default 50, at most 1000).
	Limit int
	// BeforeSeq pages backwards: only events with a smaller seq.
	BeforeSeq int64
}

// List returns tx's tenant's events, newest first. Personal data stays
// sealed; use OpenPersonal to show it to someone allowed to see it.
func (l *Log) List(ctx context.Context, tx *store.Tx, opts ListOptions) ([]Record, error) {
	if opts.Limit <= 0 {
		opts.Limit = 50
	}
	if opts.Limit > 1000 {
		opts.Limit = 1000
	}
	var recs []Record
	q := tx.Select(&recs).Order("seq DESC").Limit(int64(opts.Limit))
	if opts.BeforeSeq > 0 {
		q = q.Where("seq < ?", opts.BeforeSeq)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return recs, nil
}

// Personal is the opened personal data of an event.
type Personal struct {
	IP        string
	UserAgent string
	Details   map[string]string
}

// OpenPersonal opens r's sealed personal data. It returns a zero Personal
// when there is none or it was erased.
func (l *Log) OpenPersonal(ctx context.Context, r *Record) (Personal, error) {
	if len(r.Personal) == 0 {
		return Personal{}, nil
	}
	if l.sealer == nil {
		return Personal{}, ErrNoSealer
	}
	pt, err := l.sealer.Open(ctx, r.TenantID, r.Personal, personalAD(r.TenantID, r.ID))
	if err != nil {
		return Personal{}, fmt.Errorf("open personal data of audit event %s/%d: %w", r.TenantID, r.Seq, err)
	}
	var p personal
	if err := json.NewDecoder(bytes.NewReader(pt)).Decode(&p); err != nil {
		return Personal{}, fmt.Errorf("decode personal data: %w", err)
	}
	return Personal{IP: p.IP, UserAgent: p.UserAgent, Details: p.Details}, nil
}

// ErasePersonal removes the sealed personal data of tx's tenant's events
// whose seq is in seqs (GDPR erasure). The chain stays verifiable: it
// covers the digest, which stays.
func (l *Log) ErasePersonal(ctx context.Context, tx *store.Tx, seqs []int64) (int64, error) {
	if len(seqs) == 0 {
		return 0, nil
	}
	res, err := tx.Update((*Record)(nil)).Set("personal = NULL").Where("seq IN (?)", bun.In(seqs)).Where("personal IS NOT NULL").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("erase personal data: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
