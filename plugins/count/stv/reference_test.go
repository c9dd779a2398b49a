package stv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"
	"github.com/plenum-vote/plenum/sdk"

	"github.com/plenum-vote/plenum/testkit"
)

// droopElected returns the elected candidates of a Droop report, verbose
// (the "Elected:" lines of the last state) or tab-separated (the
// candidates in state E on the "end" row).
func droopElected(text string) []string {
	lines := strings.Split(text, "\n")
	if strings.HasPrefix(lines[0], "R\t") {
		for _, l := range lines {
			f := strings.Split(l, "\t")
			if len(f) < 4 || f[1] != "end" {
				continue
			}
			var out []string
			for i := 4; i+2 < len(f); i += 3 {
				if f[i+1] == "E" {
					out = append(out, f[i])
				}
			}
			return out
		}
		return nil
	}
	last := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "Action:") {
			last = i
		}
	}
	var out []string
	for _, l := range lines[last+1:] {
		l = strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(l, "Elected:"); ok {
			if open := strings.LastIndex(name, " ("); open >= 0 {
				out = append(out, normal(name[:open]))
			}
		}
	}
	return out
}

// TestReferenceFixtures counts Droop's reference elections by every rule
// implemented here and compares the elected set with Droop's reports.
func TestReferenceFixtures(t *testing.T) {
	dir := filepath.Join(testkit.ElectionData(t), "stv_reference")
	// The fixtures no rule here can count as Droop does, and why.
	unsupported := map[string]string{
		"eq2": "equal rankings (b=c) cannot be expressed in sdk.Vote.Ranking; Droop's Meek splits the vote between them, the helper reads them as an overvote",
	}
	for _, tc := range []struct {
		suffix, config string
		decimals       int // compare the rounds' votes at this precision; 0: only the elected
	}{
		{"-scotland-fixed-p5-d5.txt", `{"variant":"scottish"}`, 5},
		{"-mpls-fixed-p4-d4.txt", `{"variant":"minneapolis"}`, 4},
		{"-meek-prf-o6-fixed-p9-d9.txt", `{"variant":"meek"}`, 9},
		// Droop's generic Meek rule with other precisions and omegas
		// elects the same candidates on these fixtures.
		{"-meek-o9-guarded-p18-g9-d18.txt", `{"variant":"meek"}`, 0},
		{"-meek-o10-rational-d12.txt", `{"variant":"meek"}`, 0},
	} {
		reports, _ := filepath.Glob(filepath.Join(dir, "expected", "*"+tc.suffix))
		if len(reports) == 0 {
			t.Fatalf("no reports *%s", tc.suffix)
		}
		for _, report := range reports {
			name := strings.TrimSuffix(filepath.Base(report), tc.suffix)
			t.Run(name+tc.suffix, func(t *testing.T) {
				if why, ok := unsupported[name]; ok {
					t.Skip(why)
				}
				b, err := os.ReadFile(report)
				if err != nil {
					t.Fatal(err)
				}
				want := droopElected(string(b))
				if len(want) == 0 {
					t.Fatalf("no winners in %s", report)
				}
				p := parse(t, filepath.Join(dir, "blt", name+".blt"), ballotfile.ParseBLT)
				out, err := Count(toInput(p, p.Seats, tc.config))
				if err != nil {
					t.Fatal(err)
				}
				if got, w := sortedCopy(out.Elected), sortedCopy(want); !slices.Equal(got, w) {
					if lotOnly(out.Explanation, got, w) && strings.Contains(string(b), "Break tie") {
						t.Logf("elected %q, Droop %q: both counts drew lots between the differing candidates", got, w)
						return
					}
					t.Errorf("elected %q, Droop %q", got, w)
					for _, r := range out.Rounds {
						t.Logf("round %d: %v elected %v excluded %v: %s", r.Number, r.Counts, r.Elected, r.Eliminated, r.Note)
					}
				}
				// Droop's verbose reports list every state; after a lot the
				// two counts may part, so the rounds are compared up to the
				// first drawing of lots.
				if tc.decimals > 0 && !strings.HasPrefix(string(b), "R\t") {
					upToLot := *out
					if i := slices.IndexFunc(out.Rounds, func(r sdk.Round) bool { return strings.Contains(r.Note, "broken by lot") }); i >= 0 {
						upToLot.Rounds = out.Rounds[:i+1]
					}
					compareRounds(t, report, &upToLot, tc.decimals)
				}
			})
		}
	}
}

