package plurality

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// opts returns options with the given ids.
func opts(ids ...string) []sdk.Option {
	os := make([]sdk.Option, len(ids))
	for i, id := range ids {
		os[i] = sdk.Option{ID: id, Label: strings.ToUpper(id)}
	}
	return os
}

// marks returns one vote per argument, each marking the
// space-separated option ids, by head.
func marks(ballots ...string) []sdk.Vote {
	vs := make([]sdk.Vote, len(ballots))
	for i, b := range ballots {
		vs[i] = sdk.Vote{Voter: "v" + string(rune('a'+i)), Weight: sdk.One(), Ranking: strings.Fields(b)}
	}
	return vs
}

func cfg(s string) json.RawMessage { return json.RawMessage(s) }

func TestCount(t *testing.T) {
	abc := opts("ann", "bob", "cyd")
	tests := []struct {
		name     string
		in       sdk.TallyInput
		decision string
		elected  []string
		votes    []int64 // Counts[i].Votes
		explain  string  // a substring of the joined explanation
	}{
		{"single seat", sdk.TallyInput{Options: abc, Seats: 1, Votes: marks("ann", "bob", "ann", "cyd")},
			"elected", []string{"ann"}, []int64{2, 1, 1}, "totals: ann 2, bob 1, cyd 1\nelected: ann"},
		{"seats 0 means one", sdk.TallyInput{Options: abc, Votes: marks("bob", "bob", "ann")},
			"elected", []string{"bob"}, []int64{1, 2, 0}, "plurality: 1 of 3 options to elect, up to 1 vote per voter, counted by head"},
		{"two seats, block vote", sdk.TallyInput{Options: abc, Seats: 2, Votes: marks("ann bob", "bob cyd", "bob", "ann")},
			"elected", []string{"bob", "ann"}, []int64{2, 3, 1}, "elected: bob, ann"},
		{"tie for the single seat", sdk.TallyInput{Options: abc, Seats: 1, Votes: marks("ann", "bob")},
			"tie", nil, []int64{1, 1, 0}, "ann, bob tie with 1 each for the last seat; the rules leave the decision to people"},
		{"tie at the last of two seats", sdk.TallyInput{Options: abc, Seats: 2, Votes: marks("ann bob", "ann cyd")},
			"tie", []string{"ann"}, []int64{2, 1, 1}, "elected without doubt: ann; bob, cyd tie with 1 each"},
		{"tie that all fit", sdk.TallyInput{Options: abc, Seats: 2, Votes: marks("ann bob", "ann bob", "cyd")},
			"elected", []string{"ann", "bob"}, []int64{2, 2, 1}, "elected: ann, bob"},
		{"nobody voted", sdk.TallyInput{Options: abc, Seats: 1},
			"tie", nil, []int64{0, 0, 0}, "ann, bob, cyd tie with 0 each"},
		{"blank and reserved marks count for nothing", sdk.TallyInput{Options: abc, Seats: 1, Votes: marks("", "#skipped ann", "#overvote")},
			"elected", []string{"ann"}, []int64{1, 0, 0}, "elected: ann"},
		{"counts", sdk.TallyInput{Options: abc, Seats: 1, Votes: []sdk.Vote{
			{Ranking: []string{"bob"}, Count: 3}, {Ranking: []string{"ann"}, Count: 2}, {Ranking: []string{"ann"}}, {Ranking: []string{"ann"}, Count: 1}}},
			"elected", []string{"ann"}, []int64{4, 3, 0}, "totals: ann 4, bob 3, cyd 0"},
		{"cumulative", sdk.TallyInput{Options: abc, Seats: 1, Config: cfg(`{"votes_per_voter": 3, "cumulative": true}`), Votes: marks("cyd cyd cyd", "ann bob cyd", "ann ann")},
			"elected", []string{"cyd"}, []int64{3, 1, 4}, "up to 3 votes per voter, cumulative"},
		{"by weight", sdk.TallyInput{Options: abc, Seats: 1, Counting: sdk.CountWeight, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 100, Den: 1000}, Ranking: []string{"ann"}},
			{Weight: sdk.Rational{Num: 150, Den: 1000}, Ranking: []string{"ann"}},
			{Weight: sdk.Rational{Num: 1, Den: 3}, Ranking: []string{"bob"}, Count: 1},
		}}, "elected", []string{"bob"}, []int64{2, 1, 0}, "totals: bob 1/3 (1 vote), ann 1/4 (2 votes), cyd 0 (0 votes)"},
		{"by weight, tie exact", sdk.TallyInput{Options: abc, Seats: 1, ByWeight: true, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 1, Den: 3}, Ranking: []string{"ann"}},
			{Weight: sdk.Rational{Num: 1, Den: 6}, Ranking: []string{"bob"}, Count: 2},
		}}, "tie", nil, []int64{1, 2, 0}, "ann, bob tie with 1/3 (1 vote) each"},
		{"quorum missed", sdk.TallyInput{Options: abc, Seats: 1, Quorum: 4, Votes: marks("ann", "bob", "ann")},
			"no_quorum", nil, []int64{2, 1, 0}, "turnout 3, quorum 4: missed"},
		{"quorum by weight missed on a head count", sdk.TallyInput{Options: abc, Seats: 1, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 1, Den: 5}, Ranking: []string{"ann"}}, {Weight: sdk.Rational{Num: 1, Den: 5}, Ranking: []string{"ann"}}}},
			"no_quorum", nil, []int64{2, 0, 0}, "turnout weight 2/5, quorum weight 1/2: missed"},
		{"quorum by weight met, heads still counted", sdk.TallyInput{Options: abc, Seats: 1, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 3, Den: 5}, Ranking: []string{"ann"}}, {Weight: sdk.Rational{Num: 1, Den: 5}, Ranking: []string{"bob"}}, {Weight: sdk.Rational{Num: 1, Den: 5}, Ranking: []string{"bob"}}}},
			"elected", []string{"bob"}, []int64{1, 2, 0}, "totals: bob 2, ann 1, cyd 0"},
		{"quota reached exactly", sdk.TallyInput{Options: abc, Seats: 1, Config: cfg(`{"quota": {"num": 1, "den": 2}}`), Votes: marks("ann", "bob", "ann", "cyd")},
			"elected", []string{"ann"}, []int64{2, 1, 1}, "quota: at least 1/2 of the turnout 4 = 2; reached by ann"},
		{"strict quota missed", sdk.TallyInput{Options: abc, Seats: 1, Config: cfg(`{"quota": {"num": 1, "den": 2, "strict": true}}`), Votes: marks("ann", "bob", "ann", "cyd")},
			"fail", nil, []int64{2, 1, 1}, "no option reaches it, nobody is elected"},
		{"quota of everyone eligible fills fewer seats", sdk.TallyInput{Options: abc, Seats: 2, Basis: sdk.BasisEligible, Eligible: sdk.Eligible{Units: 6},
			Config: cfg(`{"quota": {"num": 1, "den": 3}}`), Votes: marks("ann bob", "ann", "ann cyd")},
			"elected", []string{"ann"}, []int64{3, 1, 1}, "(1 of 2 seats filled: no other option reaches the quota)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Count(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			explain := strings.Join(out.Explanation, "\n")
			var votes []int64
			for _, c := range out.Counts {
				votes = append(votes, c.Votes)
			}
			if out.Decision != tt.decision || !slices.Equal(out.Elected, tt.elected) || !slices.Equal(votes, tt.votes) || !strings.Contains(explain, tt.explain) {
				t.Fatalf("%s %q votes %v\n%s\nwant %s %q votes %v, explanation ∋ %q", out.Decision, out.Elected, votes, explain, tt.decision, tt.elected, tt.votes, tt.explain)
			}
			if int64(len(out.Elected)) > max(tt.in.Seats, 1) {
				t.Errorf("%d elected for %d seats", len(out.Elected), tt.in.Seats)
			}
		})
	}
}

