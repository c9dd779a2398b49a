package main

import (
	"strings"
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

// weighted returns votes with the given choices and weights in
// thousandths.
func weighted(pairs ...any) []sdk.Vote {
	var vs []sdk.Vote
	for i := 0; i < len(pairs); i += 2 {
		vs = append(vs, sdk.Vote{Voter: string(rune('a' + i/2)), Choice: pairs[i].(string),
			Weight: sdk.Rational{Num: int64(pairs[i+1].(int)), Den: 1000}})
	}
	return vs
}

func TestTally(t *testing.T) {
	// Heads: 3 yes of 4; weight: yes 300/1000 against no 300/1000.
	heavyNo := weighted("yes", 150, "no", 300, "yes", 100, "yes", 50)
	// 412.5/1000 yes, 87.5/1000 no, 100/1000 abstain of 1000/1000
	// eligible: 5/6 of yes and no, 11/16 of the votes cast.
	owners := []sdk.Vote{
		{Voter: "a", Choice: "yes", Weight: sdk.Rational{Num: 4125, Den: 10000}},
		{Voter: "b", Choice: "no", Weight: sdk.Rational{Num: 875, Den: 10000}},
		{Voter: "c", Choice: "abstain", Weight: sdk.Rational{Num: 100, Den: 1000}},
	}
	all := sdk.Eligible{Units: 8, Weight: sdk.Int(1)}
	two3 := sdk.Threshold{Num: 2, Den: 3}
	two3s := sdk.Threshold{Num: 2, Den: 3, Strict: true}
	tests := []struct {
		name string
		in   sdk.TallyInput
		want string
		yes  int64
		// explain is a substring of the joined explanation.
		explain string
	}{
		{"bench fixture", sdk.TallyInput{Rule: SimpleMajority, Quorum: 5, Votes: votes("yes", "no", "yes", "abstain", "yes")}, "pass", 3, "yes 3 of 4 (yes and no) = 75% > 1/2? yes"},
		{"no quorum", sdk.TallyInput{Rule: SimpleMajority, Quorum: 6, Votes: votes("yes", "no", "yes", "abstain", "yes")}, "no_quorum", 3, "turnout 5, quorum 6: missed"},
		{"tie fails simple", sdk.TallyInput{Rule: SimpleMajority, Votes: votes("yes", "no")}, "fail", 1, "= 50% > 1/2? no"},
		{"simple with 1/2 not strict passes a tie", sdk.TallyInput{Rule: SimpleMajority, Threshold: sdk.Threshold{Num: 1, Den: 2}, Votes: votes("yes", "no")}, "pass", 1, "≥ 1/2? yes"},
		{"absolute counts abstentions", sdk.TallyInput{Rule: AbsoluteMajority, Votes: votes("yes", "yes", "no", "abstain", "abstain")}, "fail", 2, "yes 2 of 5 (all votes cast) = 40%"},
		{"two thirds reached exactly", sdk.TallyInput{Rule: Qualified, Threshold: two3, Votes: votes("yes", "yes", "no")}, "pass", 2, "≈ 66.67% ≥ 2/3? yes"},
		{"two thirds strict missed exactly", sdk.TallyInput{Rule: Qualified, Threshold: two3s, Votes: votes("yes", "yes", "no")}, "fail", 2, "> 2/3? no"},
		{"custom 3/5 strict", sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 3, Den: 5, Strict: true}, Votes: votes("yes", "yes", "no", "yes", "no", "yes")}, "pass", 4, "yes 4 of 6 (yes and no) ≈ 66.67% > 3/5? yes"},
		{"custom 3/5 strict missed", sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 3, Den: 5, Strict: true}, Votes: votes("yes", "yes", "no", "yes", "no", "no", "yes")}, "fail", 4, "yes 4 of 7 (yes and no) ≈ 57.14% > 3/5? no"},
		{"nobody voted", sdk.TallyInput{Rule: SimpleMajority}, "fail", 0, "nothing to measure"},
		{"all abstain", sdk.TallyInput{Rule: SimpleMajority, Votes: votes("abstain", "abstain")}, "fail", 0, "yes 0 of 0 (yes and no): nothing to measure"},
		{"all abstain, absolute", sdk.TallyInput{Rule: AbsoluteMajority, Votes: votes("abstain", "abstain")}, "fail", 0, "yes 0 of 2 (all votes cast) = 0%"},
		{"zero threshold not strict", sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 0, Den: 1}, Votes: votes("no")}, "pass", 0, "≥ 0/1? yes"},

		{"by weight: heads pass, weight fails", sdk.TallyInput{Rule: SimpleMajority, ByWeight: true, Votes: heavyNo}, "fail", 3, "by weight: yes 3/10 of 3/5 (yes and no) = 50% > 1/2? no"},
		{"counting weight spelled out", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountWeight, Votes: heavyNo}, "fail", 3, "by weight"},
		{"by head ignores weight", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountHead, Votes: heavyNo}, "pass", 3, "by head: yes 3 of 4"},
		{"both: head passes, weight fails", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountBoth, Votes: heavyNo}, "fail", 3, "by head: yes 3 of 4 (yes and no) = 75% > 1/2? yes\nby weight: yes 3/10 of 3/5 (yes and no) = 50% > 1/2? no"},
		{"both: weight passes, head fails", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountBoth, Votes: weighted("yes", 600, "no", 100, "no", 100)}, "fail", 1, "by head: yes 1 of 3 (yes and no) ≈ 33.33% > 1/2? no"},
		{"both: both pass", sdk.TallyInput{Rule: Qualified, Threshold: two3, Counting: sdk.CountBoth, Votes: weighted("yes", 300, "yes", 300, "no", 300)}, "pass", 2, "by weight: yes 3/5 of 9/10 (yes and no) ≈ 66.67% ≥ 2/3? yes"},
		{"both: weight exact at strict threshold", sdk.TallyInput{Rule: Qualified, Threshold: two3s, Counting: sdk.CountBoth, Votes: weighted("yes", 200, "yes", 200, "yes", 200, "no", 300)}, "fail", 3, "by weight: yes 3/5 of 9/10 (yes and no) ≈ 66.67% > 2/3? no"},

		{"eligible by weight: 412.5/1000 of all misses 2/3", sdk.TallyInput{Rule: Qualified, Threshold: two3, Counting: sdk.CountWeight, Basis: sdk.BasisEligible, Eligible: all, Votes: owners}, "fail", 1, "by weight: yes 33/80 of 1 (all eligible) = 41.25% ≥ 2/3? no"},
		{"votes cast by weight: 412.5 of 500 passes 2/3", sdk.TallyInput{Rule: Qualified, Threshold: two3, Counting: sdk.CountWeight, Votes: owners}, "pass", 1, "yes 33/80 of 1/2 (yes and no) = 82.5% ≥ 2/3? yes"},
		{"absolute by weight", sdk.TallyInput{Rule: AbsoluteMajority, Counting: sdk.CountWeight, Votes: owners}, "pass", 1, "yes 33/80 of 3/5 (all votes cast) = 68.75% > 1/2? yes"},
		{"eligible by head: 3 of 8 misses a majority", sdk.TallyInput{Rule: SimpleMajority, Basis: sdk.BasisEligible, Eligible: all, Votes: votes("yes", "yes", "yes")}, "fail", 3, "yes 3 of 8 (all eligible) = 37.5% > 1/2? no"},
		{"eligible by head: exactly half, not strict", sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 1, Den: 2}, Basis: sdk.BasisEligible, Eligible: all, Votes: votes("yes", "yes", "yes", "yes")}, "pass", 4, "yes 4 of 8 (all eligible) = 50% ≥ 1/2? yes"},
		{"eligible both: weight passes, head misses", sdk.TallyInput{Rule: SimpleMajority, Basis: sdk.BasisEligible, Counting: sdk.CountBoth, Eligible: all, Votes: weighted("yes", 600, "no", 100)}, "fail", 1, "by head: yes 1 of 8 (all eligible) = 12.5% > 1/2? no\nby weight: yes 3/5 of 1 (all eligible) = 60% > 1/2? yes"},
		{"eligible both: double majority", sdk.TallyInput{Rule: Qualified, Threshold: two3, Basis: sdk.BasisEligible, Counting: sdk.CountBoth, Eligible: sdk.Eligible{Units: 3, Weight: sdk.Int(1)}, Votes: weighted("yes", 400, "yes", 300, "no", 300)}, "pass", 2, "by weight: yes 7/10 of 1 (all eligible) = 70% ≥ 2/3? yes"},

		{"quorum by weight missed, by head met", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountWeight, Quorum: 2, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: weighted("yes", 200, "yes", 200, "no", 50)}, "no_quorum", 2, "turnout 3, quorum 2: met\nturnout weight 9/20, quorum weight 1/2: missed"},
		{"quorum by weight exactly met", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountWeight, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: weighted("yes", 250, "abstain", 250)}, "pass", 1, "turnout weight 1/2, quorum weight 1/2: met"},
		{"quorum by weight on a head count", sdk.TallyInput{Rule: SimpleMajority, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: weighted("yes", 100, "no", 100, "no", 100)}, "no_quorum", 1, "turnout weight 3/10, quorum weight 1/2: missed"},
		{"quorum by head missed, by weight met", sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountBoth, Quorum: 3, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: weighted("yes", 900, "no", 100)}, "no_quorum", 1, "turnout 2, quorum 3: missed"},
		{"abstentions count toward the quorum", sdk.TallyInput{Rule: SimpleMajority, Quorum: 3, Votes: votes("yes", "abstain", "abstain")}, "pass", 1, "turnout 3, quorum 3: met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tally(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			explain := strings.Join(out.Explanation, "\n")
			if out.Decision != tt.want || out.Counts[0].Votes != tt.yes || !strings.Contains(explain, tt.explain) {
				t.Fatalf("decision %s, yes %d\n%s\nwant %s, %d, explanation ∋ %q", out.Decision, out.Counts[0].Votes, explain, tt.want, tt.yes, tt.explain)
			}
			if out.QuorumMet != (tt.want != "no_quorum") {
				t.Errorf("quorum met %v with decision %s", out.QuorumMet, out.Decision)
			}
		})
	}
}

