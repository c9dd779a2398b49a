package condorcet

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func opts(ids string) []sdk.Option {
	var os []sdk.Option
	for _, id := range strings.Fields(ids) {
		os = append(os, sdk.Option{ID: id})
	}
	return os
}

// ranked returns votes from "count:ranking" items, the ranking as
// space-separated ids, e.g. "5:a c b".
func ranked(items ...string) []sdk.Vote {
	var vs []sdk.Vote
	for i, it := range items {
		n, r, _ := strings.Cut(it, ":")
		k, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			panic(err)
		}
		vs = append(vs, sdk.Vote{Voter: "v" + strconv.Itoa(i), Weight: sdk.One(), Count: k, Ranking: strings.Fields(r)})
	}
	return vs
}

// The example of Schulze's paper and of most descriptions of the method:
// 45 voters, five options, no Condorcet winner; the ranking is
// e > a > c > b > d.
var schulzeExample = ranked("5:a c b e d", "5:a d e c b", "8:b e d a c", "3:c a b e d", "7:c a e b d", "2:c b a d e", "7:d c e b a", "8:e b a d c")

func TestCount(t *testing.T) {
	abc := opts("a b c")
	tests := []struct {
		name     string
		in       sdk.TallyInput
		decision string
		elected  []string
		wins     []int64
		explain  []string // substrings of the joined explanation
	}{
		{"Condorcet winner", sdk.TallyInput{Options: abc, Seats: 1, Votes: ranked("3:a b c", "2:b a c", "1:c a b")},
			"elected", []string{"a"}, []int64{2, 1, 0}, []string{
				"pairwise a: 4–2 against b, 5–1 against c (wins 2)", "Condorcet winner: a beats every other option one to one", "Schulze ranking: a > b > c",
			}},
		{"schulze example", sdk.TallyInput{Options: opts("a b c d e"), Seats: 1, Votes: schulzeExample},
			"elected", []string{"e"}, nil, []string{
				"pairwise a: 20–25 against b, 26–19 against c, 30–15 against d, 22–23 against e",
				"no Condorcet winner",
				"strongest paths from a: b 28, c 28, d 30, e 24",
				"strongest paths from e: a 25, b 28, c 28, d 31",
				"Schulze ranking: e > a > c > b > d",
				"elected: e",
			}},
		{"schulze example, three seats", sdk.TallyInput{Options: opts("a b c d e"), Seats: 3, Votes: schulzeExample},
			"elected", []string{"e", "a", "c"}, nil, []string{"elected: e, a, c"}},
		{"cycle without seed", sdk.TallyInput{Options: abc, Votes: ranked("1:a b c", "1:b c a", "1:c a b")},
			"tie", nil, []int64{1, 1, 1}, []string{"Schulze ranking: a = b = c", "a, b, c tie in the Schulze ranking for the last seat; the rules leave the decision to people"}},
		{"cycle with seed", sdk.TallyInput{Options: abc, Config: json.RawMessage(`{"seed": "agm"}`), Votes: ranked("1:a b c", "1:b c a", "1:c a b")},
			"elected", nil, []int64{1, 1, 1}, []string{`lots drawn with seed "agm": SHA-256(seed, tied ids a, b, c, id) orders them`}},
		{"unranked options tie below the ranked", sdk.TallyInput{Options: abc, Votes: ranked("1:a", "1:b c")},
			"tie", nil, []int64{0, 1, 0}, []string{"pairwise b: 1–1 against a, 1–0 against c (wins 1)", "Schulze ranking: a = b > c"}},
		{"tie that fits the seats", sdk.TallyInput{Options: abc, Seats: 2, Votes: ranked("1:a", "1:b c")},
			"elected", []string{"a", "b"}, nil, []string{"elected: a, b"}},
		{"tie after a sure seat", sdk.TallyInput{Options: opts("a b c d"), Seats: 2, Votes: ranked("3:a b c d", "3:a c d b", "3:a d b c")},
			"tie", []string{"a"}, nil, []string{"elected without doubt: a; b, c, d tie in the Schulze ranking"}},
		{"reserved entries are passed over", sdk.TallyInput{Options: abc, Votes: ranked("2:#skipped b #overvote a", "1:a b")},
			"elected", []string{"b"}, []int64{1, 2, 0}, []string{"pairwise b: 2–1 against a, 3–0 against c"}},
		{"nobody voted", sdk.TallyInput{Options: abc, Seats: 1},
			"tie", nil, []int64{0, 0, 0}, []string{"pairwise a: 0–0 against b", "Schulze ranking: a = b = c"}},
		{"blank ballots count for the quorum only", sdk.TallyInput{Options: abc, Quorum: 3, Votes: ranked("1:", "1:", "1:c")},
			"elected", []string{"c"}, []int64{0, 0, 2}, []string{"turnout 3, quorum 3: met", "Condorcet winner: c"}},
		{"quorum missed", sdk.TallyInput{Options: abc, Quorum: 4, Votes: ranked("3:c")},
			"no_quorum", nil, []int64{0, 0, 2}, []string{"turnout 3, quorum 4: missed"}},
		{"single option", sdk.TallyInput{Options: opts("a"), Votes: ranked("1:a")},
			"elected", []string{"a"}, []int64{0}, []string{"pairwise a: no other option (wins 0)", "Condorcet winner: a"}},
		{"by weight the heavy minority wins", sdk.TallyInput{Options: abc, Counting: sdk.CountWeight, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 1, Den: 10}, Count: 3, Ranking: []string{"a", "b", "c"}},
			{Weight: sdk.Rational{Num: 1, Den: 2}, Ranking: []string{"c", "b", "a"}},
		}}, "elected", []string{"c"}, []int64{0, 1, 2}, []string{"counted by weight", "pairwise c: 1/2–3/10 against a, 1/2–3/10 against b (wins 2)"}},
		{"by weight with a quorum of weight", sdk.TallyInput{Options: abc, ByWeight: true, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 1, Den: 3}, Ranking: []string{"a"}},
			{Weight: sdk.Rational{Num: 1, Den: 6}, Ranking: []string{"b"}},
		}}, "elected", []string{"a"}, nil, []string{"turnout weight 1/2, quorum weight 1/2: met"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Count(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			explain := strings.Join(out.Explanation, "\n")
			var wins []int64
			for _, c := range out.Counts {
				wins = append(wins, c.Votes)
			}
			bad := out.Decision != tt.decision || tt.elected != nil && !slices.Equal(out.Elected, tt.elected) || tt.wins != nil && !slices.Equal(wins, tt.wins)
			for _, e := range tt.explain {
				bad = bad || !strings.Contains(explain, e)
			}
			if bad || int64(len(out.Elected)) > max(tt.in.Seats, 1) {
				t.Fatalf("%s %q wins %v\n%s\nwant %s %q wins %v, explanation ∋ %q", out.Decision, out.Elected, wins, explain, tt.decision, tt.elected, tt.wins, tt.explain)
			}
		})
	}
}

