package sdk

import (
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// Rational is an exact fraction Num/Den, used for entitlement weights:
// ownership shares are never floating point.
type Rational struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// One is the weight of a unit counted by head.
func One() Rational { return Rational{Num: 1, Den: 1} }

// Threshold is the share of the counted votes a choice needs: Num/Den,
// exceeded (Strict, ">") or reached ("≥").
type Threshold struct {
	Num    int64 `json:"num"`
	Den    int64 `json:"den"`
	Strict bool  `json:"strict"`
}

// Vote is one counted vote: the unit that cast it, its weight and its
// choice (for a motion: "yes", "no" or "abstain").
type Vote struct {
	Voter  string   `json:"voter"`
	Choice string   `json:"choice"`
	Weight Rational `json:"weight"`
}

// TallyInput is the input of the tally hook for a motion.
type TallyInput struct {
	BallotID string `json:"ballot_id"`
	// Rule names the plugin's rule, e.g. "simple_majority".
	Rule string `json:"rule"`
	// Quorum is the least number of votes (by head) for a valid result.
	Quorum    int64     `json:"quorum"`
	Threshold Threshold `json:"threshold"`
	// ByWeight counts weights instead of heads.
	ByWeight bool   `json:"by_weight"`
	Votes    []Vote `json:"votes"`
}

// Count is one choice's total.
type Count struct {
	Choice string   `json:"choice"`
	Votes  int64    `json:"votes"`
	Weight Rational `json:"weight"`
}

// TallyOutput is the result of the tally hook.
type TallyOutput struct {
	// Decision is "pass", "fail" or "no_quorum".
	Decision    string   `json:"decision"`
	QuorumMet   bool     `json:"quorum_met"`
	Counts      []Count  `json:"counts"`
	Explanation []string `json:"explanation"`
}

func appendRational(w *wire.Writer, r Rational) {
	w.Int(r.Num)
	w.Int(r.Den)
}

func readRational(r *wire.Reader) Rational {
	return Rational{Num: r.Int(), Den: r.Int()}
}

// AppendWire encodes in.
func (in *TallyInput) AppendWire(w *wire.Writer) {
	w.String(in.BallotID)
	w.String(in.Rule)
	w.Int(in.Quorum)
	w.Int(in.Threshold.Num)
	w.Int(in.Threshold.Den)
	w.Bool(in.Threshold.Strict)
	w.Bool(in.ByWeight)
	w.Uint(uint64(len(in.Votes)))
	for i := range in.Votes {
		v := &in.Votes[i]
		w.String(v.Voter)
		w.String(v.Choice)
		appendRational(w, v.Weight)
	}
}

// ReadWire decodes in from r, reusing in's slices. Strings are views of
// r's input (see wire.Reader.StringView): the input must outlive in.
func (in *TallyInput) ReadWire(r *wire.Reader) error {
	in.BallotID = r.StringView()
	in.Rule = r.StringView()
	in.Quorum = r.Int()
	in.Threshold.Num = r.Int()
	in.Threshold.Den = r.Int()
	in.Threshold.Strict = r.Bool()
	in.ByWeight = r.Bool()
	n := r.Len(4)
	in.Votes = in.Votes[:0]
	for i := 0; i < n; i++ {
		in.Votes = append(in.Votes, Vote{Voter: r.StringView(), Choice: r.StringView(), Weight: readRational(r)})
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("tally input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
func (out *TallyOutput) AppendWire(w *wire.Writer) {
	w.String(out.Decision)
	w.Bool(out.QuorumMet)
	w.Uint(uint64(len(out.Counts)))
	for i := range out.Counts {
		c := &out.Counts[i]
		w.String(c.Choice)
		w.Int(c.Votes)
		appendRational(w, c.Weight)
	}
	w.Uint(uint64(len(out.Explanation)))
	for _, e := range out.Explanation {
		w.String(e)
	}
}

// ReadWire decodes out from r. Strings are views of r's input.
func (out *TallyOutput) ReadWire(r *wire.Reader) error {
	out.Decision = r.StringView()
	out.QuorumMet = r.Bool()
	n := r.Len(4)
	out.Counts = out.Counts[:0]
	for i := 0; i < n; i++ {
		out.Counts = append(out.Counts, Count{Choice: r.StringView(), Votes: r.Int(), Weight: readRational(r)})
	}
	m := r.Len(1)
	out.Explanation = out.Explanation[:0]
	for i := 0; i < m; i++ {
		out.Explanation = append(out.Explanation, r.StringView())
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("tally output: %w", err)
	}
	switch out.Decision {
	case "pass", "fail", "no_quorum":
	default:
		return errors.New("tally output: unknown decision " + fmt.Sprintf("%q", out.Decision))
	}
	return nil
}