func TestTallyWeights(t *testing.T) {
	in := sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountBoth, Votes: weighted("yes", 150, "no", 300, "yes", 100, "abstain", 50)}
	out, err := tally(&in)
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Count{
		{Choice: "yes", Votes: 2, Weight: sdk.Rational{Num: 1, Den: 4}},
		{Choice: "no", Votes: 1, Weight: sdk.Rational{Num: 3, Den: 10}},
		{Choice: "abstain", Votes: 1, Weight: sdk.Rational{Num: 1, Den: 20}},
	}
	for i := range want {
		if out.Counts[i] != want[i] {
			t.Errorf("count %d = %+v, want %+v", i, out.Counts[i], want[i])
		}
	}
	if out.Turnout != (sdk.Turnout{Head: 4, Weight: sdk.Rational{Num: 3, Den: 5}}) {
		t.Errorf("turnout %+v", out.Turnout)
	}
}

// Weights too fine for 64 bits are still summed and compared exactly.
func TestTallyFineWeights(t *testing.T) {
	const p, q = 1<<61 - 1, 1<<31 - 1 // primes
	in := sdk.TallyInput{Rule: SimpleMajority, Counting: sdk.CountWeight, Votes: []sdk.Vote{
		{Choice: "yes", Weight: sdk.Rational{Num: 1, Den: p}},
		{Choice: "no", Weight: sdk.Rational{Num: 1, Den: q}},
	}}
	if _, err := tally(&in); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("a sum that does not fit the output: %v", err)
	}
	in.Votes[1].Weight = sdk.Rational{Num: 2, Den: p}
	out, err := tally(&in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Decision != "fail" || !strings.Contains(out.Explanation[0], "yes 1/2305843009213693951 of 3/2305843009213693951 (yes and no) ≈ 33.33%") {
		t.Fatalf("%s %q", out.Decision, out.Explanation)
	}
}

