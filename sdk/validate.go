package sdk

import (
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// Option is one choice of a ballot.
type Option struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// ValidateBallotInput is a ballot definition a tenant admin is saving;
// the method's plugin says whether it can count it.
type ValidateBallotInput struct {
	Kind      string    `json:"kind"` // motion or election
	Rule      string    `json:"rule"`
	Options   []Option  `json:"options"`
	Seats     int64     `json:"seats"`
	Quorum    int64     `json:"quorum"`
	Threshold Threshold `json:"threshold"`
	ByWeight  bool      `json:"by_weight"`
	// Opens and Closes are unix seconds.
	Opens  int64 `json:"opens"`
	Closes int64 `json:"closes"`
}

// Problem is one reason a ballot definition is refused.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidateBallotOutput says whether the ballot can be counted as defined.
type ValidateBallotOutput struct {
	Valid    bool      `json:"valid"`
	Problems []Problem `json:"problems"`
}

// AppendWire encodes in.
func (in *ValidateBallotInput) AppendWire(w *wire.Writer) {
	w.String(in.Kind)
	w.String(in.Rule)
	w.Uint(uint64(len(in.Options)))
	for _, o := range in.Options {
		w.String(o.ID)
		w.String(o.Label)
	}
	w.Int(in.Seats)
	w.Int(in.Quorum)
	w.Int(in.Threshold.Num)
	w.Int(in.Threshold.Den)
	w.Bool(in.Threshold.Strict)
	w.Bool(in.ByWeight)
	w.Int(in.Opens)
	w.Int(in.Closes)
}

// ReadWire decodes in; strings are views of r's input.
func (in *ValidateBallotInput) ReadWire(r *wire.Reader) error {
	in.Kind, in.Rule = r.StringView(), r.StringView()
	n := r.Len(2)
	in.Options = in.Options[:0]
	for i := 0; i < n; i++ {
		in.Options = append(in.Options, Option{ID: r.StringView(), Label: r.StringView()})
	}
	in.Seats, in.Quorum = r.Int(), r.Int()
	in.Threshold = Threshold{Num: r.Int(), Den: r.Int(), Strict: r.Bool()}
	in.ByWeight = r.Bool()
	in.Opens, in.Closes = r.Int(), r.Int()
	if err := r.End(); err != nil {
		return fmt.Errorf("validate_ballot input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
func (out *ValidateBallotOutput) AppendWire(w *wire.Writer) {
	w.Bool(out.Valid)
	w.Uint(uint64(len(out.Problems)))
	for _, p := range out.Problems {
		w.String(p.Field)
		w.String(p.Message)
	}
}

// ReadWire decodes out.
func (out *ValidateBallotOutput) ReadWire(r *wire.Reader) error {
	out.Valid = r.Bool()
	n := r.Len(2)
	out.Problems = out.Problems[:0]
	for i := 0; i < n; i++ {
		out.Problems = append(out.Problems, Problem{Field: r.StringView(), Message: r.StringView()})
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("validate_ballot output: %w", err)
	}
	return nil
}

// RegisterValidateBallot makes fn the plugin's validate_ballot hook.
func RegisterValidateBallot(fn func(*ValidateBallotInput) (*ValidateBallotOutput, error)) {
	var in ValidateBallotInput
	register(HookValidateBallot, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}