func TestCountRejects(t *testing.T) {
	abc := opts("a b c")
	for _, tt := range []struct {
		name string
		in   sdk.TallyInput
		want string
	}{
		{"ranked twice", sdk.TallyInput{Options: abc, Votes: ranked("1:a b", "1:b c b")}, `votes[1] (voter "v1"): option "b" ranked twice`},
		{"unknown", sdk.TallyInput{Options: abc, Votes: ranked("1:a z")}, `votes[0] (voter "v0"): unknown option "z"`},
		{"negative count", sdk.TallyInput{Options: abc, Votes: ranked("-1:a")}, "negative count -1"},
		{"no options", sdk.TallyInput{}, "no options"},
		{"seats", sdk.TallyInput{Options: abc, Seats: 4}, "4 seats for 3 options"},
		{"both", sdk.TallyInput{Options: abc, Counting: sdk.CountBoth}, "by head or by weight"},
		{"config", sdk.TallyInput{Options: abc, Config: json.RawMessage(`{"method": "ranked pairs"}`)}, "unknown field"},
		{"bad weight", sdk.TallyInput{Options: abc, ByWeight: true, Votes: []sdk.Vote{{Weight: sdk.Rational{Num: 1, Den: -3}}}}, "votes[0]: weight"},
		{"turnout overflow", sdk.TallyInput{Options: abc, Votes: ranked("9223372036854775807:a", "1:b")}, "exceeds 64 bits"},
		{"weights overflow", sdk.TallyInput{Options: abc, ByWeight: true, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 1, Den: 1<<61 - 1}}, {Weight: sdk.Rational{Num: 1, Den: 1<<31 - 1}}, {Weight: sdk.Rational{Num: 1, Den: 1<<19 - 1}}}}, "exceeds 64 bits"},
	} {
		_, err := Count(&tt.in)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ∋ %q", tt.name, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := sdk.ValidateBallotInput{Kind: "election", Rule: Rule, Options: opts("a b c"), Seats: 1, Config: json.RawMessage(`{"seed": "x"}`)}
	if out := Validate(&ok); !out.Valid {
		t.Fatalf("valid ballot refused: %+v", out.Problems)
	}
	ok.Rule = RuleSchulze
	if out := Validate(&ok); !out.Valid {
		t.Fatalf("schulze refused: %+v", out.Problems)
	}
	for _, tt := range []struct {
		name  string
		mod   func(*sdk.ValidateBallotInput)
		field string
	}{
		{"rule", func(in *sdk.ValidateBallotInput) { in.Rule = "irv" }, "rule"},
		{"motion", func(in *sdk.ValidateBallotInput) { in.Kind = "motion" }, "kind"},
		{"seats", func(in *sdk.ValidateBallotInput) { in.Seats = 4 }, "seats"},
		{"config", func(in *sdk.ValidateBallotInput) { in.Config = json.RawMessage(`{"seeds": 1}`) }, "config"},
		{"too many options", func(in *sdk.ValidateBallotInput) {
			in.Options = nil
			for i := range MaxOptions + 1 {
				in.Options = append(in.Options, sdk.Option{ID: strconv.Itoa(i)})
			}
		}, "options"},
	} {
		in := ok
		tt.mod(&in)
		out := Validate(&in)
		if out.Valid || !slices.ContainsFunc(out.Problems, func(p sdk.Problem) bool { return p.Field == tt.field }) {
			t.Errorf("%s: %+v", tt.name, out)
		}
	}
}
