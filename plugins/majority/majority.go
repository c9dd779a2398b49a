package main

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/plenum-vote/plenum/sdk"
)

// The rules this plugin knows. A threshold in the input overrides the
// rule's default share.
const (
	// SimpleMajority: more yes than no; abstentions do not count.
	SimpleMajority = "simple_majority"
	// AbsoluteMajority: yes is more than half of all votes cast,
	// abstentions included.
	AbsoluteMajority = "absolute_majority"
	// Qualified: yes reaches the given threshold (e.g. 2/3) of yes and no.
	Qualified = "qualified"
)

var choices = [3]string{"yes", "no", "abstain"}

// Reused between calls: the sdk encodes the output before the next call,
// and a head count allocates nothing.
var (
	output = sdk.TallyOutput{Counts: make([]sdk.Count, 3), Explanation: make([]string, 0, 4)}
	text   []byte // the explanation lines of the current call, one after another
	line   int    // where in text the line being written starts
)

// rule is what a motion is measured against: the threshold, which
// choices make up the total of the votes cast, and the basis.
type rule struct {
	th       sdk.Threshold
	absolute bool // abstentions count toward the votes cast
	eligible bool // the total is everyone eligible, not the votes cast
}

// measure is one way of counting a motion (by head or by weight): the
// yes side and the total it is a share of, exactly.
type measure struct {
	yes, total big.Rat
}

// tally decides a motion. Heads are counted in int64 without allocating;
// weights, needed for counting by weight, for the double majority and for
// a quorum of weight, in big.Rat. Every comparison is exact.
func tally(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	ru, err := ruleOf(in)
	if err != nil {
		return nil, err
	}
	counting := in.EffectiveCounting()
	byHead := counting == sdk.CountHead || counting == sdk.CountBoth
	byWeight := counting == sdk.CountWeight || counting == sdk.CountBoth
	if counting != sdk.CountHead && !byWeight {
		return nil, fmt.Errorf("unknown counting %q", counting)
	}
	if ru.eligible {
		if byHead && in.Eligible.Units <= 0 {
			return nil, errors.New("basis eligible counted by head needs the number of eligible units")
		}
		if byWeight && (!in.Eligible.Weight.Valid() || in.Eligible.Weight.Sign() <= 0) {
			return nil, errors.New("basis eligible counted by weight needs the eligible weight")
		}
	}
	if in.Quorum < 0 || !in.QuorumWeight.Valid() || in.QuorumWeight.Sign() < 0 {
		return nil, errors.New("a quorum cannot be negative")
	}
	var heads [3]int64
	for i := range in.Votes {
		v := &in.Votes[i]
		k := choiceIndex(v.Choice)
		if k < 0 {
			return nil, fmt.Errorf("vote %d: unknown choice %q", i, v.Choice)
		}
		n := multiplicity(v)
		if n < 0 {
			return nil, fmt.Errorf("vote %d: negative count %d", i, n)
		}
		if heads[k] > math.MaxInt64-n {
			return nil, fmt.Errorf("vote %d: the number of votes overflows", i)
		}
		heads[k] += n
	}
	out := &output
	out.Counts = out.Counts[:3]
	for k, c := range choices {
		out.Counts[k] = sdk.Count{Choice: c, Votes: heads[k], Weight: sdk.Rational{Num: heads[k], Den: 1}}
	}
	out.Explanation = out.Explanation[:0]
	text, line = text[:0], 0
	cast := heads[0] + heads[1]
	if cast < 0 || cast > math.MaxInt64-heads[2] {
		return nil, errors.New("the number of votes overflows")
	}
	cast += heads[2]
	out.Turnout = sdk.Turnout{Head: cast, Weight: sdk.Rational{Num: cast, Den: 1}}

	// Weights, only when something needs them: the head count of a
	// motion stays allocation-free.
	var w *[3]big.Rat
	var castWeight *big.Rat
	if byWeight || !in.QuorumWeight.IsZero() {
		if w, err = weights(in); err != nil {
			return nil, err
		}
		castWeight = new(big.Rat).Add(&w[0], &w[1])
		castWeight.Add(castWeight, &w[2])
		for k := range w {
			if out.Counts[k].Weight, err = toRational(&w[k]); err != nil {
				return nil, fmt.Errorf("weight of %s: %w", choices[k], err)
			}
		}
		if out.Turnout.Weight, err = toRational(castWeight); err != nil {
			return nil, fmt.Errorf("weight cast: %w", err)
		}
	}

	out.QuorumMet = true
	if in.Quorum > 0 {
		met := cast >= in.Quorum
		out.QuorumMet = out.QuorumMet && met
		text = append(text, "turnout "...)
		text = appendInt(text, cast)
		text = append(text, ", quorum "...)
		text = appendInt(text, in.Quorum)
		text = appendMet(text, met)
		out.Explanation = append(out.Explanation, take())
	}
	if !in.QuorumWeight.IsZero() {
		q := big.NewRat(in.QuorumWeight.Num, in.QuorumWeight.Den)
		met := castWeight.Cmp(q) >= 0
		out.QuorumMet = out.QuorumMet && met
		text = append(text, "turnout weight "...)
		text = append(text, castWeight.RatString()...)
		text = append(text, ", quorum weight "...)
		text = append(text, q.RatString()...)
		text = appendMet(text, met)
		out.Explanation = append(out.Explanation, take())
	}
	if !out.QuorumMet {
		out.Decision = sdk.DecisionNoQuorum
		return out, nil
	}

	pass := true
	if byHead {
		yes, total := heads[0], heads[0]+heads[1]
		switch {
		case ru.eligible:
			total = in.Eligible.Units
		case ru.absolute:
			total = cast
		}
		ok := reached(yes, total, ru.th)
		pass = pass && ok
		text = append(text, "by head: yes "...)
		text = appendInt(text, yes)
		text = append(text, " of "...)
		text = appendInt(text, total)
		text = appendBasis(text, ru)
		text = appendVerdict(text, yes, total, ru.th, ok)
		out.Explanation = append(out.Explanation, take())
	}
	if byWeight {
		var m measure
		m.yes.Set(&w[0])
		switch {
		case ru.eligible:
			m.total.SetFrac64(in.Eligible.Weight.Num, in.Eligible.Weight.Den)
		case ru.absolute:
			m.total.Set(castWeight)
		default:
			m.total.Add(&w[0], &w[1])
		}
		ok := m.reached(ru.th)
		pass = pass && ok
		text = append(text, "by weight: yes "...)
		text = append(text, m.yes.RatString()...)
		text = append(text, " of "...)
		text = append(text, m.total.RatString()...)
		text = appendBasis(text, ru)
		text = m.appendVerdict(text, ru.th, ok)
		out.Explanation = append(out.Explanation, take())
	}
	if pass {
		out.Decision = sdk.DecisionPass
	} else {
		out.Decision = sdk.DecisionFail
	}
	return out, nil
}