// A seed settles a tie by lots, the same way every time and whatever the
// order of the options.
func TestCountLots(t *testing.T) {
	in := sdk.TallyInput{Options: opts("ann", "bob", "cyd", "dee"), Seats: 2, Config: cfg(`{"seed": "2026-05-12 meeting"}`),
		Votes: marks("ann", "ann", "bob", "cyd", "dee")}
	out, err := Count(&in)
	if err != nil {
		t.Fatal(err)
	}
	explain := strings.Join(out.Explanation, "\n")
	if out.Decision != "elected" || len(out.Elected) != 2 || out.Elected[0] != "ann" || !strings.Contains(explain, `lots drawn with seed "2026-05-12 meeting": SHA-256(seed, tied ids bob, cyd, dee, id) orders them`) {
		t.Fatalf("%s %q\n%s", out.Decision, out.Elected, explain)
	}
	slices.Reverse(in.Options)
	again, err := Count(&in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Elected, out.Elected) {
		t.Fatalf("option order changed the draw: %q then %q", out.Elected, again.Elected)
	}
}

func TestLots(t *testing.T) {
	a, note := Lots("s", []string{"x", "y", "z"})
	b, _ := Lots("s", []string{"z", "x", "y"})
	// The figures anyone can recompute, e.g. in Python:
	// f = lambda s: struct.pack('>Q', len(s)) + s.encode()
	// P = sha256(f('s') + f('x') + f('y') + f('z')).digest(); sha256(P + f(id))
	want := `lots drawn with seed "s": SHA-256(seed, tied ids x, y, z, id) orders them z 03aa474dae69, y 2780a82770f2, x d84d88065148`
	if !slices.Equal(a, []string{"z", "y", "x"}) || !slices.Equal(a, b) || note != want {
		t.Fatalf("%q %q\n%s", a, b, note)
	}
	if c, _ := Lots("another seed", []string{"x", "y", "z"}); len(c) != 3 {
		t.Fatalf("%q", c)
	}
}

