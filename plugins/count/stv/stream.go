package stv

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/ranked"
	"github.com/plenum-vote/plenum/sdk"
)

// Stream counts votes as a decoder delivers them (see
// sdk.TallyInput.ReadWireEach) without holding them: NewStream with the
// input's head, Add for each vote, then Result. Identical ballots are
// grouped as they come, so an election of a million voters costs the
// memory of its distinct ballots only.
type Stream struct {
	ballot       string
	cfg          Config
	quorum       int64
	quorumWeight sdk.Rational
	b            *ranked.Builder
	took         turnout
}

// NewStream checks in's head (kind, counting, configuration, options and
// seats; in.Votes are ignored) and starts a count. It keeps copies of
// what it needs, so in may be reused once it returns.
func NewStream(in *sdk.TallyInput) (*Stream, error) {
	if in == nil {
		return nil, errors.New("stv: no tally input")
	}
	if in.Kind != "" && in.Kind != sdk.KindElection {
		return nil, fmt.Errorf("stv: ballot %q is a %s, not an election", in.BallotID, in.Kind)
	}
	if in.EffectiveCounting() == sdk.CountBoth {
		return nil, fmt.Errorf("stv: ballot %q: STV counts by head or by weight, not both", in.BallotID)
	}
	if in.Quorum < 0 {
		return nil, fmt.Errorf("stv: ballot %q: negative quorum %d", in.BallotID, in.Quorum)
	}
	cfg, err := ParseConfig(in.Config)
	if err != nil {
		return nil, fmt.Errorf("stv: ballot %q: %w", in.BallotID, err)
	}
	if cfg.Seed == "" {
		cfg.Seed = in.BallotID
	}
	cfg.Seed = strings.Clone(cfg.Seed)
	b, err := ranked.NewBuilder(in)
	if err != nil {
		return nil, fmt.Errorf("stv: ballot %q: %w", in.BallotID, err)
	}
	return &Stream{
		ballot: strings.Clone(in.BallotID), cfg: cfg, quorum: in.Quorum, quorumWeight: in.QuorumWeight,
		b: b, took: turnout{weight: sdk.Int(0)},
	}, nil
}

// Add adds one vote; nothing of v is kept.
func (s *Stream) Add(v *sdk.Vote) error {
	if err := s.b.Add(v); err != nil {
		return fmt.Errorf("stv: ballot %q: %w", s.ballot, err)
	}
	s.took.add(v)
	return nil
}

// Result counts the votes added, or reports that the quorum was not met.
// The Stream must not be used after.
func (s *Stream) Result() (*sdk.TallyOutput, error) {
	took, met := s.took.result(s.quorum, s.quorumWeight)
	if !met {
		return &sdk.TallyOutput{
			Decision: sdk.DecisionNoQuorum,
			Turnout:  took,
			Counts:   []sdk.Count{},
			Explanation: []string{fmt.Sprintf("%d voters with weight %v took part; the quorum is %d voters and weight %v, so nothing is counted",
				took.Head, took.Weight, s.quorum, s.quorumWeight)},
		}, nil
	}
	out, err := CountProfile(s.b.Profile(), s.cfg)
	if err != nil {
		return nil, fmt.Errorf("stv: ballot %q: %w", s.ballot, err)
	}
	out.Turnout, out.QuorumMet = took, true
	return out, nil
}

// turnout adds up the voters and their weights exactly: in an
// sdk.Rational while the sum fits, in a big.Rat after.
type turnout struct {
	head   int64
	weight sdk.Rational
	exact  *big.Rat
}

// add counts v's voters (v.Count, at least 1) and their weight. Weights
// the builder accepted are valid and not negative.
func (t *turnout) add(v *sdk.Vote) {
	n := max(v.Count, 1)
	if t.head > math.MaxInt64-n {
		t.head = math.MaxInt64
	} else {
		t.head += n
	}
	if v.Weight.IsZero() {
		return
	}
	if t.exact == nil {
		w, err := v.Weight.Mul(sdk.Int(n))
		if err == nil {
			if w, err = t.weight.Add(w); err == nil {
				t.weight = w
				return
			}
		}
		t.exact = big.NewRat(t.weight.Num, max(t.weight.Den, 1))
	}
	w := big.NewRat(v.Weight.Num, v.Weight.Den)
	t.exact.Add(t.exact, w.Mul(w, new(big.Rat).SetInt64(n)))
}

// result returns the turnout (its Weight zero when the sum does not fit
// an sdk.Rational) and whether it meets the quorum.
func (t *turnout) result(quorum int64, quorumWeight sdk.Rational) (sdk.Turnout, bool) {
	out := sdk.Turnout{Head: t.head, Weight: t.weight}
	if t.exact == nil {
		return out, t.head >= quorum && t.weight.Cmp(quorumWeight) >= 0
	}
	out.Weight = sdk.Rational{}
	if t.exact.Num().IsInt64() && t.exact.Denom().IsInt64() {
		out.Weight = sdk.Rational{Num: t.exact.Num().Int64(), Den: t.exact.Denom().Int64()}
	}
	q := big.NewRat(quorumWeight.Num, max(quorumWeight.Den, 1))
	return out, t.head >= quorum && t.exact.Cmp(q) >= 0
}