// ruleOf returns the rule of in: its threshold (the input's, or the
// rule's default) and basis.
func ruleOf(in *sdk.TallyInput) (rule, error) {
	ru := rule{th: in.Threshold, eligible: in.Basis == sdk.BasisEligible}
	switch in.Basis {
	case "", sdk.BasisVotesCast, sdk.BasisEligible:
	default:
		return rule{}, fmt.Errorf("unknown basis %q", in.Basis)
	}
	switch in.Rule {
	case SimpleMajority, "":
	case AbsoluteMajority:
		ru.absolute = true
	case Qualified:
		if ru.th.Den == 0 {
			return rule{}, errors.New("qualified majority needs a threshold")
		}
	default:
		return rule{}, fmt.Errorf("unknown rule %q", in.Rule)
	}
	if ru.th.Den == 0 && ru.th.Num == 0 {
		ru.th = sdk.Threshold{Num: 1, Den: 2, Strict: true}
	}
	if th := ru.th; th.Num < 0 || th.Den <= 0 || th.Num > th.Den {
		return rule{}, fmt.Errorf("threshold %d/%d is not a share", th.Num, th.Den)
	}
	return ru, nil
}

// multiplicity returns how many voters v stands for (Vote.Count, where 0
// means one).
func multiplicity(v *sdk.Vote) int64 {
	if v.Count == 0 {
		return 1
	}
	return v.Count
}

// weights sums the weight of each choice, each vote's weight taken as
// many times as it counts.
func weights(in *sdk.TallyInput) (*[3]big.Rat, error) {
	var w [3]big.Rat
	var x, n big.Rat
	for i := range in.Votes {
		v := &in.Votes[i]
		if v.Weight.Den <= 0 || v.Weight.Num < 0 || v.Weight.Num == math.MinInt64 {
			return nil, fmt.Errorf("vote %d: weight %d/%d is not a non-negative fraction", i, v.Weight.Num, v.Weight.Den)
		}
		k := choiceIndex(v.Choice)
		x.SetFrac64(v.Weight.Num, v.Weight.Den)
		if c := multiplicity(v); c != 1 {
			x.Mul(&x, n.SetInt64(c))
		}
		w[k].Add(&w[k], &x)
	}
	return &w, nil
}

// toRational converts r to an sdk.Rational, or fails if it does not fit.
func toRational(r *big.Rat) (sdk.Rational, error) {
	if !r.Num().IsInt64() || !r.Denom().IsInt64() {
		return sdk.Rational{}, fmt.Errorf("%s: %w", r.RatString(), sdk.ErrRationalOverflow)
	}
	return sdk.Rational{Num: r.Num().Int64(), Den: r.Denom().Int64()}, nil
}

// reached reports whether yes/total reaches th, exactly: yes·Den against
// Num·total in 128 bits. Nothing is a share of nothing: a zero total
// fails.
func reached(yes, total int64, th sdk.Threshold) bool {
	if total <= 0 {
		return false
	}
	lh, ll := bits.Mul64(uint64(yes), uint64(th.Den))
	rh, rl := bits.Mul64(uint64(th.Num), uint64(total))
	switch {
	case lh != rh:
		return lh > rh
	case ll != rl:
		return ll > rl
	}
	return !th.Strict
}

