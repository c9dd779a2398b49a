package main

import (
	"errors"
	"fmt"
	"math/big"
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
	output = sdk.TallyOutput{Counts: make([]sdk.Count, 3), Explanation: make([]string, 0, 1)}
	text   []byte
)

func tally(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	th := in.Threshold
	absolute := false
	switch in.Rule {
	case SimpleMajority, "":
		if th.Den == 0 {
			th = sdk.Threshold{Num: 1, Den: 2, Strict: true}
		}
	case AbsoluteMajority:
		if th.Den == 0 {
			th = sdk.Threshold{Num: 1, Den: 2, Strict: true}
		}
		absolute = true
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
	for i := range in.Votes {
		k := choiceIndex(in.Votes[i].Choice)
		if k < 0 {
			return nil, fmt.Errorf("vote %d: unknown choice %q", i, in.Votes[i].Choice)
		}
		heads[k]++
	}
	out := &output
	out.Counts = out.Counts[:3]
	for k, c := range choices {
		out.Counts[k] = sdk.Count{Choice: c, Votes: heads[k], Weight: sdk.Rational{Num: heads[k], Den: 1}}
	}
	out.Explanation = out.Explanation[:0]
	cast := heads[0] + heads[1] + heads[2]
	out.QuorumMet = cast >= in.Quorum
	if !out.QuorumMet {
		out.Decision = "no_quorum"
		text = append(text[:0], "votes cast "...)
		text = appendInt(text, cast)
		text = append(text, ", quorum "...)
		text = appendInt(text, in.Quorum)
		out.Explanation = append(out.Explanation, view(text))
		return out, nil
	}
	var pass bool
	var yesText, totalText string
	var yesN, totalN int64 = -1, -1
	if in.ByWeight {
		var err error
		if pass, yesText, totalText, err = byWeight(in, th, absolute, out); err != nil {
			return nil, err
		}
	} else {
		// yes/total against Num/Den, exactly: yes·Den against Num·total.
		// Vote counts are far below 2^31, so the products cannot overflow.
		yes, total := heads[0], heads[0]+heads[1]
		if absolute {
			total += heads[2]
		}
		lhs, rhs := yes*th.Den, th.Num*total
		pass = total > 0 && (lhs > rhs || !th.Strict && lhs == rhs)
		yesN, totalN = yes, total
	}
	if pass {
		out.Decision = "pass"
	} else {
		out.Decision = "fail"
	}
	text = append(text[:0], "yes "...)
	if yesN >= 0 {
		text = appendInt(text, yesN)
		text = append(text, " of "...)
		text = appendInt(text, totalN)
	} else {
		text = append(text, yesText...)
		text = append(text, " of "...)
		text = append(text, totalText...)
	}
	if th.Strict {
		text = append(text, ", needed more than "...)
	} else {
		text = append(text, ", needed at least "...)
	}
	text = appendInt(text, th.Num)
	text = append(text, '/')
	text = appendInt(text, th.Den)
	out.Explanation = append(out.Explanation, view(text))
	return out, nil
}

// view returns b as a string without copying; text is encoded into the
// output before the next call changes it.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

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

// appendInt is strconv.AppendInt for the small counts of a tally, without
// the general function's calls (every call is dear in a wasm guest).
func appendInt(b []byte, v int64) []byte {
	if v < 0 || v >= 1e9 {
		return strconv.AppendInt(b, v, 10)
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

// byWeight counts entitlement weights exactly with big rationals.
func byWeight(in *sdk.TallyInput, th sdk.Threshold, absolute bool, out *sdk.TallyOutput) (bool, string, string, error) {
	var w [3]big.Rat
	for i := range in.Votes {
		v := &in.Votes[i]
		if v.Weight.Den <= 0 || v.Weight.Num < 0 {
			return false, "", "", fmt.Errorf("vote %d: weight %d/%d is not a non-negative fraction", i, v.Weight.Num, v.Weight.Den)
		}
		k := choiceIndex(v.Choice)
		w[k].Add(&w[k], big.NewRat(v.Weight.Num, v.Weight.Den))
	}
	for k := range w {
		if w[k].Num().IsInt64() && w[k].Denom().IsInt64() {
			out.Counts[k].Weight = sdk.Rational{Num: w[k].Num().Int64(), Den: w[k].Denom().Int64()}
		}
	}
	total := new(big.Rat).Add(&w[0], &w[1])
	if absolute {
		total.Add(total, &w[2])
	}
	lhs := new(big.Rat).Mul(&w[0], big.NewRat(th.Den, 1))
	rhs := new(big.Rat).Mul(total, big.NewRat(th.Num, 1))
	cmp := lhs.Cmp(rhs)
	pass := total.Sign() > 0 && (cmp > 0 || !th.Strict && cmp == 0)
	return pass, w[0].RatString(), total.RatString(), nil
}
