package tallyfile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/tallyfile"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/plugins/count/irv"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

// rctabConfig is the part of an RCTab contest configuration that decides
// a single-winner count.
type rctabConfig struct {
	CVRFileSources []struct {
		UndeclaredWriteInLabel string `json:"undeclaredWriteInLabel"`
	} `json:"cvrFileSources"`
	Rules struct {
		TiebreakMode                     string `json:"tiebreakMode"`
		OvervoteRule                     string `json:"overvoteRule"`
		WinnerElectionMode               string `json:"winnerElectionMode"`
		RandomSeed                       string `json:"randomSeed"`
		NumberOfWinners                  string `json:"numberOfWinners"`
		MinimumVoteThreshold             string `json:"minimumVoteThreshold"`
		MaxSkippedRanksAllowed           string `json:"maxSkippedRanksAllowed"`
		MaxRankingsAllowed               string `json:"maxRankingsAllowed"`
		BatchElimination                 bool   `json:"batchElimination"`
		ContinueUntilTwoCandidatesRemain bool   `json:"continueUntilTwoCandidatesRemain"`
		ExhaustOnDuplicateCandidate      bool   `json:"exhaustOnDuplicateCandidate"`
	} `json:"rules"`
}

// irvConfig maps RCTab's rules to the irv plugin's configuration.
func (c *rctabConfig) irvConfig(t testing.TB, options []sdk.Option) json.RawMessage {
	t.Helper()
	r := c.Rules
	if r.WinnerElectionMode != "singleWinnerMajority" || r.NumberOfWinners != "1" {
		t.Fatalf("not a single-winner contest: %s, %s winners", r.WinnerElectionMode, r.NumberOfWinners)
	}
	cfg := irv.Config{Overvote: r.OvervoteRule, BatchElimination: r.BatchElimination,
		ContinueUntilTwoRemain: r.ContinueUntilTwoCandidatesRemain}
	if r.ExhaustOnDuplicateCandidate {
		cfg.Duplicates = irv.DuplicatesExhaust
	}
	if n, err := strconv.Atoi(r.MaxSkippedRanksAllowed); err == nil {
		cfg.MaxSkippedRanks = &n
	} else if r.MaxSkippedRanksAllowed != "unlimited" {
		t.Fatalf("maxSkippedRanksAllowed %q", r.MaxSkippedRanksAllowed)
	}
	if n, err := strconv.Atoi(r.MaxRankingsAllowed); err == nil {
		cfg.MaxRankings = n
	}
	if r.MinimumVoteThreshold != "" {
		n, err := strconv.ParseInt(r.MinimumVoteThreshold, 10, 64)
		if err != nil {
			t.Fatalf("minimumVoteThreshold %q", r.MinimumVoteThreshold)
		}
		cfg.MinimumVoteThreshold = n
	}
	// RCTab draws lots with Java's random numbers; ours differ, so the
	// seed only matters if a tie needs lots, which these contests do not.
	if r.TiebreakMode == "random" {
		cfg.Seed = &r.RandomSeed
	}
	for _, s := range c.CVRFileSources {
		for _, o := range options {
			if s.UndeclaredWriteInLabel != "" && o.ID == s.UndeclaredWriteInLabel {
				cfg.UndeclaredWriteIn = o.ID
			}
		}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rctabReport is RCTab's detailed JSON report: per round, each
// continuing candidate's tally and who was eliminated or elected.
type rctabReport struct {
	Results []struct {
		Round        int               `json:"round"`
		Tally        map[string]string `json:"tally"`
		TallyResults []struct {
			Eliminated string `json:"eliminated"`
			Elected    string `json:"elected"`
		} `json:"tallyResults"`
	} `json:"results"`
}

// rctabContest is a published RCTab test contest: ballots, rules and the
// expected report.
type rctabContest struct {
	name   string
	in     *sdk.TallyInput
	report rctabReport
	uwi    string
}

func loadContest(t testing.TB, name string) *rctabContest {
	t.Helper()
	dir := filepath.Join(testkit.ElectionData(t), "rctab", name)
	f, err := os.Open(filepath.Join(dir, name+"_ballots_grouped.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prof, err := tallyfile.Parse(f, tallyfile.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	in, err := tallyfile.Input(prof, tallyfile.Options{BallotID: name, Rule: "irv"})
	if err != nil {
		t.Fatal(err)
	}
	var cfg rctabConfig
	readJSON(t, filepath.Join(dir, name+"_config.json"), &cfg)
	in.Config = cfg.irvConfig(t, in.Options)
	c := &rctabContest{name: name, in: in}
	readJSON(t, filepath.Join(dir, name+"_expected_detailed_report.json"), &c.report)
	if len(cfg.CVRFileSources) > 0 {
		c.uwi = cfg.CVRFileSources[0].UndeclaredWriteInLabel
	}
	return c
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// check compares a count with RCTab's report: the winner, the number of
// rounds, every continuing candidate's tally in every round, and who was
// eliminated in each.
func (c *rctabContest) check(t *testing.T, out *sdk.TallyOutput) {
	t.Helper()
	name := func(id string) string {
		if id == c.uwi {
			return "Undeclared Write-ins"
		}
		return id
	}
	rep := c.report.Results
	if len(out.Rounds) != len(rep) {
		t.Errorf("%d rounds, RCTab %d", len(out.Rounds), len(rep))
	}
	last := rep[len(rep)-1]
	var winner string
	for _, tr := range last.TallyResults {
		if tr.Elected != "" {
			winner = tr.Elected
		}
	}
	if out.Decision != sdk.DecisionElected || len(out.Elected) != 1 || name(out.Elected[0]) != winner {
		t.Fatalf("%s %v, RCTab elected %s", out.Decision, out.Elected, winner)
	}
	for i := 0; i < len(rep) && i < len(out.Rounds); i++ {
		rd := out.Rounds[i]
		got := map[string]sdk.Rational{}
		for _, cnt := range rd.Counts {
			got[name(cnt.Choice)] = cnt.Weight
		}
		for cand, v := range rep[i].Tally {
			want, ok := new(big.Rat).SetString(v)
			if !ok {
				t.Fatalf("round %d: tally %q", i+1, v)
			}
			g := got[cand]
			if new(big.Rat).SetFrac64(g.Num, max(g.Den, 1)).Cmp(want) != 0 {
				t.Errorf("round %d: %s has %v, RCTab %s", i+1, cand, g, v)
			}
		}
		var wantOut, gotOut []string
		for _, tr := range rep[i].TallyResults {
			if tr.Eliminated != "" {
				wantOut = append(wantOut, tr.Eliminated)
			}
		}
		for _, e := range rd.Eliminated {
			gotOut = append(gotOut, name(e))
		}
		sort.Strings(wantOut)
		sort.Strings(gotOut)
		if fmt.Sprint(gotOut) != fmt.Sprint(wantOut) {
			t.Errorf("round %d: eliminated %v, RCTab %v", i+1, gotOut, wantOut)
		}
	}
}

var minneapolis = []string{"2013_minneapolis_mayor", "2017_minneapolis_mayor"}

// TestMinneapolisNative reproduces RCTab's published counts of the
// Minneapolis mayoral elections of 2013 and 2017, round by round, with
// the irv package called natively.
func TestMinneapolisNative(t *testing.T) {
	for _, name := range minneapolis {
		t.Run(name, func(t *testing.T) {
			c := loadContest(t, name)
			out, err := irv.Count(c.in)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, out)
		})
	}
}

// TestMinneapolisWasm does the same through the irv plugin built to
// WebAssembly and run by the host's runtime.
func TestMinneapolisWasm(t *testing.T) {
	testkit.ElectionData(t) // skip before building when there is no data
	p := loadIRV(t)
	for _, name := range minneapolis {
		t.Run(name, func(t *testing.T) {
			c := loadContest(t, name)
			out, err := plugin.CallTally(context.Background(), p, c.in)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, out)
		})
	}
}

// loadIRV builds the irv plugin and loads it with its manifest's limits
// into a runtime whose caps allow them.
func loadIRV(t testing.TB) *wasm.Plugin {
	t.Helper()
	dir := filepath.Join("..", "..", "plugins", "irv")
	b, err := os.ReadFile(filepath.Join(dir, "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdk.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	r := plugin.NewRuntime(t, wasm.Caps{MaxMemoryPages: sdk.MaxMemoryPages, MaxDeadline: time.Minute, MaxInput: 1 << 30, MaxOutput: 64 << 20})
	return plugin.Load(t, r, plugin.Build(t, dir), wasm.PluginSpec{
		Name: m.Name, Version: m.Version, Hooks: []sdk.Hook{sdk.HookTally, sdk.HookValidateBallot}, PoolSize: 1,
		Limits: wasm.Limits{MemoryPages: m.Limits.MemoryPages, Deadline: time.Duration(m.Limits.DeadlineMS) * time.Millisecond},
	})
}
