package main

import (
	"fmt"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/irv"
	"github.com/plenum-vote/plenum/sdk"
)

// validate says whether an election can be counted by instant runoff: one
// seat, at least two options with distinct ids that are not reserved, a
// configuration irv.ParseConfig accepts, and counting by head or weight.
func validate(in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	out := &sdk.ValidateBallotOutput{Problems: []sdk.Problem{}}
	add := func(field, msg string) { out.Problems = append(out.Problems, sdk.Problem{Field: field, Message: msg}) }
	if in.Kind != sdk.KindElection {
		add("kind", "instant runoff counts elections; use a majority rule for motions")
	}
	if in.Rule != "" && in.Rule != "irv" {
		add("rule", fmt.Sprintf("this plugin counts rule irv, not %q", in.Rule))
	}
	if in.Seats > 1 || in.Seats < 0 {
		add("seats", fmt.Sprintf("instant runoff fills one seat, not %d; use stv for several", in.Seats))
	}
	if len(in.Options) < 2 {
		add("options", "an election needs at least two options")
	}
	seen := make(map[string]bool, len(in.Options))
	for _, o := range in.Options {
		switch {
		case o.ID == "":
			add("options", "an option needs an id")
		case strings.HasPrefix(o.ID, "#"):
			add("options", fmt.Sprintf("option id %q: ids beginning with '#' are reserved for marks such as %s", o.ID, sdk.RankOvervote))
		case seen[o.ID]:
			add("options", fmt.Sprintf("option id %q appears twice", o.ID))
		}
		seen[o.ID] = true
	}
	counting := in.Counting
	if counting == "" && in.ByWeight {
		counting = sdk.CountWeight
	}
	if counting == sdk.CountBoth {
		add("counting", "instant runoff counts by head or by weight, not both")
	}
	if in.Quorum < 0 {
		add("quorum", "the quorum cannot be negative")
	}
	cfg, err := irv.ParseConfig(in.Config)
	if err != nil {
		add("config", err.Error())
	} else if id := cfg.UndeclaredWriteIn; id != "" && !seen[id] {
		add("config", fmt.Sprintf("undeclared_write_in %q is not one of the options", id))
	}
	if in.Opens != 0 && in.Closes != 0 && in.Closes <= in.Opens {
		add("closes", "the ballot must close after it opens")
	}
	out.Valid = len(out.Problems) == 0
	return out, nil
}
