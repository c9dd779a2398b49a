package sdk

import (
	"encoding/json"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// ValidateBallotInput is a ballot definition a tenant admin is saving.
// The plugin of its counting method says whether it can count it, before
// anyone votes. Nothing but the enums is checked on decoding: reporting
// bad values is the hook's job.
type ValidateBallotInput struct {
	// Kind is "motion" or "election".
	Kind string `json:"kind"`
	// Rule is the counting method.
	Rule string `json:"rule"`
	// Config is the method configuration the admin chose (JSON), or nil.
	Config  json.RawMessage `json:"config,omitempty"`
	Options []Option        `json:"options"`
	Seats   int64           `json:"seats"`
	// Basis is "votes_cast" (also when empty) or "eligible".
	Basis string `json:"basis,omitempty"`
	// Counting is "head", "weight" or "both"; when empty, ByWeight
	// decides between head and weight.
	Counting     string    `json:"counting,omitempty"`
	Quorum       int64     `json:"quorum"`
	QuorumWeight Rational  `json:"quorum_weight,omitzero"`
	Threshold    Threshold `json:"threshold"`
	ByWeight     bool      `json:"by_weight"`
	// Opens and Closes are unix seconds (UTC).
	Opens  int64 `json:"opens"`
	Closes int64 `json:"closes"`
}

// Problem is one reason a ballot definition is refused: the field it
// concerns (a JSON name of ValidateBallotInput) and a message for the
// admin.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidateBallotOutput says whether the ballot can be counted as defined.
type ValidateBallotOutput struct {
	Valid    bool      `json:"valid"`
	Problems []Problem `json:"problems"`
}

// AppendWire appends in's wire encoding to w.
func (in *ValidateBallotInput) AppendWire(w *wire.Writer) {
	w.String(in.Kind)
	w.String(in.Rule)
	w.Blob(in.Config)
	appendOptions(w, in.Options)
	w.Int(in.Seats)
	w.String(in.Basis)
	w.String(in.Counting)
	w.Int(in.Quorum)
	appendRational(w, in.QuorumWeight)
	appendThreshold(w, in.Threshold)
	w.Bool(in.ByWeight)
	w.Int(in.Opens)
	w.Int(in.Closes)
}

// ReadWire decodes in from r, reusing in's slices, and checks its enums.
func (in *ValidateBallotInput) ReadWire(r *wire.Reader) error {
	if in.Kind = r.String(); !validKind(in.Kind) {
		invalid(r, "kind", in.Kind)
	}
	in.Rule = r.String()
	in.Config = r.Blob()
	in.Options = readOptions(r, in.Options)
	in.Seats = r.Int()
	if in.Basis = r.String(); !validBasis(in.Basis) {
		invalid(r, "basis", in.Basis)
	}
	if in.Counting = r.String(); !validCounting(in.Counting) {
		invalid(r, "counting", in.Counting)
	}
	in.Quorum = r.Int()
	in.QuorumWeight = Rational{Num: r.Int(), Den: r.Int()}
	in.Threshold = Threshold{Num: r.Int(), Den: r.Int(), Strict: r.Bool()}
	in.ByWeight = r.Bool()
	in.Opens, in.Closes = r.Int(), r.Int()
	return finish(r, "validate_ballot input")
}

// AppendWire appends out's wire encoding to w.
func (out *ValidateBallotOutput) AppendWire(w *wire.Writer) {
	w.Bool(out.Valid)
	w.Uint(uint64(len(out.Problems)))
	for _, p := range out.Problems {
		w.String(p.Field)
		w.String(p.Message)
	}
}

// ReadWire decodes out from r, reusing out's slices. An output that says
// valid and lists problems contradicts itself and is refused.
func (out *ValidateBallotOutput) ReadWire(r *wire.Reader) error {
	out.Valid = r.Bool()
	out.Problems = resize(out.Problems, r.Len(2))
	for i := range out.Problems {
		out.Problems[i] = Problem{Field: r.String(), Message: r.String()}
	}
	if out.Valid && len(out.Problems) > 0 {
		invalid(r, "valid", "true with problems")
	}
	return finish(r, "validate_ballot output")
}