// A vote with a Count stands for that many identical voters, by head and
// by weight.
func TestTallyCount(t *testing.T) {
	in := sdk.TallyInput{Rule: Qualified, Threshold: sdk.Threshold{Num: 2, Den: 3}, Counting: sdk.CountBoth, Quorum: 10,
		QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: []sdk.Vote{
			{Choice: "yes", Weight: sdk.Rational{Num: 1, Den: 20}, Count: 8},
			{Choice: "no", Weight: sdk.Rational{Num: 1, Den: 10}, Count: 2},
			{Choice: "abstain", Weight: sdk.Rational{Num: 1, Den: 10}},
			{Choice: "abstain", Weight: sdk.Rational{Num: 1, Den: 10}, Count: 1},
		}}
	out, err := tally(&in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Decision != "pass" || out.Counts[0].Votes != 8 || out.Counts[0].Weight != (sdk.Rational{Num: 2, Den: 5}) ||
		out.Counts[1].Votes != 2 || out.Counts[2].Votes != 2 || out.Turnout != (sdk.Turnout{Head: 12, Weight: sdk.Rational{Num: 4, Den: 5}}) {
		t.Fatalf("%+v", out)
	}
	in.Votes[0].Count = -1
	if _, err := tally(&in); err == nil {
		t.Fatal("negative count accepted")
	}
}

func TestTallyRejects(t *testing.T) {
	for name, in := range map[string]sdk.TallyInput{
		"unknown rule":          {Rule: "plurality"},
		"qualified, no share":   {Rule: Qualified},
		"share above one":       {Rule: SimpleMajority, Threshold: sdk.Threshold{Num: 3, Den: 2}},
		"unknown choice":        {Rule: SimpleMajority, Votes: votes("maybe")},
		"zero denominator":      {Rule: SimpleMajority, ByWeight: true, Votes: []sdk.Vote{{Choice: "yes", Weight: sdk.Rational{Num: 1, Den: 0}}}},
		"negative weight":       {Rule: SimpleMajority, Counting: sdk.CountBoth, Votes: []sdk.Vote{{Choice: "yes", Weight: sdk.Rational{Num: -1, Den: 2}}}},
		"unknown counting":      {Rule: SimpleMajority, Counting: "shares"},
		"unknown basis":         {Rule: SimpleMajority, Basis: "present"},
		"eligible, no units":    {Rule: SimpleMajority, Basis: sdk.BasisEligible, Eligible: sdk.Eligible{Weight: sdk.One()}},
		"eligible, no weight":   {Rule: SimpleMajority, Basis: sdk.BasisEligible, Counting: sdk.CountBoth, Eligible: sdk.Eligible{Units: 3}},
		"negative quorum":       {Rule: SimpleMajority, Quorum: -1},
		"negative quorum share": {Rule: SimpleMajority, QuorumWeight: sdk.Rational{Num: -1, Den: 2}},
		"invalid quorum share":  {Rule: SimpleMajority, QuorumWeight: sdk.Rational{Num: 1}},
		"invalid eligible":      {Rule: SimpleMajority, Basis: sdk.BasisEligible, Counting: sdk.CountWeight, Eligible: sdk.Eligible{Weight: sdk.Rational{Num: 1}}},
	} {
		if _, err := tally(&in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAppendPercent(t *testing.T) {
	for _, tt := range []struct {
		num, den uint64
		want     string
	}{
		{3, 4, " = 75%"}, {1, 3, " ≈ 33.33%"}, {2, 3, " ≈ 66.67%"}, {33, 80, " = 41.25%"}, {0, 5, " = 0%"}, {1, 1, " = 100%"},
		{1, 8, " = 12.5%"}, {1, 20000, " ≈ 0.01%"}, {1, 30000, " ≈ 0%"}, {1<<62 - 1, 1<<62 + 1, " ≈ 100%"},
	} {
		if got := string(appendPercent(nil, tt.num, tt.den)); got != tt.want {
			t.Errorf("%d/%d = %s, want %s", tt.num, tt.den, got, tt.want)
		}
	}
}
