package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func TestTally(t *testing.T) {
	votes := []sdk.Vote{
		{Voter: "a", Weight: sdk.One(), Count: 7, Ranking: []string{"ann", "bob"}},
		{Voter: "b", Weight: sdk.One(), Count: 2, Ranking: []string{"bob"}},
		{Voter: "c", Weight: sdk.One(), Count: 3, Ranking: []string{"cat"}},
	}
	options := []sdk.Option{{ID: "ann"}, {ID: "bob"}, {ID: "cat"}}
	for _, tc := range []struct {
		name string
		in   sdk.TallyInput
		want []string
		err  string
	}{
		{name: "scottish by default", in: sdk.TallyInput{Kind: sdk.KindElection, Rule: Rule, Seats: 2, Options: options, Votes: votes}, want: []string{"ann", "bob"}},
		{name: "empty rule", in: sdk.TallyInput{Kind: sdk.KindElection, Seats: 1, Options: options, Votes: votes}, want: []string{"ann"}},
		{name: "meek", in: sdk.TallyInput{Kind: sdk.KindElection, Rule: Rule, Seats: 2, Config: []byte(`{"variant":"meek"}`), Options: options, Votes: votes}, want: []string{"ann", "bob"}},
		{name: "no votes: lots fill the seats", in: sdk.TallyInput{BallotID: "b", Kind: sdk.KindElection, Rule: Rule, Seats: 2, Options: options}, want: []string{"bob", "cat"}},
		{name: "by weight", in: sdk.TallyInput{Kind: sdk.KindElection, Rule: Rule, Seats: 1, Counting: sdk.CountWeight, Options: options, Votes: []sdk.Vote{
			{Voter: "u1", Weight: sdk.Rational{Num: 3, Den: 4}, Ranking: []string{"cat"}},
			{Voter: "u2", Weight: sdk.Rational{Num: 1, Den: 8}, Ranking: []string{"ann"}},
			{Voter: "u3", Weight: sdk.Rational{Num: 1, Den: 8}, Ranking: []string{"ann"}},
		}}, want: []string{"cat"}},
		{name: "another rule", in: sdk.TallyInput{Kind: sdk.KindElection, Rule: "irv", Seats: 1, Options: options, Votes: votes}, err: "unknown rule"},
		{name: "a motion", in: sdk.TallyInput{Rule: Rule, Votes: []sdk.Vote{{Choice: "yes"}}}, err: "not an election"},
		{name: "bad config", in: sdk.TallyInput{Kind: sdk.KindElection, Rule: Rule, Seats: 1, Config: []byte(`{"variant":"x"}`), Options: options, Votes: votes}, err: "unknown variant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tallyNative(&tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want an error with %q", out, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Decision != sdk.DecisionElected || !slices.Equal(out.Elected, tc.want) || len(out.Rounds) == 0 || len(out.Explanation) == 0 {
				t.Fatalf("%s %v (%d rounds), want %v", out.Decision, out.Elected, len(out.Rounds), tc.want)
			}
		})
	}
}

// tallyNative runs the hook through the sdk's wire codec, as the host
// does.
func tallyNative(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	b, err := sdk.CallNative(sdk.HookTally, sdk.Encode(in))
	if err != nil {
		return nil, err
	}
	var out sdk.TallyOutput
	if err := sdk.Decode(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
