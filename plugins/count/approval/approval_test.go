package approval

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/sdk"
)

func opts(ids ...string) []sdk.Option {
	os := make([]sdk.Option, len(ids))
	for i, id := range ids {
		os[i] = sdk.Option{ID: id}
	}
	return os
}

// approvals returns one vote per argument approving the space-separated
// option ids.
func approvals(ballots ...string) []sdk.Vote {
	vs := make([]sdk.Vote, len(ballots))
	for i, b := range ballots {
		vs[i] = sdk.Vote{Voter: "v" + strconv.Itoa(i), Weight: sdk.One(), Ranking: strings.Fields(b)}
	}
	return vs
}

func TestCount(t *testing.T) {
	abcd := opts("ann", "bob", "cyd", "dee")
	tests := []struct {
		name     string
		in       sdk.TallyInput
		decision string
		elected  []string
		votes    []int64
		explain  string
	}{
		{"single seat", sdk.TallyInput{Options: abcd, Seats: 1, Votes: approvals("ann bob", "bob cyd", "bob", "ann dee")},
			"elected", []string{"bob"}, []int64{2, 3, 1, 1}, "approval voting: 1 of 4 options to elect, any number approved per voter, counted by head\ntotals: bob 3, ann 2, cyd 1, dee 1\nelected: bob"},
		{"everyone approves everything", sdk.TallyInput{Options: abcd, Seats: 2, Votes: approvals("ann bob cyd dee", "dee cyd bob ann")},
			"tie", nil, []int64{2, 2, 2, 2}, "ann, bob, cyd, dee tie with 2 each for the last 2 seats"},
		{"two seats", sdk.TallyInput{Options: abcd, Seats: 2, Votes: approvals("ann bob", "bob cyd", "cyd bob", "ann")},
			"tie", []string{"bob"}, []int64{2, 3, 2, 0}, "elected without doubt: bob; ann, cyd tie with 2 each for the last seat"},
		{"blank ballots take part", sdk.TallyInput{Options: abcd, Seats: 1, Config: json.RawMessage(`{"quota": {"num": 1, "den": 2}}`), Votes: approvals("", "#skipped", "ann", "ann")},
			"elected", []string{"ann"}, []int64{2, 0, 0, 0}, "quota: at least 1/2 of the turnout 4 = 2; reached by ann"},
		{"strict quota", sdk.TallyInput{Options: abcd, Seats: 1, Config: json.RawMessage(`{"quota": {"num": 1, "den": 2, "strict": true}}`), Votes: approvals("", "bob", "ann", "ann")},
			"fail", nil, []int64{2, 1, 0, 0}, "quota: more than 1/2 of the turnout 4 = 2; no option reaches it"},
		{"by weight", sdk.TallyInput{Options: abcd, Seats: 1, Counting: sdk.CountWeight, Votes: []sdk.Vote{
			{Weight: sdk.Rational{Num: 2, Den: 10}, Ranking: []string{"ann", "bob"}},
			{Weight: sdk.Rational{Num: 3, Den: 10}, Ranking: []string{"bob"}},
			{Weight: sdk.Rational{Num: 1, Den: 10}, Ranking: []string{"ann", "cyd"}, Count: 4},
		}}, "elected", []string{"ann"}, []int64{5, 2, 4, 0}, "totals: ann 3/5 (5 votes), bob 1/2 (2 votes), cyd 2/5 (4 votes), dee 0 (0 votes)"},
		{"weighted quota of eligible", sdk.TallyInput{Options: abcd, Seats: 2, Counting: sdk.CountWeight, Basis: sdk.BasisEligible,
			Eligible: sdk.Eligible{Units: 9, Weight: sdk.Int(1)}, Config: json.RawMessage(`{"quota": {"num": 1, "den": 2}}`), Votes: []sdk.Vote{
				{Weight: sdk.Rational{Num: 1, Den: 4}, Ranking: []string{"ann", "bob"}},
				{Weight: sdk.Rational{Num: 1, Den: 4}, Ranking: []string{"ann"}},
				{Weight: sdk.Rational{Num: 1, Den: 5}, Ranking: []string{"bob"}},
			}}, "elected", []string{"ann"}, []int64{2, 2, 0, 0}, "quota: at least 1/2 of the eligible weight 1 = 1/2; reached by ann"},
		{"seeded tie", sdk.TallyInput{Options: abcd, Seats: 1, Config: json.RawMessage(`{"seed": "agm-2026"}`), Votes: approvals("ann bob", "bob ann")},
			"elected", []string{"bob"}, []int64{2, 2, 0, 0}, `lots drawn with seed "agm-2026": SHA-256(seed, tied ids ann, bob, id) orders them`},
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
			if tt.elected != nil && !slices.Equal(out.Elected, tt.elected) || len(tt.votes) > 0 && !slices.Equal(votes, tt.votes) ||
				out.Decision != tt.decision || !strings.Contains(explain, tt.explain) {
				t.Fatalf("%s %q votes %v\n%s\nwant %s %q votes %v, explanation ∋ %q", out.Decision, out.Elected, votes, explain, tt.decision, tt.elected, tt.votes, tt.explain)
			}
			if int64(len(out.Elected)) > max(tt.in.Seats, 1) || out.Decision == "elected" && len(out.Elected) == 0 {
				t.Fatalf("elected %q for %d seats", out.Elected, tt.in.Seats)
			}
		})
	}
}