// lotOnly reports whether every candidate elected by one count and not
// the other was among candidates between whom explanation says lots were
// drawn ("tie for … between A, B, C[, equal at every earlier round],
// broken by lot").
func lotOnly(explanation, a, b []string) bool {
	drawn := map[string]bool{}
	for _, l := range explanation {
		if !strings.Contains(l, "broken by lot") {
			continue
		}
		_, rest, ok := strings.Cut(l, " between ")
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, " broken by lot")
		rest = strings.TrimSuffix(strings.TrimSuffix(rest, ","), ", equal at every earlier round")
		for _, c := range strings.Split(rest, ", ") {
			drawn[c] = true
		}
	}
	for _, c := range append(slices.Clone(a), b...) {
		if slices.Contains(a, c) != slices.Contains(b, c) && !drawn[c] {
			return false
		}
	}
	return len(drawn) > 0
}

// TestMinneapolisPark2013 counts the 2013 Minneapolis Park Board
// at-large election (three seats) with RCTab's configuration: four
// decimals, several winners per round, overvotes skipped.
func TestMinneapolisPark2013(t *testing.T) {
	dir := filepath.Join(testkit.ElectionData(t), "rctab", "2013_minneapolis_park")
	p := parse(t, filepath.Join(dir, "2013_minneapolis_park_ballots_grouped.csv"), ballotfile.ParseCSV)
	out, err := Count(toInput(p, 3, `{"variant":"rctab","decimals":4}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"JOHN ERWIN", "ANNIE YOUNG", "MEG FORNEY"} // RCTab's winners, in order
	if !slices.Equal(out.Elected, want) {
		t.Errorf("elected %q, RCTab %q", out.Elected, want)
	}
	if !strings.Contains(out.Explanation[1], "quota 14866.0000") {
		t.Errorf("%s; RCTab's threshold is 14866", out.Explanation[1])
	}
	// Every round's tally, elected and eliminated candidates must be
	// RCTab's (its last round only reports the final surplus transfer).
	b, err := os.ReadFile(filepath.Join(dir, "2013_minneapolis_park_expected_detailed_report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Results []struct {
			Round        int               `json:"round"`
			Tally        map[string]string `json:"tally"`
			TallyResults []struct {
				Elected    string `json:"elected"`
				Eliminated string `json:"eliminated"`
			} `json:"tallyResults"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	name := func(id string) string {
		if id == "UWI" {
			return "Undeclared Write-ins"
		}
		return id
	}
	compared := 0
	for _, want := range report.Results {
		if len(want.TallyResults) == 0 {
			continue // the report's closing round
		}
		if want.Round > len(out.Rounds) {
			t.Errorf("RCTab has round %d, the count %d rounds", want.Round, len(out.Rounds))
			break
		}
		got := out.Rounds[want.Round-1]
		for _, c := range got.Counts {
			v, listed := want.Tally[name(c.Choice)]
			if !listed {
				v = "0"
			}
			if w := strings.TrimSuffix(v, ".0000"); decimal(c.Weight, 4) != w+".0000" && decimal(c.Weight, 4) != w {
				t.Errorf("round %d: %s has %s, RCTab %s", want.Round, c.Choice, decimal(c.Weight, 4), v)
			}
		}
		var wantElected, wantEliminated []string
		for _, r := range want.TallyResults {
			if r.Elected != "" {
				wantElected = append(wantElected, r.Elected)
			}
			if r.Eliminated != "" {
				wantEliminated = append(wantEliminated, r.Eliminated)
			}
		}
		var gotEliminated []string
		for _, id := range got.Eliminated {
			gotEliminated = append(gotEliminated, name(id))
		}
		if !slices.Equal(got.Elected, wantElected) || !slices.Equal(gotEliminated, wantEliminated) {
			t.Errorf("round %d: elected %q eliminated %q, RCTab %q and %q", want.Round, got.Elected, gotEliminated, wantElected, wantEliminated)
		}
		compared++
	}
	if compared != 10 {
		t.Errorf("compared %d rounds, RCTab reports 10", compared)
	}
}
