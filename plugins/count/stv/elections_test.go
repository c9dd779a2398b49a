package stv

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit"
)

// toInput converts a parsed ballot file into a tally input: candidates
// by name, withdrawn candidates removed (and their marks dropped), an
// overvoted or equal rank as sdk.RankOvervote, a skipped or duplicate
// rank as sdk.RankSkipped, one Vote per ballot line with its Count.
func toInput(p *ballotfile.Profile, seats int, config string) *sdk.TallyInput {
	withdrawn := make(map[int]bool)
	for _, c := range p.Withdrawn {
		withdrawn[c] = true
	}
	in := &sdk.TallyInput{BallotID: p.Title, Kind: sdk.KindElection, Rule: "stv", Seats: int64(seats)}
	if config != "" {
		in.Config = json.RawMessage(config)
	}
	for i, name := range p.Candidates {
		if !withdrawn[i] {
			in.Options = append(in.Options, sdk.Option{ID: name, Label: name})
		}
	}
	for i, b := range p.Ballots {
		v := sdk.Vote{Voter: fmt.Sprint("line ", i+1), Weight: sdk.One(), Count: b.Count}
		for _, r := range b.Ranks {
			switch {
			case r.Overvote || len(r.Candidates) > 1:
				v.Ranking = append(v.Ranking, sdk.RankOvervote)
			case r.Duplicate || len(r.Candidates) == 0:
				v.Ranking = append(v.Ranking, sdk.RankSkipped)
			case !withdrawn[r.Candidates[0]]:
				v.Ranking = append(v.Ranking, p.Candidates[r.Candidates[0]])
			}
		}
		in.Votes = append(in.Votes, v)
	}
	return in
}

// parse reads a ballot file.
func parse(t testing.TB, path string, parser func(io.Reader) (*ballotfile.Profile, error)) *ballotfile.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := parser(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// sortedCopy returns the names, whitespace-normalised, sorted.
func sortedCopy(names []string) []string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = normal(n)
	}
	sort.Strings(s)
	return s
}

// normal collapses runs of white space and trims, as ballotfile does
// with candidate names.
func normal(name string) string { return strings.Join(strings.Fields(name), " ") }

// TestCouncilElections counts every Glasgow 2007 and Edinburgh 2017 ward
// by the Scottish rule: the elected set must be the published one, and
// the votes of every round must match Droop's reference report.
func TestCouncilElections(t *testing.T) {
	dir := testkit.ElectionData(t)
	for _, council := range []string{"glasgow_2007", "edinburgh_2017"} {
		var expected map[string]struct {
			Seats    int      `json:"seats"`
			Quota    string   `json:"quota"`
			Elected  []string `json:"elected"`
			Official []string `json:"official_elected"`
			Droop    []string `json:"droop_scotland_elected"`
		}
		b, err := os.ReadFile(filepath.Join(dir, council, "expected_winners.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &expected); err != nil {
			t.Fatal(err)
		}
		if len(expected) == 0 {
			t.Fatalf("%s: no expected results", council)
		}
		for file, want := range expected {
			t.Run(council+"/"+file, func(t *testing.T) {
				p := parse(t, filepath.Join(dir, council, "blt", file), ballotfile.ParseBLT)
				out, err := Count(toInput(p, want.Seats, ""))
				if err != nil {
					t.Fatal(err)
				}
				for _, published := range [][]string{want.Elected, want.Official, want.Droop} {
					if published == nil {
						continue
					}
					if got, w := sortedCopy(out.Elected), sortedCopy(published); !slices.Equal(got, w) {
						t.Errorf("elected %q, published %q", got, w)
					}
				}
				if want.Elected == nil && want.Official == nil {
					t.Error("no published winners")
				}
				if !strings.Contains(out.Explanation[1], "quota "+want.Quota) {
					t.Errorf("%s; published quota %s", out.Explanation[1], want.Quota)
				}
				report := filepath.Join(dir, council, "expected_droop_scotland", strings.TrimSuffix(file, ".blt")+"-scotland-fixed-p5-d5.txt")
				compareRounds(t, report, out, 5)
			})
		}
	}
}

// compareRounds checks that the candidates' votes (with decimals places)
// at the start of each of out's rounds appear, in order, among the states of Droop's verbose
// report (Droop records more intermediate states than there are rounds,
// and a round for a surplus of zero, which the Scottish rule does not
// transfer).
func compareRounds(t *testing.T, report string, out *sdk.TallyOutput, decimals int) {
	t.Helper()
	b, err := os.ReadFile(report)
	if err != nil {
		t.Errorf("reference report: %v", err)
		return
	}
	states := droopStates(string(b))
	if len(states) == 0 {
		t.Errorf("%s: no states", report)
		return
	}
	i := 0
	for _, r := range out.Rounds {
		want := make(map[string]string)
		for _, c := range r.Counts {
			want[c.Choice] = decimal(c.Weight, decimals)
		}
		found := false
		for ; i < len(states); i++ {
			if sameVotes(states[i], want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: round %d votes %v not found in order in the reference report", filepath.Base(report), r.Number, want)
			return
		}
	}
}

// sameVotes reports whether a Droop state agrees with want for every
// candidate the state lists with votes (Droop lists excluded candidates
// with 0 and elected ones with their current votes).
func sameVotes(state, want map[string]string) bool {
	for name, v := range want {
		if s, ok := state[name]; ok && s != v {
			return false
		}
	}
	return len(state) > 0
}

// droopStates returns the candidates' votes of each state of a Droop
// verbose report ("\tHopeful:  Name (123.45678)" lines after each
// "Action:").
func droopStates(text string) []map[string]string {
	var states []map[string]string
	var cur map[string]string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "Action:") {
			if len(cur) > 0 {
				states = append(states, cur)
			}
			cur = make(map[string]string)
			continue
		}
		if cur == nil {
			continue
		}
		l := strings.TrimSpace(line)
		colon := strings.Index(l, ":")
		open := strings.LastIndex(l, " (")
		if colon < 0 || open < colon || !strings.HasSuffix(l, ")") {
			continue
		}
		switch l[:colon] {
		case "Hopeful", "Elected", "Pending", "Defeated", "Withdrawn":
			cur[normal(l[colon+1:open])] = l[open+2 : len(l)-1]
		}
	}
	if len(cur) > 0 {
		states = append(states, cur)
	}
	return states
}

// decimal formats r with d decimals, truncated.
func decimal(r sdk.Rational, d int) string {
	scale := pow10(d)
	v, err := mulDiv(r.Num, scale, max(r.Den, 1))
	if err != nil {
		return "overflow"
	}
	return formatFixed(v, d)
}
