package sdk

import (
	"github.com/plenum-vote/plenum/sdk/wire"
)

// Record classes (RetentionRecord.Class).
const (
	ClassTenant     = "tenant"
	ClassUser       = "user"
	ClassSession    = "session"
	ClassVoteRecord = "vote_record"
	ClassBallot     = "ballot"
	ClassUpload     = "upload"
	ClassMessage    = "message"
	ClassAuditEvent = "audit_event"
	ClassBackup     = "backup"
)

// Retention actions (RetentionDecision.Action).
const (
	// ActionKeep keeps the record until At, when it is looked at again.
	ActionKeep = "keep"
	// ActionDelete deletes the record at At.
	ActionDelete = "delete"
	// ActionAnonymise removes the personal data at At and keeps the rest
	// (a deleted member's votes stay countable).
	ActionAnonymise = "anonymise"
	// ActionCryptoShred destroys the key that encrypts the record (a
	// tenant's data key: its data and backups become unreadable) at At.
	ActionCryptoShred = "crypto_shred"
	// ActionWarn warns the owners at At of an action to come.
	ActionWarn = "warn"
)

// RetentionRecord is one record the retention sweep asks about. Times are
// unix seconds; 0 means "never".
type RetentionRecord struct {
	// Class is "tenant", "user", "session", "vote_record", "ballot",
	// "upload", "message", "audit_event" or "backup".
	Class        string `json:"class"`
	ID           string `json:"id"`
	Created      int64  `json:"created"`
	LastActivity int64  `json:"last_activity"`
	Deleted      int64  `json:"deleted"`
	Closed       int64  `json:"closed"`
	// LegalHold forbids deleting the record whatever its age.
	LegalHold bool `json:"legal_hold"`
}

// RetentionInput is a batch of records and the sweep's clock. The plugin's
// configuration (retention periods) is sdk.Config().
type RetentionInput struct {
	// Now is the sweep's time, unix seconds.
	Now     int64             `json:"now"`
	Records []RetentionRecord `json:"records"`
}

// RetentionDecision says what to do with one record, and when.
type RetentionDecision struct {
	ID string `json:"id"`
	// Action is "keep", "delete", "anonymise", "crypto_shred" or "warn".
	Action string `json:"action"`
	// At is when, unix seconds.
	At     int64  `json:"at"`
	Reason string `json:"reason"`
}

// RetentionOutput holds one decision per input record.
type RetentionOutput struct {
	Decisions []RetentionDecision `json:"decisions"`
}

// AppendWire appends in's wire encoding to w.
func (in *RetentionInput) AppendWire(w *wire.Writer) {
	w.Int(in.Now)
	w.Uint(uint64(len(in.Records)))
	for i := range in.Records {
		rec := &in.Records[i]
		w.String(rec.Class)
		w.String(rec.ID)
		w.Int(rec.Created)
		w.Int(rec.LastActivity)
		w.Int(rec.Deleted)
		w.Int(rec.Closed)
		w.Bool(rec.LegalHold)
	}
}

// ReadWire decodes in from r, reusing in's slices, and checks the record
// classes and times.
func (in *RetentionInput) ReadWire(r *wire.Reader) error {
	in.Now = readCount(r, "now")
	in.Records = resize(in.Records, r.Len(7))
	for i := range in.Records {
		rec := RetentionRecord{
			Class: r.String(), ID: r.String(), Created: readCount(r, "created"), LastActivity: readCount(r, "last_activity"),
			Deleted: readCount(r, "deleted"), Closed: readCount(r, "closed"), LegalHold: r.Bool(),
		}
		if !validClass(rec.Class) {
			invalid(r, "record class", rec.Class)
		}
		in.Records[i] = rec
	}
	return finish(r, "retention input")
}

// AppendWire appends out's wire encoding to w.
func (out *RetentionOutput) AppendWire(w *wire.Writer) {
	w.Uint(uint64(len(out.Decisions)))
	for i := range out.Decisions {
		d := &out.Decisions[i]
		w.String(d.ID)
		w.String(d.Action)
		w.Int(d.At)
		w.String(d.Reason)
	}
}

// ReadWire decodes out from r, reusing out's slices, and checks every
// action.
func (out *RetentionOutput) ReadWire(r *wire.Reader) error {
	out.Decisions = resize(out.Decisions, r.Len(4))
	for i := range out.Decisions {
		d := RetentionDecision{ID: r.String(), Action: r.String(), At: r.Int(), Reason: r.String()}
		switch d.Action {
		case ActionKeep, ActionDelete, ActionAnonymise, ActionCryptoShred, ActionWarn:
		default:
			invalid(r, "action", d.Action)
		}
		out.Decisions[i] = d
	}
	return finish(r, "retention output")
}

func validClass(s string) bool {
	switch s {
	case ClassTenant, ClassUser, ClassSession, ClassVoteRecord, ClassBallot, ClassUpload, ClassMessage, ClassAuditEvent, ClassBackup:
		return true
	}
	return false
}
