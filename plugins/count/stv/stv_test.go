package stv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"
	"github.com/plenum-vote/plenum/sdk"
)

// election builds a tally input: candidates are the words of cands, and
// each ballot is "count id id …", with "!" for an overvoted rank and "_"
// for a skipped one.
func election(seats int, config, cands string, ballots ...string) *sdk.TallyInput {
	in := &sdk.TallyInput{BallotID: "test", Kind: sdk.KindElection, Rule: "stv", Seats: int64(seats)}
	if config != "" {
		in.Config = json.RawMessage(config)
	}
	for _, c := range strings.Fields(cands) {
		in.Options = append(in.Options, sdk.Option{ID: c, Label: c})
	}
	for i, b := range ballots {
		f := strings.Fields(b)
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			panic(err)
		}
		v := sdk.Vote{Voter: fmt.Sprint("v", i), Weight: sdk.One(), Count: n}
		for _, id := range f[1:] {
			switch id {
			case "!":
				id = sdk.RankOvervote
			case "_":
				id = sdk.RankSkipped
			}
			v.Ranking = append(v.Ranking, id)
		}
		in.Votes = append(in.Votes, v)
	}
	return in
}

// weightOf returns candidate id's votes at the start of round r (from 1).
func weightOf(t *testing.T, out *sdk.TallyOutput, r int, id string) sdk.Rational {
	t.Helper()
	if r > len(out.Rounds) {
		t.Fatalf("no round %d (%d rounds)", r, len(out.Rounds))
	}
	for _, c := range out.Rounds[r-1].Counts {
		if c.Choice == id {
			return c.Weight
		}
	}
	t.Fatalf("round %d: no count for %s", r, id)
	return sdk.Rational{}
}

