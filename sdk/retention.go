package sdk

import (
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// RetentionRecord is one record the retention sweep asks about. Times are
// unix seconds; 0 means "never".
type RetentionRecord struct {
	// Class is tenant, user, session, vote_record, ballot, upload,
	// message, audit_event or backup.
	Class        string `json:"class"`
	ID           string `json:"id"`
	Created      int64  `json:"created"`
	LastActivity int64  `json:"last_activity"`
	Deleted      int64  `json:"deleted"`
	Closed       int64  `json:"closed"`
	LegalHold    bool   `json:"legal_hold"`
}

// RetentionInput is a batch of records and the sweep's clock.
type RetentionInput struct {
	Now     int64             `json:"now"`
	Records []RetentionRecord `json:"records"`
}

// RetentionDecision says what to do with one record, and when: keep (until
// At, when the record is looked at again), delete, anonymise, crypto_shred,
// or warn (the owners, at At).
type RetentionDecision struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	At     int64  `json:"at"`
	Reason string `json:"reason"`
}

// RetentionOutput holds one decision per input record.
type RetentionOutput struct {
	Decisions []RetentionDecision `json:"decisions"`
}

// AppendWire encodes in.
func (in *RetentionInput) AppendWire(w *wire.Writer) {
	w.Int(in.Now)
	w.Uint(uint64(len(in.Records)))
	for i := range in.Records {
		r := &in.Records[i]
		w.String(r.Class)
		w.String(r.ID)
		w.Int(r.Created)
		w.Int(r.LastActivity)
		w.Int(r.Deleted)
		w.Int(r.Closed)
		w.Bool(r.LegalHold)
	}
}

// ReadWire decodes in; strings are views of r's input.
func (in *RetentionInput) ReadWire(r *wire.Reader) error {
	in.Now = r.Int()
	n := r.Len(8)
	in.Records = in.Records[:0]
	for i := 0; i < n; i++ {
		in.Records = append(in.Records, RetentionRecord{
			Class: r.StringView(), ID: r.StringView(), Created: r.Int(), LastActivity: r.Int(),
			Deleted: r.Int(), Closed: r.Int(), LegalHold: r.Bool(),
		})
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("retention input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
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

// ReadWire decodes out and checks every action.
func (out *RetentionOutput) ReadWire(r *wire.Reader) error {
	n := r.Len(4)
	out.Decisions = out.Decisions[:0]
	for i := 0; i < n; i++ {
		d := RetentionDecision{ID: r.StringView(), Action: r.StringView(), At: r.Int(), Reason: r.StringView()}
		switch d.Action {
		case "keep", "delete", "anonymise", "crypto_shred", "warn":
		default:
			if r.Err() == nil {
				return fmt.Errorf("retention output: unknown action %q", d.Action)
			}
		}
		out.Decisions = append(out.Decisions, d)
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("retention output: %w", err)
	}
	return nil
}

// RegisterRetention makes fn the plugin's retention hook.
func RegisterRetention(fn func(*RetentionInput) (*RetentionOutput, error)) {
	var in RetentionInput
	register(HookRetention, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}
