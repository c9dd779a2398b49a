//go:build !wasip1

package sdk_test

import (
	"fmt"

	"github.com/plenum-vote/plenum/sdk"
)

// A plugin registers one ordinary Go function per hook, from init. This
// one passes a motion with more yes than no once the quorum is met.
func ExampleRegisterTally() {
	sdk.RegisterTally(func(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
		var yes, no int64
		for _, v := range in.Votes {
			switch v.Choice {
			case sdk.ChoiceYes:
				yes++
			case sdk.ChoiceNo:
				no++
			}
		}
		out := &sdk.TallyOutput{Decision: sdk.DecisionFail, QuorumMet: int64(len(in.Votes)) >= in.Quorum}
		switch {
		case !out.QuorumMet:
			out.Decision = sdk.DecisionNoQuorum
		case yes > no:
			out.Decision = sdk.DecisionPass
		}
		out.Explanation = []string{fmt.Sprintf("yes %d, no %d", yes, no)}
		return out, nil
	})

	// The host side: encode the input, call (natively here), decode.
	in := &sdk.TallyInput{BallotID: "roof", Rule: "simple_majority", Quorum: 2,
		Votes: []sdk.Vote{{Voter: "1A", Choice: "yes", Weight: sdk.One()}, {Voter: "2B", Choice: "no", Weight: sdk.One()}, {Voter: "3C", Choice: "yes", Weight: sdk.One()}}}
	b, err := sdk.CallNative(sdk.HookTally, sdk.Encode(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	var out sdk.TallyOutput
	if err := sdk.Decode(b, &out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Decision, out.Explanation[0])
	// Output: pass yes 2, no 1
}

// Weights are exact fractions: a condominium's shares add up without
// rounding, and arithmetic reports overflow instead of wrapping.
func ExampleRational_Add() {
	total := sdk.Rational{}
	for _, share := range []sdk.Rational{{Num: 180, Den: 1000}, {Num: 220, Den: 1000}, {Num: 200, Den: 1000}} {
		var err error
		if total, err = total.Add(share); err != nil {
			fmt.Println(err)
			return
		}
	}
	twoThirds := sdk.Rational{Num: 2, Den: 3}
	fmt.Println(total, total.Cmp(twoThirds) >= 0)
	// Output: 3/5 false
}
