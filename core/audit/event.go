// Package audit is Plenum's append-only audit log.
//
// Events are appended in the same database transaction as the change they
// record, so a change and its event commit or vanish together. Each tenant
// has its own chain (the platform has the chain "platform"); each event's
// SHA-256 hash covers a canonical binary encoding of the event and the
// previous event's hash, so editing, removing or reordering an event breaks
// the chain where it happened. Chain heads are checkpointed and signed with
// an ed25519 key, which also catches a chain cut short at its tail.
//
// Personal data (IP address, user agent, personal details) is sealed with
// the tenant's data key; the chain covers the SHA-256 digest of the sealed
// bytes, so the sealed value can later be erased, or its key destroyed,
// while the chain still verifies.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// PlatformChain is the chain of platform-level events (operator sign-ins,
// key rotation, …), kept apart from every tenant's.
const PlatformChain = "platform"

// The outcomes of an event.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Event is what a caller records.
type Event struct {
	// Actor is who acted: "user:<id>", "operator:<id>", "system", …
	Actor string
	// Action is what happened, dotted: "tenant.create", "user.signin".
	Action string
	// Target is what it happened to: "tenant:<id>", "ballot:<id>".
	Target string
	// Outcome is Success (the default), Failure or Denied.
	Outcome string
	// RequestID ties the event to the request that caused it.
	RequestID string
	// Details are stored in clear and must hold no personal data.
	Details map[string]string

	// IP, UserAgent and PersonalDetails are personal data: sealed with
	// the tenant's key, erasable without breaking the chain.
	IP              string
	UserAgent       string
	PersonalDetails map[string]string
}

// Record is a stored event.
type Record struct {
	bun.BaseModel `bun:"table:audit_events"`
	store.Owned

	Seq            int64     `bun:"seq,pk"`
	ID             string    `bun:"id,notnull"`
	At             time.Time `bun:"at,notnull"`
	Actor          string    `bun:"actor,notnull"`
	Action         string    `bun:"action,notnull"`
	Target         string    `bun:"target,notnull"`
	Outcome        string    `bun:"outcome,notnull"`
	RequestID      string    `bun:"request_id,notnull"`
	Details        string    `bun:"details,notnull"` // canonical JSON
	Personal       []byte    `bun:"personal"`
	PersonalDigest []byte    `bun:"personal_digest,notnull"`
	PrevHash       []byte    `bun:"prev_hash,notnull"`
	Hash           []byte    `bun:"hash,notnull"`
}

// Chain returns the chain the record belongs to.
func (r *Record) Chain() string { return r.TenantID }

// head is a chain's tip.
type head struct {
	bun.BaseModel `bun:"table:audit_heads"`
	store.Owned
	Seq  int64  `bun:"seq,notnull"`
	Hash []byte `bun:"hash,notnull"`
}

// genesis is the previous hash of a chain's first event.
var genesis = make([]byte, sha256.Size)

// hashVersion starts every hashed encoding so the format can change.
const hashVersion = "plenum-audit-v1"

// ComputeHash returns the chain hash of r: SHA-256 over hashVersion and
// each field, every field length-prefixed (uvarint), integers as fixed
// 8-byte big-endian. It uses r.PrevHash and ignores r.Hash and r.Personal
// (the digest stands for the latter). buf is scratch space the caller may
// reuse across calls to avoid allocation; the result is a fresh array.
func ComputeHash(r *Record, buf []byte) ([sha256.Size]byte, []byte) {
	b := buf[:0]
	b = appendString(b, hashVersion)
	b = appendString(b, r.TenantID)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = appendString(b, r.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.UnixMicro()))
	b = appendString(b, r.Actor)
	b = appendString(b, r.Action)
	b = appendString(b, r.Target)
	b = appendString(b, r.Outcome)
	b = appendString(b, r.RequestID)
	b = appendString(b, r.Details)
	b = appendBytes(b, r.PersonalDigest)
	b = appendBytes(b, r.PrevHash)
	return sha256.Sum256(b), b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}
