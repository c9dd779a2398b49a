package tallyfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"
	"github.com/plenum-vote/plenum/sdk"
)

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]string{
		"a.blt": FormatBLT, "x/Y.CSV": FormatCSV, "e.soi": FormatPrefLib, "e.toc": FormatPrefLib, "e.txt": "", "blt": "",
	} {
		if got := FormatOf(name); got != want {
			t.Errorf("FormatOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestInput(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		file    string
		opt     Options
		options []string
		seats   int64
		votes   []sdk.Vote
	}{
		{
			name: "csv marks", format: FormatCSV,
			file: "rank1,rank2,rank3,count\n" +
				"Ana,undervote,Ben,3\n" +
				"overvote,Ben,,1\n" +
				"Ben,Ben,Ana,2\n",
			options: []string{"Ana", "Ben"}, seats: 1,
			votes: []sdk.Vote{
				{Voter: "line-1", Weight: sdk.One(), Count: 3, Ranking: []string{"Ana", sdk.RankSkipped, "Ben"}},
				{Voter: "line-2", Weight: sdk.One(), Ranking: []string{sdk.RankOvervote, "Ben"}},
				{Voter: "line-3", Weight: sdk.One(), Count: 2, Ranking: []string{"Ben", "Ben", "Ana"}},
			},
		},
		{
			name: "blt withdrawn and equal ranks", format: FormatBLT,
			file:    "3 1\n-2\n4 1 2 3 0\n1 3=1 2 0\n2 2 3 0\n0\n\"Ana\"\n\"Ben\"\n\"Cleo\"\n\"Board\"\n",
			opt:     Options{Rule: "irv"},
			options: []string{"Ana", "Cleo"}, seats: 1,
			votes: []sdk.Vote{
				{Voter: "line-1", Weight: sdk.One(), Count: 4, Ranking: []string{"Ana", "Cleo"}},
				{Voter: "line-2", Weight: sdk.One(), Ranking: []string{sdk.RankOvervote}},
				{Voter: "line-3", Weight: sdk.One(), Count: 2, Ranking: []string{"Cleo"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tt.file), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Input(p, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range in.Options {
				ids = append(ids, o.ID)
			}
			if !reflect.DeepEqual(ids, tt.options) || in.Seats != tt.seats || in.Kind != sdk.KindElection {
				t.Fatalf("options %v seats %d kind %q", ids, in.Seats, in.Kind)
			}
			if !reflect.DeepEqual(in.Votes, tt.votes) {
				t.Fatalf("votes:\n got  %+v\n want %+v", in.Votes, tt.votes)
			}
			// The input is one the sdk's codec carries.
			if err := sdk.Decode(sdk.Encode(in), &sdk.TallyInput{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInputRefuses(t *testing.T) {
	for name, p := range map[string]*ballotfile.Profile{
		"no candidates": {},
		"all withdrawn": {Candidates: []string{"a"}, Withdrawn: []int{0}},
		"reserved name": {Candidates: []string{"#skipped"}},
		"bad withdrawn": {Candidates: []string{"a"}, Withdrawn: []int{3}},
		"bad candidate": {Candidates: []string{"a"}, Ballots: []ballotfile.Ballot{{Count: 1, Ranks: []ballotfile.Rank{{Candidates: []int{4}}}}}},
		"zero count":    {Candidates: []string{"a"}, Ballots: []ballotfile.Ballot{{Count: 0}}},
	} {
		if _, err := Input(p, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse(strings.NewReader("rank1,count\nAna,x\n"), FormatCSV); !errors.Is(err, ballotfile.ErrInvalid) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad count: %v", err)
	}
	if _, err := Parse(strings.NewReader(""), "xls"); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown format: %v", err)
	}
}