func rat(num, den int64) sdk.Rational {
	r, err := sdk.NewRational(num, den)
	if err != nil {
		panic(err)
	}
	return r
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    *sdk.TallyInput
		want  []string
		check func(t *testing.T, out *sdk.TallyOutput)
	}{
		{
			// Quota floor(12/3)+1 = 5; A's surplus 2 of 7 gives each
			// paper 2/7 = 0.28571 (truncated): B receives 1.99997.
			name: "surplus transfer truncated to five decimals",
			in:   election(2, "", "A B C", "7 A B", "2 B", "3 C"),
			want: []string{"A", "B"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if got := weightOf(t, out, 2, "B"); got != rat(399997, 100000) {
					t.Errorf("B after the surplus: %v, want 3.99997", got)
				}
				if got := weightOf(t, out, 2, "A"); got != sdk.Int(5) {
					t.Errorf("A keeps %v, want the quota 5", got)
				}
				if n := out.Rounds[0].Note; !strings.Contains(n, "0.28571 for a paper worth 1") || !strings.Contains(n, "0.00003 lost to truncation") {
					t.Errorf("note %q", n)
				}
				if tr := out.Rounds[0].Transfers; len(tr) != 1 || tr[0] != (sdk.Transfer{From: "A", To: "B", Value: rat(199997, 100000)}) {
					t.Errorf("transfers %+v", tr)
				}
			},
		},
		{
			// Quota 5. A's surplus 5 of 10: papers worth 0.5 to B (7).
			// B's surplus 2 of 7: a paper worth 1 passes at 0.28571,
			// one worth 0.5 at 2 × 0.5 / 7 = 0.142857… → 0.14285.
			name: "a transferred paper's value enters its next transfer value",
			in:   election(3, "", "A B C D E", "10 A B C", "2 B", "4 D", "3 E"),
			want: []string{"A", "B", "D"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if got := weightOf(t, out, 3, "C"); got != rat(142850, 100000) {
					t.Errorf("C after B's surplus: %v, want 1.42850", got)
				}
				if tr := out.Rounds[1].Transfers; len(tr) != 2 || tr[1] != (sdk.Transfer{From: "B", Value: rat(57142, 100000)}) {
					t.Errorf("transfers %+v, want 0.57142 non-transferable", tr)
				}
			},
		},
		{
			// B and C tie at 3 in round 2; in round 1 B had 2, C 3.
			name: "tie for exclusion broken by the earlier round",
			in:   election(2, "", "A B C D E", "1 A B", "2 B", "3 C", "4 D", "5 E"),
			want: []string{"E", "D"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if r := out.Rounds[1]; !slices.Equal(r.Eliminated, []string{"B"}) || !strings.Contains(r.Note, "round 1") {
					t.Errorf("round 2 excluded %v: %s", r.Eliminated, r.Note)
				}
			},
		},
		{
			// Quota floor(18/4)+1 = 5: A (surplus 3) is transferred
			// before B (surplus 1), and C reaches the quota.
			name: "largest surplus first",
			in:   election(3, "", "A B C D", "8 A C", "6 B D", "1 C", "3 D"),
			want: []string{"A", "B", "C"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if n := out.Rounds[0].Note; !strings.HasPrefix(n, "surplus of A") {
					t.Errorf("round 1: %s", n)
				}
			},
		},
		{
			// Quota floor(24/5)+1 = 5. A (surplus 5) goes before C
			// (surplus 1) and lifts B to 6: B and C then have equal
			// surpluses, and C, ahead in round 1, is transferred first.
			name: "tie between surpluses broken by the earlier round",
			in:   election(4, "", "A B C D E F", "10 A B", "1 B", "6 C D", "3 D", "2 E", "2 F"),
			want: []string{"A", "C", "B", "D"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				r := out.Rounds[1]
				if !slices.Equal(r.Elected, []string{"B"}) || len(r.Transfers) == 0 || r.Transfers[0].From != "C" ||
					!strings.Contains(r.Note, "tie for surplus order between B, C broken by the votes at round 1, the most recent at which they differed: C") {
					t.Errorf("round 2: elected %v, transfers %+v: %s", r.Elected, r.Transfers, r.Note)
				}
			},
		},
		{
			name: "exhausted papers are non-transferable",
			in:   election(1, "", "A B C", "4 A", "3 B", "2 C"),
			want: []string{"A"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if tr := out.Rounds[0].Transfers; len(tr) != 1 || tr[0] != (sdk.Transfer{From: "C", Value: sdk.Int(2)}) {
					t.Errorf("transfers %+v", tr)
				}
			},
		},
		{
			name: "an overvote exhausts the paper under the Scottish rule",
			in:   election(1, "", "A B C", "4 A", "3 B", "2 C ! B"),
			want: []string{"A"},
		},
		{
			name: "RCTab skips an overvote",
			in:   election(1, `{"variant":"rctab"}`, "A B C", "4 A", "3 B", "2 C ! B"),
			want: []string{"B"},
		},
		{
			name: "overvote skipping configured for the Scottish rule",
			in:   election(1, `{"overvote":"skip"}`, "A B C", "4 A", "3 B", "2 C ! B"),
			want: []string{"B"},
		},
		{
			name: "skipped ranks are passed over",
			in:   election(1, "", "A B C", "4 A", "3 B", "2 C _ _ B"),
			want: []string{"B"},
		},
		{
			name: "a repeated candidate is counted once",
			in:   election(1, "", "A B C", "4 A", "3 B", "2 C C B"),
			want: []string{"B"},
		},
		{
			name: "continuing candidates as many as the seats left are elected",
			in:   election(3, "", "A B C", "5 A", "1 B"),
			want: []string{"A", "B", "C"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if len(out.Rounds) != 1 || !strings.Contains(out.Rounds[0].Note, "no more than the vacancies") {
					t.Errorf("rounds %+v", out.Rounds)
				}
			},
		},
		{
			name: "Minneapolis defeats sure losers together",
			in:   election(1, `{"variant":"minneapolis"}`, "A B C D", "10 A", "8 B", "1 C", "2 D"),
			want: []string{"A"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if e := out.Rounds[0].Eliminated; !slices.Equal(e, []string{"C", "D"}) {
					t.Errorf("round 1 excluded %v, want C and D together", e)
				}
			},
		},
		{
			name: "the Scottish rule excludes one at a time",
			in:   election(1, "", "A B C D", "10 A", "8 B", "1 C", "2 D"),
			want: []string{"A"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if e := out.Rounds[0].Eliminated; !slices.Equal(e, []string{"C"}) {
					t.Errorf("round 1 excluded %v, want C", e)
				}
			},
		},
		{
			name: "Meek: Pollux and Helen tie but for rounding",
			in:   election(2, `{"variant":"meek"}`, "Castor Pollux Helen", "4 Castor Pollux", "2 Helen"),
			want: []string{"Castor", "Helen"},
			check: func(t *testing.T, out *sdk.TallyOutput) {
				if !strings.Contains(out.Rounds[0].Note, "quota 2.000000001") {
					t.Errorf("round 1: %s", out.Rounds[0].Note)
				}
			},
		},
		{
			name: "Meek shares a paper by keep factors",
			in:   election(2, `{"variant":"meek","decimals":6}`, "A B C D", "6 A B", "2 B", "3 C", "1 D"),
			want: []string{"A", "B"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Count(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Decision != sdk.DecisionElected || !slices.Equal(out.Elected, tc.want) {
				for _, r := range out.Rounds {
					t.Logf("round %d: %v elected %v excluded %v: %s", r.Number, r.Counts, r.Elected, r.Eliminated, r.Note)
				}
				t.Fatalf("%s %v, want %v", out.Decision, out.Elected, tc.want)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

func TestCountLots(t *testing.T) {
	in := election(1, `{"seed":"2026 AGM"}`, "A B C", "1 A", "1 B", "1 C")
	first, err := Count(in)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Count(in)
	if !slices.Equal(first.Elected, again.Elected) {
		t.Errorf("the same seed drew %v, then %v", first.Elected, again.Elected)
	}
	if !strings.Contains(first.Rounds[0].Note, "broken by lot") || !strings.Contains(first.Rounds[0].Note, `seed "2026 AGM"`) {
		t.Errorf("round 1: %s", first.Rounds[0].Note)
	}
	winners := map[string]bool{}
	for i := range 20 {
		in.Config = json.RawMessage(fmt.Sprintf(`{"seed":"seed %d"}`, i))
		out, err := Count(in)
		if err != nil {
			t.Fatal(err)
		}
		winners[out.Elected[0]] = true
	}
	if len(winners) < 2 {
		t.Errorf("twenty seeds all elected %v", winners)
	}
	// Without a seed, the ballot id seeds the lots.
	in.Config = nil
	byID, _ := Count(in)
	in.Config = json.RawMessage(`{"seed":"test"}`)
	bySeed, _ := Count(in)
	if !slices.Equal(byID.Elected, bySeed.Elected) || byID.Rounds[0].Note != bySeed.Rounds[0].Note {
		t.Errorf("ballot id %v, seed %v", byID.Elected, bySeed.Elected)
	}
}

func TestCountWeighted(t *testing.T) {
	in := &sdk.TallyInput{
		BallotID: "w", Kind: sdk.KindElection, Seats: 1,
		Options: []sdk.Option{{ID: "A"}, {ID: "B"}},
		Votes: []sdk.Vote{
			{Voter: "u1", Weight: rat(3, 4), Ranking: []string{"A"}},
			{Voter: "u2", Weight: rat(1, 8), Ranking: []string{"B"}},
			{Voter: "u3", Weight: rat(1, 8), Ranking: []string{"B"}},
		},
	}
	byHead, err := Count(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Counting = sdk.CountWeight
	byWeight, err := Count(in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(byHead.Elected, []string{"B"}) || !slices.Equal(byWeight.Elected, []string{"A"}) {
		t.Fatalf("by head %v, by weight %v", byHead.Elected, byWeight.Elected)
	}
	if got := weightOf(t, byWeight, 1, "A"); got != rat(3, 4) {
		t.Errorf("A by weight %v", got)
	}
	// Total 1 (not all papers whole): quota 1/2 + 0.00001.
	if !strings.Contains(byWeight.Explanation[1], "quota 0.50001") {
		t.Errorf("%s", byWeight.Explanation[1])
	}
}

func TestCountQuorum(t *testing.T) {
	in := election(1, "", "A B", "7 A", "5 B")
	for _, tc := range []struct {
		quorum int64
		weight sdk.Rational
		want   string
	}{
		{0, sdk.Rational{}, sdk.DecisionElected},
		{12, sdk.Int(12), sdk.DecisionElected},
		{13, sdk.Rational{}, sdk.DecisionNoQuorum},
		{0, rat(25, 2), sdk.DecisionNoQuorum},
	} {
		in.Quorum, in.QuorumWeight = tc.quorum, tc.weight
		out, err := Count(in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Decision != tc.want || out.QuorumMet != (tc.want == sdk.DecisionElected) || out.Turnout != (sdk.Turnout{Head: 12, Weight: sdk.Int(12)}) {
			t.Errorf("quorum %d, %v: %s %+v %v", tc.quorum, tc.weight, out.Decision, out.Turnout, out.Explanation)
		}
	}
}

func TestCountWithdrawn(t *testing.T) {
	// Candidate 2 (B) withdrew: the papers marked B first count for A.
	p, err := ballotfile.ParseBLT(strings.NewReader("3 1\n-2\n2 2 1 0\n1 3 0\n0\n\"A\" \"B\" \"C\" \"withdrawn\""))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Count(toInput(p, 1, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Elected, []string{"A"}) || len(out.Rounds[0].Counts) != 2 || weightOf(t, out, 1, "A") != sdk.Int(2) {
		t.Fatalf("%v %+v", out.Elected, out.Rounds)
	}
}

func TestCountRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *sdk.TallyInput
		err  string
	}{
		{"no input", nil, "no tally input"},
		{"a motion", &sdk.TallyInput{Kind: sdk.KindMotion}, "not an election"},
		{"both counts", &sdk.TallyInput{Kind: sdk.KindElection, Counting: sdk.CountBoth}, "not both"},
		{"unknown variant", election(1, `{"variant":"borda"}`, "A"), "unknown variant"},
		{"unknown field", election(1, `{"quota":"hare"}`, "A"), "unknown field"},
		{"decimals", election(1, `{"decimals":12}`, "A"), "decimals 12"},
		{"overvote", election(1, `{"overvote":"split"}`, "A"), "overvote"},
		{"not JSON", election(1, `{`, "A"), "bad configuration"},
		{"no seats", election(0, "", "A B", "1 A"), "0 seats"},
		{"too many seats", election(3, "", "A B", "1 A"), "seats"},
		{"unknown candidate", election(1, "", "A B", "1 Z"), "unknown option"},
		{"reserved id", election(1, "", "#A B", "1 B"), "reserved"},
		{"negative count", election(1, "", "A B", "-1 A"), "negative count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Count(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, %v; want an error with %q", out, err, tc.err)
			}
		})
	}
	var big []string
	for range 3 {
		big = append(big, "4611686018427387903 A")
	}
	if _, err := Count(election(1, "", "A B", big...)); !errors.Is(err, ErrOverflow) && (err == nil || !strings.Contains(err.Error(), "overflow")) {
		t.Errorf("huge counts: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Config
		err  bool
	}{
		{in: "", want: Config{}},
		{in: "null", want: Config{}},
		{in: "{}", want: Config{}},
		{in: `{"variant":"meek","decimals":6,"seed":"x"}`, want: Config{Variant: Meek, Decimals: 6, Seed: "x"}},
		{in: `{"variant":"rctab","overvote":"exhaust"}`, want: Config{Variant: RCTab, Overvote: OvervoteExhaust}},
		{in: `{"variant":"scottish"} {}`, err: true},
		{in: `{"decimals":-1}`, err: true},
		{in: `[]`, err: true},
		{in: `{"seed":"` + strings.Repeat("s", 1025) + `"}`, err: true},
	} {
		got, err := ParseConfig(json.RawMessage(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseConfig(%s) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("ParseConfig(%s): %v does not wrap ErrConfig", tc.in, err)
		}
	}
}

func TestFixed(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		d    int
		want string
	}{{123450, 5, "1.23450"}, {5, 5, "0.00005"}, {0, 4, "0.0000"}, {-15, 1, "-1.5"}, {42, 0, "42"}} {
		if got := formatFixed(tc.v, tc.d); got != tc.want {
			t.Errorf("formatFixed(%d, %d) = %s, want %s", tc.v, tc.d, got, tc.want)
		}
	}
	if v, err := mulDiv(1<<62, 1<<62, 1<<62); err != nil || v != 1<<62 {
		t.Errorf("mulDiv with a 124-bit product: %d, %v", v, err)
	}
	if _, err := mulDiv(1<<62, 1<<62, 3); err == nil {
		t.Error("mulDiv overflow not reported")
	}
	if v, _ := mulDivUp(2, 1, 3); v != 1 {
		t.Errorf("mulDivUp(2, 1, 3) = %d", v)
	}
}