func TestCountRejects(t *testing.T) {
	abc := opts("ann", "bob", "cyd")
	for _, tt := range []struct {
		name string
		in   sdk.TallyInput
		want string
	}{
		{"unknown option", sdk.TallyInput{Options: abc, Votes: marks("ann", "zed")}, `votes[1] (voter "vb"): unknown option "zed"`},
		{"too many marks", sdk.TallyInput{Options: abc, Seats: 1, Votes: marks("ann bob")}, "votes[0] (voter \"va\"): more than 1 vote"},
		{"duplicate", sdk.TallyInput{Options: abc, Seats: 2, Votes: marks("ann", "bob bob")}, `votes[1] (voter "vb"): option "bob" marked twice`},
		{"cumulative over the limit", sdk.TallyInput{Options: abc, Seats: 1, Config: cfg(`{"votes_per_voter": 2, "cumulative": true}`), Votes: marks("ann ann ann")}, "more than 2 votes"},
		{"negative count", sdk.TallyInput{Options: abc, Votes: []sdk.Vote{{Ranking: []string{"ann"}, Count: -2}}}, "negative count"},
		{"no options", sdk.TallyInput{}, "no options"},
		{"too many seats", sdk.TallyInput{Options: abc, Seats: 4}, "4 seats for 3 options"},
		{"duplicate option", sdk.TallyInput{Options: opts("ann", "ann")}, `option "ann" appears twice`},
		{"reserved option", sdk.TallyInput{Options: opts("#skipped")}, "reserved"},
		{"both", sdk.TallyInput{Options: abc, Counting: sdk.CountBoth}, "by head or by weight"},
		{"unknown config key", sdk.TallyInput{Options: abc, Config: cfg(`{"seats": 2}`)}, "unknown field"},
		{"bad quota", sdk.TallyInput{Options: abc, Config: cfg(`{"quota": {"num": 3, "den": 2}}`)}, "not a share"},
		{"negative weight", sdk.TallyInput{Options: abc, ByWeight: true, Votes: []sdk.Vote{{Weight: sdk.Rational{Num: -1, Den: 2}, Ranking: []string{"ann"}}}}, "votes[0]: weight -1/2"},
		{"weights beyond 64 bits", sdk.TallyInput{Options: abc, ByWeight: true, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 1, Den: 1<<61 - 1}}, {Weight: sdk.Rational{Num: 1, Den: 1<<31 - 1}}, {Weight: sdk.Rational{Num: 1, Den: 1<<19 - 1}}}}, "exceeds 64 bits"},
		{"eligible quota, no units", sdk.TallyInput{Options: abc, Basis: sdk.BasisEligible, Config: cfg(`{"quota": {"num": 1, "den": 2}}`)}, "eligible units"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Count(&tt.in)
			if err == nil || !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrInput ∋ %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := sdk.ValidateBallotInput{Kind: "election", Rule: Rule, Options: opts("ann", "bob", "cyd"), Seats: 2,
		Config: cfg(`{"votes_per_voter": 2, "seed": "x"}`), Opens: 100, Closes: 200}
	if out := Validate(&ok); !out.Valid || out.Problems == nil {
		t.Fatalf("valid ballot refused: %+v", out)
	}
	for _, tt := range []struct {
		name  string
		mod   func(*sdk.ValidateBallotInput)
		field string
	}{
		{"motion", func(in *sdk.ValidateBallotInput) { in.Kind = "motion" }, "kind"},
		{"other rule", func(in *sdk.ValidateBallotInput) { in.Rule = "approval" }, "rule"},
		{"no seats", func(in *sdk.ValidateBallotInput) { in.Seats = 0 }, "seats"},
		{"too many seats", func(in *sdk.ValidateBallotInput) { in.Seats = 4 }, "seats"},
		{"no options", func(in *sdk.ValidateBallotInput) { in.Options = nil }, "options"},
		{"duplicate option", func(in *sdk.ValidateBallotInput) { in.Options[1].ID = "ann" }, "options"},
		{"reserved option", func(in *sdk.ValidateBallotInput) { in.Options[1].ID = "#overvote" }, "options"},
		{"both", func(in *sdk.ValidateBallotInput) { in.Counting = sdk.CountBoth }, "counting"},
		{"bad config", func(in *sdk.ValidateBallotInput) { in.Config = cfg(`{"votes_per_voter": -1}`) }, "config"},
		{"unknown key", func(in *sdk.ValidateBallotInput) { in.Config = cfg(`{"vote": 1}`) }, "config"},
		{"more votes than options", func(in *sdk.ValidateBallotInput) { in.Config = cfg(`{"votes_per_voter": 4}`) }, "config"},
		{"long seed", func(in *sdk.ValidateBallotInput) { in.Config = cfg(`{"seed": "` + strings.Repeat("s", 300) + `"}`) }, "config"},
		{"negative quorum", func(in *sdk.ValidateBallotInput) { in.Quorum = -1 }, "quorum"},
		{"closes early", func(in *sdk.ValidateBallotInput) { in.Closes = 50 }, "closes"},
	} {
		in := ok
		in.Options = slices.Clone(ok.Options)
		tt.mod(&in)
		out := Validate(&in)
		if out.Valid || len(out.Problems) == 0 || !slices.ContainsFunc(out.Problems, func(p sdk.Problem) bool { return p.Field == tt.field }) {
			t.Errorf("%s: %+v, want a problem with %s", tt.name, out, tt.field)
		}
	}
	// Cumulative voting may give more votes than there are options.
	in := ok
	in.Config = cfg(`{"votes_per_voter": 5, "cumulative": true}`)
	if out := Validate(&in); !out.Valid {
		t.Errorf("cumulative refused: %+v", out.Problems)
	}
}
