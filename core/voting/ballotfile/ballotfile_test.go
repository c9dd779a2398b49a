package ballotfile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"
	"github.com/plenum-vote/plenum/testkit"
)

// flat renders ballots compactly: "3:1,3=4,2" (1-based; "=" equal ranks,
// "_" skipped, "!" overvote).
func flat(p *ballotfile.Profile) string {
	var out []string
	for _, b := range p.Ballots {
		var ranks []string
		for _, r := range b.Ranks {
			switch {
			case r.Overvote:
				ranks = append(ranks, "!")
			case r.Duplicate:
				ranks = append(ranks, "d")
			case len(r.Candidates) == 0:
				ranks = append(ranks, "_")
			default:
				var cs []string
				for _, c := range r.Candidates {
					cs = append(cs, fmt.Sprint(c+1))
				}
				ranks = append(ranks, strings.Join(cs, "="))
			}
		}
		out = append(out, fmt.Sprintf("%d:%s", b.Count, strings.Join(ranks, ",")))
	}
	return strings.Join(out, " ")
}

func TestParseBLT(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
		seats               int
		withdrawn           int
	}{
		{name: "the original example", in: "4 2\n-2\n3 1 3 4 0\n4 1 3 2 0\n2 4 1 3 0\n1 2 0\n2 2 4 3 1 0\n1 3 4 2 0\n0\n\"Adam\"\n\"Basil\"\n\"Charlotte\"\n\"Donald\"\n\"Title\"\n",
			want: "3:1,3,4 4:1,3,2 2:4,1,3 1:2 2:2,4,3,1 1:3,4,2", seats: 2, withdrawn: 1},
		{name: "comments, equal ranks, one line", in: "# a comment\n3 1 /* c */ 2 1=2 3 0 1 3 0 0 \"A  B\" \"C\" \"D\" \"T\" \"source\" \"comment\"",
			want: "2:1=2,3 1:3", seats: 1},
		{name: "droop options and nicknames", in: "3 2\n[nick a b c]\n[tie c a b]\n[droop meek]\n5 a b 0\n1 b=c 0\n3 c 0\n0\n\"Ann\" \"Bob\" \"Cat\" \"eq\"",
			want: "5:1,2 1:2=3 3:3", seats: 2},
		{name: "unknown nickname", in: "2 1 [nick a b] 1 z 0 0 \"A\" \"B\" \"T\"", err: "\"z\" does not exist"},
		{name: "no ballots", in: "2 1 0 \"A\" \"B\" \"T\"", want: "", seats: 1},
		{name: "candidate out of range", in: "2 1 1 3 0 0 \"A\" \"B\" \"T\"", err: "candidate \"3\" does not exist"},
		{name: "ranked twice", in: "2 1 1 1 1 0 0 \"A\" \"B\" \"T\"", err: "ranked twice"},
		{name: "more seats than candidates", in: "2 3 0 \"A\" \"B\" \"T\"", err: "number of seats"},
		{name: "missing names", in: "2 1 1 1 0 0 \"A\"", err: "candidate names"},
		{name: "unterminated ballot", in: "2 1 1 1 \"A\" \"B\" \"T\"", err: "ended with 0"},
		{name: "dangling equal", in: "2 1 1 1= 0 0 \"A\" \"B\" \"T\"", err: "'='"},
		{name: "withdrawn out of range", in: "2 1 -3 1 1 0 0 \"A\" \"B\" \"T\"", err: "withdrawn candidate"},
		{name: "negative count", in: "2 1 1 1 0 -3 1 0 0 \"A\" \"B\" \"T\"", err: "ballot count"},
		{name: "huge count", in: "2 1 99999999999999999999 1 0 0 \"A\" \"B\" \"T\"", err: "number"},
		{name: "garbage", in: "2 1 $", err: "unexpected character"},
		{name: "unclosed quote", in: "1 1 0 \"A", err: "not closed"},
		{name: "notes after the title", in: "1 1 0 \"A\" \"T\" \"src\" First Prefs 7", want: "", seats: 1},
		{name: "empty", in: "", err: "ends before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parseCase(t, ballotfile.ParseBLT, tc.in, tc.err)
			if p == nil {
				return
			}
			if got := flat(p); got != tc.want || p.Seats != tc.seats || len(p.Withdrawn) != tc.withdrawn {
				t.Fatalf("got %q seats %d withdrawn %v", got, p.Seats, p.Withdrawn)
			}
		})
	}
	p, _ := ballotfile.ParseBLT(strings.NewReader("# x\n3 1 3 1=2 3 0 1 3 0 0 \"A  B\" \"C\" \"D\" \"T\""))
	if p.Candidates[0] != "A B" || p.Title != "T" || p.Total() != 4 {
		t.Fatalf("names %q title %q total %d", p.Candidates, p.Title, p.Total())
	}
}