// reached reports whether m.yes/m.total reaches th, exactly.
func (m *measure) reached(th sdk.Threshold) bool {
	if m.total.Sign() <= 0 {
		return false
	}
	var lhs, rhs, t big.Rat
	lhs.Mul(&m.yes, t.SetInt64(th.Den))
	rhs.Mul(&m.total, t.SetInt64(th.Num))
	c := lhs.Cmp(&rhs)
	return c > 0 || c == 0 && !th.Strict
}

// take returns the text appended since the last take as an explanation
// line. The line is a view of text's bytes, which stay untouched until the
// output is encoded: the next line is appended after it, or into a new
// array if text grows.
func take() string {
	b := text[line:]
	line = len(text)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func choiceIndex(c string) int {
	switch c {
	case "yes":
		return 0
	case "no":
		return 1
	case "abstain":
		return 2
	}
	return -1
}

func appendMet(b []byte, met bool) []byte {
	if met {
		return append(b, ": met"...)
	}
	return append(b, ": missed"...)
}

// appendBasis names what the total is made of.
func appendBasis(b []byte, ru rule) []byte {
	switch {
	case ru.eligible:
		return append(b, " (all eligible)"...)
	case ru.absolute:
		return append(b, " (all votes cast)"...)
	}
	return append(b, " (yes and no)"...)
}

// appendVerdict appends " = 75% > 1/2? yes" or " ≈ 66.67% ≥ 2/3? yes"
// for yes/total against th.
func appendVerdict(b []byte, yes, total int64, th sdk.Threshold, ok bool) []byte {
	if total <= 0 {
		return append(b, ": nothing to measure, not reached"...)
	}
	b = appendPercent(b, uint64(yes), uint64(total))
	return appendTest(b, th, ok)
}

// appendVerdict appends the same for m against th.
func (m *measure) appendVerdict(b []byte, th sdk.Threshold, ok bool) []byte {
	if m.total.Sign() <= 0 {
		return append(b, ": nothing to measure, not reached"...)
	}
	var q big.Rat
	q.Quo(&m.yes, &m.total)
	if q.Num().IsUint64() && q.Denom().IsUint64() {
		b = appendPercent(b, q.Num().Uint64(), q.Denom().Uint64())
	} else {
		// Too fine for 64 bits: the same rounding in big integers.
		var h, r big.Int
		h.Mul(q.Num(), big.NewInt(10000))
		h.QuoRem(&h, q.Denom(), &r)
		b = append(b, " = "...)
		if r.Sign() != 0 {
			b = append(b[:len(b)-3], " ≈ "...)
			if r.Lsh(&r, 1).Cmp(q.Denom()) >= 0 {
				h.Add(&h, big.NewInt(1))
			}
		}
		b = append(b, new(big.Rat).SetFrac(&h, big.NewInt(100)).FloatString(2)...)
		b = append(b, '%')
	}
	return appendTest(b, th, ok)
}

func appendTest(b []byte, th sdk.Threshold, ok bool) []byte {
	if th.Strict {
		b = append(b, " > "...)
	} else {
		b = append(b, " ≥ "...)
	}
	b = appendInt(b, th.Num)
	b = append(b, '/')
	b = appendInt(b, th.Den)
	if ok {
		return append(b, "? yes"...)
	}
	return append(b, "? no"...)
}

// appendPercent appends " = " and num/den as a percentage with up to two
// decimals, or " ≈ " and the percentage rounded half up to two decimals.
// The arithmetic is 128-bit, so any int64 counts fit.
func appendPercent(b []byte, num, den uint64) []byte {
	// hundredths of a percent: num·10000/den, rounded half up.
	hi, lo := bits.Mul64(num, 10000)
	if hi >= den {
		// A share above 2^64/10000 times its total cannot occur for
		// yes ≤ total; say so rather than overflow.
		return append(b, " = (out of range)"...)
	}
	q, r := bits.Div64(hi, lo, den)
	if r == 0 {
		b = append(b, " = "...)
	} else {
		b = append(b, " ≈ "...)
		if r >= den-r {
			q++
		}
	}
	b = appendUint(b, q/100)
	if f := q % 100; f != 0 {
		b = append(b, '.', byte('0'+f/10))
		if f%10 != 0 {
			b = append(b, byte('0'+f%10))
		}
	}
	return append(b, '%')
}

// appendInt is strconv.AppendInt for the small counts of a tally, without
// the general function's calls (every call is dear in a wasm guest).
func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		return strconv.AppendInt(b, v, 10)
	}
	return appendUint(b, uint64(v))
}

func appendUint(b []byte, v uint64) []byte {
	if v >= 1e9 {
		return strconv.AppendUint(b, v, 10)
	}
	var d [10]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}
