package main

import (
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func TestValidate(t *testing.T) {
	options := []sdk.Option{{ID: "ann"}, {ID: "bob"}, {ID: "cat"}}
	for _, tc := range []struct {
		name   string
		in     sdk.ValidateBallotInput
		fields []string
	}{
		{name: "valid", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 2, Options: options}},
		{name: "valid with a config", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 2, Options: options, Config: []byte(`{"variant":"rctab","decimals":4}`)}},
		{name: "a motion", in: sdk.ValidateBallotInput{Kind: sdk.KindMotion, Rule: Rule, Seats: 1, Options: options}, fields: []string{"kind"}},
		{name: "another rule", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: "plurality", Seats: 1, Options: options}, fields: []string{"rule"}},
		{name: "no seats", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Options: options}, fields: []string{"seats"}},
		{name: "more seats than candidates", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 4, Options: options}, fields: []string{"seats"}},
		{name: "bad ids", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 1, Options: []sdk.Option{{ID: ""}, {ID: "#overvote"}, {ID: "a"}, {ID: "a"}}}, fields: []string{"options", "options", "options"}},
		{name: "both counts", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 1, Options: options, Counting: sdk.CountBoth}, fields: []string{"counting"}},
		{name: "bad config", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 1, Options: options, Config: []byte(`{"decimals":99}`)}, fields: []string{"config"}},
		{name: "closes before it opens", in: sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: Rule, Seats: 1, Options: options, Opens: 20, Closes: 10}, fields: []string{"closes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := validate(&tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, p := range out.Problems {
				fields = append(fields, p.Field)
			}
			if out.Valid != (len(tc.fields) == 0) || len(fields) != len(tc.fields) {
				t.Fatalf("valid %v, problems %+v; want fields %v", out.Valid, out.Problems, tc.fields)
			}
			for i := range fields {
				if fields[i] != tc.fields[i] {
					t.Fatalf("problems %+v; want fields %v", out.Problems, tc.fields)
				}
			}
		})
	}
}