func TestParseCSV(t *testing.T) {
	for _, tc := range []struct{ name, in, want, err string }{
		{name: "rctab grouped", in: "rank1,rank2,rank3,count\nANN,undervote,undervote,12\nBOB,ANN,overvote,3\nUWI,,CAT,1\n",
			want: "12:1 3:2,1,! 1:3,_,4"},
		{name: "names normalised", in: "rank1,count\n\"  ANN   LEE \",2\n", want: "2:1"},
		{name: "repeat kept as duplicate", in: "rank1,rank2,rank3,count\nANN,ANN,BOB,1\n", want: "1:1,d,2"},
		{name: "bad count", in: "rank1,count\nANN,zero\n", err: "count"},
		{name: "zero count", in: "rank1,count\nANN,0\n", err: "count"},
		{name: "no count column", in: "rank1,rank2\nA,B\n", err: "end with \"count\""},
		{name: "ragged", in: "rank1,rank2,count\nA,1\n", err: "line 2"},
		{name: "empty", in: "", err: "no header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parseCase(t, ballotfile.ParseCSV, tc.in, tc.err)
			if p == nil {
				return
			}
			if got := flat(p); got != tc.want {
				t.Fatalf("got %q, want %q (candidates %q)", got, tc.want, p.Candidates)
			}
		})
	}
}

