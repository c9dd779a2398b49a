package main

import (
	"fmt"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/stv"
	"github.com/plenum-vote/plenum/sdk"
)

// validate says whether an election can be counted by STV: kind
// election, rule "stv", at least one seat and no more seats than
// candidates, distinct non-empty option ids that do not begin with '#'
// (reserved for sdk.RankOvervote and sdk.RankSkipped), counting by head
// or by weight (not both), and a method configuration stv.ParseConfig
// accepts.
func validate(in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	out := &sdk.ValidateBallotOutput{Problems: []sdk.Problem{}}
	add := func(field, msg string) { out.Problems = append(out.Problems, sdk.Problem{Field: field, Message: msg}) }
	if in.Kind != sdk.KindElection {
		add("kind", "this plugin counts elections; use a motion method for motions")
	}
	if in.Rule != Rule && in.Rule != "" {
		add("rule", fmt.Sprintf("unknown rule %q: this plugin counts %q", in.Rule, Rule))
	}
	if in.Seats < 1 {
		add("seats", "an election fills at least one seat")
	} else if in.Seats > int64(len(in.Options)) {
		add("seats", fmt.Sprintf("%d seats but only %d candidates", in.Seats, len(in.Options)))
	}
	seen := make(map[string]bool, len(in.Options))
	for i, o := range in.Options {
		switch {
		case o.ID == "":
			add("options", fmt.Sprintf("candidate %d has no id", i+1))
		case strings.HasPrefix(o.ID, "#"):
			add("options", fmt.Sprintf("candidate id %q: ids beginning with '#' are reserved", o.ID))
		case seen[o.ID]:
			add("options", fmt.Sprintf("candidate id %q appears twice", o.ID))
		}
		seen[o.ID] = true
	}
	if in.Counting == sdk.CountBoth {
		add("counting", "STV counts either by head or by weight, not both")
	}
	if _, err := stv.ParseConfig(in.Config); err != nil {
		add("config", err.Error())
	}
	if in.Opens != 0 && in.Closes != 0 && in.Closes <= in.Opens {
		add("closes", "the ballot must close after it opens")
	}
	out.Valid = len(out.Problems) == 0
	return out, nil
}
