package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func TestValidate(t *testing.T) {
	ok := sdk.ValidateBallotInput{Kind: "motion", Rule: Qualified, Threshold: sdk.Threshold{Num: 2, Den: 3},
		Options: []sdk.Option{{ID: "yes"}, {ID: "no"}, {ID: "abstain"}}, Opens: 100, Closes: 200}
	if out, _ := validate(&ok); !out.Valid {
		t.Fatalf("valid motion refused: %+v", out.Problems)
	}
	for name, mod := range map[string]func(*sdk.ValidateBallotInput){
		"election":        func(in *sdk.ValidateBallotInput) { in.Kind = "election" },
		"no threshold":    func(in *sdk.ValidateBallotInput) { in.Threshold = sdk.Threshold{} },
		"bad share":       func(in *sdk.ValidateBallotInput) { in.Threshold = sdk.Threshold{Num: 4, Den: 3} },
		"unknown rule":    func(in *sdk.ValidateBallotInput) { in.Rule = "borda" },
		"odd option":      func(in *sdk.ValidateBallotInput) { in.Options = append(in.Options, sdk.Option{ID: "maybe"}) },
		"closes early":    func(in *sdk.ValidateBallotInput) { in.Closes = 50 },
		"negative quorum": func(in *sdk.ValidateBallotInput) { in.Quorum = -1 },
		"negative quorum weight": func(in *sdk.ValidateBallotInput) {
			in.QuorumWeight = sdk.Rational{Num: -1, Den: 2}
		},
		"bad quorum weight": func(in *sdk.ValidateBallotInput) { in.QuorumWeight = sdk.Rational{Num: 1, Den: 0} },
		"by weight, counting head": func(in *sdk.ValidateBallotInput) {
			in.ByWeight, in.Counting = true, sdk.CountHead
		},
	} {
		in := ok
		in.Options = append([]sdk.Option(nil), ok.Options...)
		mod(&in)
		if out, _ := validate(&in); out.Valid || len(out.Problems) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The validate_ballot examples in schemas/examples are golden files too.
func TestValidateGoldenExamples(t *testing.T) {
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "validate_ballot"), func(b []byte) (any, error) {
		var in sdk.ValidateBallotInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return validate(&in)
	})
}