func TestParsePrefLib(t *testing.T) {
	good := "# FILE NAME: x.toi\n# TITLE: Board  2026\n# NUMBER ALTERNATIVES: 4\n# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: Bob\n# ALTERNATIVE NAME 3: Cat\n# ALTERNATIVE NAME 4: Dan\n5: 3,1,{2,4}\n2: 4\n"
	p, err := ballotfile.ParsePrefLib(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := flat(p); got != "5:3,1,2=4 2:4" || p.Title != "Board 2026" || p.Candidates[3] != "Dan" {
		t.Fatalf("got %q %q %q", got, p.Title, p.Candidates)
	}
	for name, in := range map[string]string{
		"no header":        "5: 1,2\n",
		"unknown":          "# NUMBER ALTERNATIVES: 2\n1: 3\n",
		"repeat":           "# NUMBER ALTERNATIVES: 2\n1: 1,{1,2}\n",
		"unclosed brace":   "# NUMBER ALTERNATIVES: 2\n1: {1,2\n",
		"trailing comma":   "# NUMBER ALTERNATIVES: 2\n1: 1,\n",
		"no colon":         "# NUMBER ALTERNATIVES: 2\n1 1,2\n",
		"empty preference": "# NUMBER ALTERNATIVES: 2\n1: \n",
		"name before n":    "# ALTERNATIVE NAME 1: A\n# NUMBER ALTERNATIVES: 2\n",
		"twice declared":   "# NUMBER ALTERNATIVES: 2\n# NUMBER ALTERNATIVES: 3\n",
	} {
		if _, err := ballotfile.ParsePrefLib(strings.NewReader(in)); !errors.Is(err, ballotfile.ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestRealBallotFiles parses every published ballot file and checks the
// seats and valid ballots against the published results.
func TestRealBallotFiles(t *testing.T) {
	dir := testkit.ElectionData(t)
	for _, council := range []string{"glasgow_2007", "edinburgh_2017"} {
		var expected map[string]struct {
			Seats        int   `json:"seats"`
			ValidBallots int64 `json:"valid_ballots"`
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
			p := parseFile(t, filepath.Join(dir, council, "blt", file), ballotfile.ParseBLT)
			if p.Seats != want.Seats || (want.ValidBallots != 0 && p.Total() != want.ValidBallots) {
				t.Errorf("%s/%s: seats %d ballots %d, published %d and %d", council, file, p.Seats, p.Total(), want.Seats, want.ValidBallots)
			}
		}
	}
	refs, _ := filepath.Glob(filepath.Join(dir, "stv_reference", "blt", "*.blt"))
	if len(refs) == 0 {
		t.Error("no reference BLT fixtures")
	}
	for _, f := range refs {
		parseFile(t, f, ballotfile.ParseBLT)
	}
	for file, total := range map[string]int64{
		"rctab/2013_minneapolis_mayor/2013_minneapolis_mayor_ballots_grouped.csv": 80101,
		"rctab/2017_minneapolis_mayor/2017_minneapolis_mayor_ballots_grouped.csv": 105928,
	} {
		p := parseFile(t, filepath.Join(dir, file), ballotfile.ParseCSV)
		if p.Total() != total {
			t.Errorf("%s: %d ballots, published %d", file, p.Total(), total)
		}
	}
}

func parseFile(t *testing.T, path string, parse func(r io.Reader) (*ballotfile.Profile, error)) *ballotfile.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := parse(f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return p
}

func FuzzParseBLT(f *testing.F) {
	f.Add("4 2\n-2\n3 1 3 4 0\n1 2 0\n0\n\"A\"\n\"B\"\n\"C\"\n\"D\"\n\"T\"\n")
	f.Add("2 1 1 1=2 0 0 \"A\" \"B\" \"T\" /* x */ # y\n")
	f.Fuzz(func(t *testing.T, in string) { checkProfile(t, ballotfile.ParseBLT, in) })
}

func FuzzParseCSV(f *testing.F) {
	f.Add("rank1,rank2,count\nA,overvote,2\nB,,1\n")
	f.Fuzz(func(t *testing.T, in string) { checkProfile(t, ballotfile.ParseCSV, in) })
}

func FuzzParsePrefLib(f *testing.F) {
	f.Add("# NUMBER ALTERNATIVES: 3\n# ALTERNATIVE NAME 1: A\n2: 1,{2,3}\n")
	f.Fuzz(func(t *testing.T, in string) { checkProfile(t, ballotfile.ParsePrefLib, in) })
}

// checkProfile: a parse either fails with ErrInvalid or yields a profile
// whose every rank names existing candidates, each at most once, with
// positive counts.
func checkProfile(t *testing.T, parse func(io.Reader) (*ballotfile.Profile, error), in string) {
	p, err := parse(strings.NewReader(in))
	if err != nil {
		if !errors.Is(err, ballotfile.ErrInvalid) {
			t.Fatalf("error outside ErrInvalid: %v", err)
		}
		return
	}
	for _, b := range p.Ballots {
		if b.Count < 1 {
			t.Fatalf("count %d", b.Count)
		}
		seen := map[int]bool{}
		for _, r := range b.Ranks {
			for _, c := range r.Candidates {
				if c < 0 || c >= len(p.Candidates) || seen[c] {
					t.Fatalf("bad candidate %d in %+v (%d candidates)", c, b, len(p.Candidates))
				}
				seen[c] = true
			}
		}
	}
}

// parseCase parses in and checks the outcome: an ErrInvalid mentioning
// wantErr (then it returns nil), or success when wantErr is empty.
func parseCase(t *testing.T, parse func(io.Reader) (*ballotfile.Profile, error), in, wantErr string) *ballotfile.Profile {
	t.Helper()
	p, err := parse(strings.NewReader(in))
	if wantErr != "" {
		if !errors.Is(err, ballotfile.ErrInvalid) || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one mentioning %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}
