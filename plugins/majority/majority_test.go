package main

import (
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func votes(choices ...string) []sdk.Vote {
	vs := make([]sdk.Vote, len(choices))
	for i, c := range choices {
		vs[i] = sdk.Vote{Voter: string(rune('a' + i)), Choice: c, Weight: sdk.One()}
	}
	return vs
}

func TestTally(t *testing.T) {
	weighted := []sdk.Vote{
		{Voter: "u1", Choice: "yes", Weight: sdk.Rational{Num: 150, Den: 1000}},
		{Voter: "u2", Choice: "no", Weight: sdk.Rational{Num: 300, Den: 1000}},
		{Voter: "u3", Choice: "yes", Weight: sdk.Rational{Num: 100, Den: 1000}},
		{Voter: "u4", Choice: "yes", Weight: sdk.Rational{Num: 50, Den: 1000}},
	}
	tests := []struct {
		name string
		in   sdk.TallyInput
		want string
		yes  int64
	}{
		{"bench fixture", sdk.TallyInput{Rule: SimpleMajority, Quorum: 5, Votes: votes("yes", "no", "yes", "abstain", "yes")}, "pass", 3},
		{"no quorum", sdk.TallyInput{Rule: SimpleMajority, Quorum: 6, Votes: votes("yes", "no", "yes", "abstain", "yes")}, "no_quorum", 3},
		{"tie fails simple", sdk.TallyInput{Rule: SimpleMajority, Votes: votes("yes", "no")}, "fail", 1},
		{"absolute counts abstentions", sdk.TallyInput{Rule: AbsoluteMajority, Votes: votes("yes", "yes", "no", "abstain", "abstain")}, "fail", 2},
		{"two thirds reached", sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 2, Den: 3}, Votes: votes("yes", "yes", "no")}, "pass", 2},
		{"two thirds strict missed", sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 2, Den: 3, Strict: true}, Votes: votes("yes", "yes", "no")}, "fail", 2},
		{"by weight: heads pass, weight fails", sdk.TallyInput{Rule: SimpleMajority, ByWeight: true, Votes: weighted}, "fail", 3},
		{"nobody voted", sdk.TallyInput{Rule: SimpleMajority}, "fail", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tally(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Decision != tt.want || out.Counts[0].Votes != tt.yes {
				t.Fatalf("decision %s, yes %d (%v); want %s, %d", out.Decision, out.Counts[0].Votes, out.Explanation, tt.want, tt.yes)
			}
		})
	}
}

func TestTallyRejects(t *testing.T) {
	for _, in := range []sdk.TallyInput{
		{Rule: "plurality"},
		{Rule: Qualified},
		{Rule: SimpleMajority, Threshold: sdk.Threshold{Num: 3, Den: 2}},
		{Rule: SimpleMajority, Votes: votes("maybe")},
		{Rule: SimpleMajority, ByWeight: true, Votes: []sdk.Vote{{Choice: "yes", Weight: sdk.Rational{Num: 1, Den: 0}}}},
	} {
		if _, err := tally(&in); err == nil {
			t.Errorf("tally(%+v) accepted", in)
		}
	}
}
