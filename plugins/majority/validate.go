package main

import (
	"fmt"

	"github.com/plenum-vote/plenum/sdk"
)

// validate says whether a ballot can be counted by this plugin: a motion
// with yes/no/abstain, a known rule, a threshold that is a share,
// non-negative quorums by head and by weight, a consistent counting mode,
// and a voting period that ends after it starts. Any basis and counting
// mode the decoder accepts can be counted.
func validate(in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	out := &sdk.ValidateBallotOutput{Problems: []sdk.Problem{}}
	add := func(field, msg string) { out.Problems = append(out.Problems, sdk.Problem{Field: field, Message: msg}) }
	if in.Kind != "motion" {
		add("kind", "this plugin counts motions; use an election method for elections")
	}
	switch in.Rule {
	case SimpleMajority, AbsoluteMajority, "":
	case Qualified:
		if in.Threshold.Den == 0 {
			add("threshold", "a qualified majority needs a threshold such as 2/3")
		}
	default:
		add("rule", fmt.Sprintf("unknown rule %q: use simple_majority, absolute_majority or qualified", in.Rule))
	}
	if t := in.Threshold; t.Den != 0 && (t.Num < 0 || t.Den < 0 || t.Num > t.Den) {
		add("threshold", fmt.Sprintf("%d/%d is not a share between 0 and 1", t.Num, t.Den))
	}
	if in.Quorum < 0 {
		add("quorum", "the quorum cannot be negative")
	}
	if q := in.QuorumWeight; !q.Valid() || q.Sign() < 0 {
		add("quorum_weight", fmt.Sprintf("%d/%d is not a non-negative weight", q.Num, q.Den))
	}
	if in.ByWeight && in.Counting == sdk.CountHead {
		add("counting", "by_weight contradicts counting by head")
	}
	for _, o := range in.Options {
		if choiceIndex(o.ID) < 0 {
			add("options", fmt.Sprintf("option %q: a motion's options are yes, no and abstain", o.ID))
		}
	}
	if in.Opens != 0 && in.Closes != 0 && in.Closes <= in.Opens {
		add("closes", "the ballot must close after it opens")
	}
	out.Valid = len(out.Problems) == 0
	return out, nil
}
