//go:build !wasip1

package main

import (
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// FuzzTally checks that any motion either counts to a known decision or
// is refused with an error: never a panic. Votes come from data, one per
// byte: b mod 4 is the choice (3 is not one), b/4 mod 8 the count, and
// the weight varies with the vote.
func FuzzTally(f *testing.F) {
	f.Add("qualified", "both", "eligible", int64(2), int64(3), false, int64(4), int64(1), int64(2), int64(6), int64(1), int64(1), []byte{0, 4, 1, 2, 9})
	f.Add("simple_majority", "", "", int64(0), int64(0), true, int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), []byte{0, 1})
	f.Fuzz(func(t *testing.T, rule, counting, basis string, num, den int64, strict bool, quorum, qwNum, qwDen, units, ewNum, ewDen int64, data []byte) {
		in := &sdk.TallyInput{Rule: rule, Counting: counting, Basis: basis, Threshold: sdk.Threshold{Num: num, Den: den, Strict: strict},
			Quorum: quorum, QuorumWeight: sdk.Rational{Num: qwNum, Den: qwDen},
			Eligible: sdk.Eligible{Units: units, Weight: sdk.Rational{Num: ewNum, Den: ewDen}}}
		for i, b := range data {
			in.Votes = append(in.Votes, sdk.Vote{Choice: [4]string{"yes", "no", "abstain", "maybe"}[b%4], Count: int64(b / 4 % 8),
				Weight: sdk.Rational{Num: int64(i%5 + 1), Den: int64(i%3 + 1)}})
		}
		out, err := tally(in)
		if err != nil {
			return
		}
		switch out.Decision {
		case sdk.DecisionPass, sdk.DecisionFail, sdk.DecisionNoQuorum:
		default:
			t.Fatalf("decision %q", out.Decision)
		}
		if out.QuorumMet != (out.Decision != sdk.DecisionNoQuorum) || len(out.Counts) != 3 || len(out.Explanation) == 0 {
			t.Fatalf("%+v", out)
		}
	})
}
