package main

import (
	"errors"
	"fmt"
	"math/big"

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

// output is reused between calls (the sdk copies nothing and the host
// copies the encoded result before the next call).
var output = sdk.TallyOutput{Counts: make([]sdk.Count, 3)}

func tally(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	th := in.Threshold
	base := "yes and no"
	switch in.Rule {
	case SimpleMajority, "":
		if th.Den == 0 {
			th = sdk.Threshold{Num: 1, Den: 2, Strict: true}
		}
	case AbsoluteMajority:
		if th.Den == 0 {
			th = sdk.Threshold{Num: 1, Den: 2, Strict: true}
		}
		base = "all votes cast"
	case Qualified:
		if th.Den == 0 {
			return nil, errors.New("qualified majority needs a threshold")
		}
	default:
		return nil, fmt.Errorf("unknown rule %q", in.Rule)
	}
	if th.Num < 0 || th.Den <= 0 || th.Num > th.Den {
		return nil, fmt.Errorf("threshold %d/%d is not a share", th.Num, th.Den)
	}
	var heads [3]int64
	var weights [3]big.Rat
	for i := range in.Votes {
		v := &in.Votes[i]
		k := -1
		for j, c := range choices {
			if v.Choice == c {
				k = j
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("vote %d: unknown choice %q", i, v.Choice)
		}
		heads[k]++
		if in.ByWeight {
			if v.Weight.Den <= 0 || v.Weight.Num < 0 {
				return nil, fmt.Errorf("vote %d: weight %d/%d is not a non-negative fraction", i, v.Weight.Num, v.Weight.Den)
			}
			weights[k].Add(&weights[k], big.NewRat(v.Weight.Num, v.Weight.Den))
		}
	}
	out := &output
	out.Counts = out.Counts[:3]
	for k, c := range choices {
		out.Counts[k] = sdk.Count{Choice: c, Votes: heads[k], Weight: ratOf(&weights[k], in.ByWeight, heads[k])}
	}
	out.Explanation = out.Explanation[:0]
	cast := heads[0] + heads[1] + heads[2]
	out.QuorumMet = cast >= in.Quorum
	if !out.QuorumMet {
		out.Decision = "no_quorum"
		out.Explanation = append(out.Explanation, fmt.Sprintf("%d votes cast, quorum is %d", cast, in.Quorum))
		return out, nil
	}
	// yes / base compared with Num / Den, exactly: yes·Den vs Num·base.
	yes, total := new(big.Rat), new(big.Rat)
	if in.ByWeight {
		yes.Set(&weights[0])
		total.Add(&weights[0], &weights[1])
		if in.Rule == AbsoluteMajority {
			total.Add(total, &weights[2])
		}
	} else {
		yes.SetInt64(heads[0])
		n := heads[0] + heads[1]
		if in.Rule == AbsoluteMajority {
			n += heads[2]
		}
		total.SetInt64(n)
	}
	lhs := new(big.Rat).Mul(yes, big.NewRat(th.Den, 1))
	rhs := new(big.Rat).Mul(total, big.NewRat(th.Num, 1))
	cmp := lhs.Cmp(rhs)
	pass := cmp > 0 || !th.Strict && cmp == 0
	if total.Sign() == 0 {
		pass = false
	}
	op := "≥"
	if th.Strict {
		op = ">"
	}
	if pass {
		out.Decision = "pass"
	} else {
		out.Decision = "fail"
	}
	out.Explanation = append(out.Explanation, fmt.Sprintf("yes %s of %s: needed %s %d/%d", yes.RatString(), base+" ("+total.RatString()+")", op, th.Num, th.Den))
	return out, nil
}

func ratOf(r *big.Rat, byWeight bool, heads int64) sdk.Rational {
	if !byWeight {
		return sdk.Rational{Num: heads, Den: 1}
	}
	if !r.Num().IsInt64() || !r.Denom().IsInt64() {
		return sdk.Rational{}
	}
	return sdk.Rational{Num: r.Num().Int64(), Den: r.Denom().Int64()}
}