func TestCountRejects(t *testing.T) {
	abc := opts("ann", "bob", "cyd")
	for _, tt := range []struct {
		name string
		in   sdk.TallyInput
		want string
	}{
		{"twice", sdk.TallyInput{Options: abc, Votes: approvals("ann", "bob cyd bob")}, `votes[1] (voter "v1"): option "bob" marked twice`},
		{"unknown", sdk.TallyInput{Options: abc, Votes: approvals("ann", "bob", "zed")}, `votes[2] (voter "v2"): unknown option "zed"`},
		{"plurality keys", sdk.TallyInput{Options: abc, Config: json.RawMessage(`{"cumulative": true}`)}, "unknown field"},
		{"quota", sdk.TallyInput{Options: abc, Config: json.RawMessage(`{"quota": {"num": 1, "den": 0}}`)}, "not a share"},
	} {
		_, err := Count(&tt.in)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ∋ %q", tt.name, err, tt.want)
		}
	}
	if _, err := Count(&sdk.TallyInput{Options: abc, Votes: approvals("zed")}); !errors.Is(err, plurality.ErrInput) {
		t.Errorf("not a plurality.ErrInput: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := sdk.ValidateBallotInput{Kind: "election", Rule: Rule, Options: opts("ann", "bob", "cyd"), Seats: 2,
		Config: json.RawMessage(`{"quota": {"num": 1, "den": 2}, "seed": "x"}`)}
	if out := Validate(&ok); !out.Valid {
		t.Fatalf("valid ballot refused: %+v", out.Problems)
	}
	for _, tt := range []struct {
		name  string
		mod   func(*sdk.ValidateBallotInput)
		field string
	}{
		{"rule", func(in *sdk.ValidateBallotInput) { in.Rule = Rule + "s" }, "rule"},
		{"motion", func(in *sdk.ValidateBallotInput) { in.Kind = "motion" }, "kind"},
		{"seats", func(in *sdk.ValidateBallotInput) { in.Seats = 0 }, "seats"},
		{"votes per voter", func(in *sdk.ValidateBallotInput) { in.Config = json.RawMessage(`{"votes_per_voter": 2}`) }, "config"},
		{"quota", func(in *sdk.ValidateBallotInput) { in.Config = json.RawMessage(`{"quota": {"num": 2, "den": 1}}`) }, "config"},
		{"not json", func(in *sdk.ValidateBallotInput) { in.Config = json.RawMessage(`{`) }, "config"},
	} {
		in := ok
		tt.mod(&in)
		out := Validate(&in)
		if out.Valid || !slices.ContainsFunc(out.Problems, func(p sdk.Problem) bool { return p.Field == tt.field }) {
			t.Errorf("%s: %+v", tt.name, out)
		}
	}
}
