package irv

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// election builds a tally input from ballots written "N:a>b>c" (N voters
// ranking a, then b, then c; "#o" an overvote, "#s" a skipped rank, "N/D*"
// before the count a weight). The options are a, b, … up to the last
// letter the ballots name, at least a and b.
func election(config string, ballots ...string) *sdk.TallyInput {
	in := &sdk.TallyInput{BallotID: "t", Kind: sdk.KindElection, Rule: "irv", Seats: 1}
	last := 'b'
	for _, b := range ballots {
		for _, r := range b {
			if r >= 'a' && r <= 'e' && r > last {
				last = r
			}
		}
	}
	for id := 'a'; id <= last; id++ {
		in.Options = append(in.Options, sdk.Option{ID: string(id), Label: strings.ToUpper(string(id))})
	}
	if config != "" {
		in.Config = json.RawMessage(config)
	}
	for i, b := range ballots {
		v := sdk.Vote{Voter: "v" + strconv.Itoa(i), Weight: sdk.One()}
		if w, rest, ok := strings.Cut(b, "*"); ok {
			num, den, _ := strings.Cut(w, "/")
			n, _ := strconv.ParseInt(num, 10, 64)
			d, _ := strconv.ParseInt(den, 10, 64)
			v.Weight, b = sdk.Rational{Num: n, Den: d}, rest
		}
		count, ranking, _ := strings.Cut(b, ":")
		v.Count, _ = strconv.ParseInt(count, 10, 64)
		for _, r := range strings.Split(ranking, ">") {
			switch r {
			case "":
			case "#o":
				v.Ranking = append(v.Ranking, sdk.RankOvervote)
			case "#s":
				v.Ranking = append(v.Ranking, sdk.RankSkipped)
			default:
				v.Ranking = append(v.Ranking, r)
			}
		}
		in.Votes = append(in.Votes, v)
	}
	return in
}

func TestCount(t *testing.T) {
	tests := []struct {
		name     string
		in       *sdk.TallyInput
		decision string
		elected  string
		rounds   int
		note     string // a substring of some round's note
	}{
		{"majority in round one", election("", "3:a", "1:b"), sdk.DecisionElected, "a", 1, "a has more than half of 4 votes (3)"},
		{"transfer decides", election("", "3:a", "2:b>a", "2:c>b", "1:d>b"), sdk.DecisionElected, "b", 3, "c has the fewest"},
		{"overvote exhausts", election("", "2:#o>b", "1:a"), sdk.DecisionElected, "a", 1, "2 at an overvote"},
		{"overvote skipped", election(`{"overvote":"skip"}`, "2:#o>b", "1:a"), sdk.DecisionElected, "b", 1, ""},
		{"RCTab spelling", election(`{"overvote":"alwaysSkipToNextRank"}`, "2:#o>b", "1:a"), sdk.DecisionElected, "b", 1, ""},
		{"if multiple continuing exhausts", election(`{"overvote":"exhaustIfMultipleContinuing"}`, "2:#o>b", "1:a"), sdk.DecisionElected, "a", 1, ""},
		{"skipped ranks unlimited", election("", "1:a>#s>#s>b", "3:b", "4:c"), sdk.DecisionTie, "", 2, "b and c have 4 of 8 votes each"},
		{"skipped ranks limited", election(`{"max_skipped_ranks":1}`, "1:a>#s>#s>b", "3:b", "4:c"), sdk.DecisionElected, "c", 2, "1 after too many skipped ranks"},
		{"skipped ranks minus one", election(`{"max_skipped_ranks":-1}`, "1:a>#s>#s>b", "3:b", "4:c"), sdk.DecisionTie, "", 2, ""},
		{"duplicates skipped", election("", "1:a>a>b", "3:b", "4:c"), sdk.DecisionTie, "", 2, ""},
		{"duplicates exhaust", election(`{"duplicates":"exhaust"}`, "1:a>a>b", "3:b", "4:c"), sdk.DecisionElected, "c", 2, "1 at a repeated candidate"},
		{"max rankings", election(`{"max_rankings":1}`, "1:a>b", "3:b", "4:c"), sdk.DecisionElected, "c", 2, ""},
		{"one at a time", election("", "9:a", "6:b", "3:c>b", "2:d>c>b"), sdk.DecisionElected, "b", 3, ""},
		{"batch elimination", election(`{"batch_elimination":true}`, "9:a", "6:b", "3:c>b", "2:d>c>b"), sdk.DecisionElected, "b", 2,
			"c and d together hold 5 votes, fewer than b alone (6)"},
		{"minimum threshold", election(`{"minimum_vote_threshold":3}`, "9:a", "6:b", "2:c>b", "1:d>b", "1:e>b"), sdk.DecisionElected, "b", 2,
			"c, d and e have fewer than the minimum of 3 votes"},
		{"undeclared write-in first", election(`{"undeclared_write_in":"d"}`, "4:a", "3:b", "1:c>b", "2:d>b"), sdk.DecisionElected, "b", 3,
			"d stands for undeclared write-ins"},
		{"tie broken by an earlier round", election("", "6:a", "4:b", "3:c", "1:d>c"), sdk.DecisionElected, "a", 3,
			"b and c tie with the fewest votes (4); c had the fewest of them in round 1"},
		{"tie without seed", election("", "6:a", "3:b", "3:c", "1:d"), sdk.DecisionTie, "", 2, "b and c tie with the fewest votes (3) and no earlier round separates them"},
		{"tie broken by lots", election(`{"seed":"council 2026-05-04"}`, "6:a", "3:b", "3:c", "1:d"), sdk.DecisionElected, "a", 3, `seed "council 2026-05-04"`},
		{"whole field tied", election("", "2:a>b", "2:b>a"), sdk.DecisionTie, "", 1, "a and b have 2 of 4 votes each: neither has more than half"},
		{"whole field tied, lots", election(`{"seed":"s"}`, "2:a>b", "2:b>a"), sdk.DecisionElected, "", 2, `seed "s"`},
		{"no votes", election(""), sdk.DecisionTie, "", 1, ""},
		{"continue until two", election(`{"continue_until_two_remain":true}`, "4:a", "2:b", "1:c>b"), sdk.DecisionElected, "a", 2, ""},
		{"by weight", func() *sdk.TallyInput {
			in := election("", "1/2*3:a", "1:b", "1/4*3:c>b")
			in.Counting = sdk.CountWeight
			return in
		}(), sdk.DecisionElected, "b", 2, "b has more than half of 13/4 votes (7/4)"},
		{"by head ignores weights", election("", "1/2*3:a", "1:b", "1/4*3:c>b"), sdk.DecisionTie, "", 2, "no option has more than half of 7 votes"},
		{"no quorum", func() *sdk.TallyInput {
			in := election("", "3:a", "1:b")
			in.Quorum = 10
			return in
		}(), sdk.DecisionNoQuorum, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Count(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.MarshalIndent(out, "", " ")
			if out.Decision != tt.decision || len(out.Rounds) != tt.rounds {
				t.Fatalf("decision %s in %d rounds, want %s in %d:\n%s", out.Decision, len(out.Rounds), tt.decision, tt.rounds, js)
			}
			if tt.elected != "" && (len(out.Elected) != 1 || out.Elected[0] != tt.elected) {
				t.Fatalf("elected %v, want %s:\n%s", out.Elected, tt.elected, js)
			}
			words := strings.Join(out.Explanation, "\n")
			for _, rd := range out.Rounds {
				words += "\n" + rd.Note
			}
			if tt.note != "" && !strings.Contains(words, tt.note) {
				t.Fatalf("no note %q:\n%s", tt.note, js)
			}
			if len(out.Explanation) == 0 {
				t.Fatal("no explanation")
			}
			// Each round's transfers move what the excluded held.
			for i, rd := range out.Rounds {
				if len(rd.Eliminated) > 0 && i+1 < len(out.Rounds) {
					checkTransfers(t, rd, out.Rounds[i+1])
				}
			}
			// The wire codec carries the result unchanged.
			var back sdk.TallyOutput
			if err := sdk.Decode(sdk.Encode(out), &back); err != nil {
				t.Fatalf("output does not decode: %v", err)
			}
		})
	}
}

// checkTransfers checks that the votes of the excluded candidates in rd
// went somewhere, and that the next round's totals are rd's plus what
// moved.
func checkTransfers(t *testing.T, rd, next sdk.Round) {
	t.Helper()
	held := map[string]sdk.Rational{}
	for _, c := range rd.Counts {
		held[c.Choice] = c.Weight
	}
	moved := map[string]sdk.Rational{}
	for _, e := range rd.Eliminated {
		out := sdk.Rational{}
		for _, tr := range rd.Transfers {
			if tr.From == e {
				out, _ = out.Add(tr.Value)
				moved[tr.To], _ = moved[tr.To].Add(tr.Value)
			}
		}
		if out.Cmp(held[e]) != 0 {
			t.Errorf("round %d: %s held %v and passed on %v", rd.Number, e, held[e], out)
		}
	}
	for _, c := range next.Counts {
		want, _ := held[c.Choice].Add(moved[c.Choice])
		excluded := false
		for _, e := range rd.Eliminated {
			excluded = excluded || e == c.Choice
		}
		if excluded {
			want = sdk.Rational{}
		}
		if c.Weight.Cmp(want) != 0 {
			t.Errorf("round %d: %s has %v, want %v", next.Number, c.Choice, c.Weight, want)
		}
	}
}

func TestCountErrors(t *testing.T) {
	tests := []struct {
		name string
		in   *sdk.TallyInput
		want error
	}{
		{"unknown config field", election(`{"overvotes":"skip"}`, "1:a"), ErrConfig},
		{"unknown overvote rule", election(`{"overvote":"guess"}`, "1:a"), ErrConfig},
		{"bad skipped limit", election(`{"max_skipped_ranks":-2}`, "1:a"), ErrConfig},
		{"config not an object", election(`[1]`, "1:a"), ErrConfig},
		{"write-in not an option", election(`{"undeclared_write_in":"z"}`, "1:a"), ErrConfig},
		{"two seats", func() *sdk.TallyInput { in := election("", "1:a"); in.Seats = 2; return in }(), ErrCount},
		{"both countings", func() *sdk.TallyInput { in := election("", "1:a"); in.Counting = sdk.CountBoth; return in }(), ErrCount},
		{"no options", &sdk.TallyInput{}, ErrCount},
		{"unknown candidate", election("", "1:a>z"), ErrCount},
		{"weights too fine", func() *sdk.TallyInput {
			in := election("", "1/9223372036854775783*1:a", "1/9223372036854775643*1:b")
			in.Counting = sdk.CountWeight
			return in
		}(), ErrCount},
	}
	for _, tt := range tests {
		if _, err := Count(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// FuzzCount checks that no ballots or configuration make Count panic or
// produce an output the wire codec refuses, and that an elected
// candidate is an option.
func FuzzCount(f *testing.F) {
	f.Add(`{"batch_elimination":true}`, []byte{0, 1, 2, 0, 3, 1, 4, 4, 0}, uint8(3), false)
	f.Add(`{"overvote":"skip","max_skipped_ranks":0,"seed":"x"}`, []byte{5, 6, 1, 6, 5, 2, 0}, uint8(2), true)
	f.Add(``, []byte{}, uint8(1), false)
	f.Fuzz(func(t *testing.T, config string, marks []byte, per uint8, byWeight bool) {
		in := election(config, "1:e")
		in.Votes = nil
		if byWeight {
			in.Counting = sdk.CountWeight
		}
		if per == 0 {
			per = 1
		}
		var ranking []string
		for i, m := range marks {
			switch m % 8 {
			case 5:
				ranking = append(ranking, sdk.RankOvervote)
			case 6:
				ranking = append(ranking, sdk.RankSkipped)
			case 7:
				ranking = append(ranking, "nobody")
			default:
				ranking = append(ranking, in.Options[m%8%5].ID)
			}
			if (i+1)%int(per) == 0 || i == len(marks)-1 {
				in.Votes = append(in.Votes, sdk.Vote{Voter: "v", Weight: sdk.Rational{Num: int64(m%4 + 1), Den: int64(m%3 + 1)},
					Ranking: ranking, Count: int64(m % 3)})
				ranking = nil
			}
		}
		out, err := Count(in)
		if err != nil {
			return
		}
		if err := sdk.Decode(sdk.Encode(out), &sdk.TallyOutput{}); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		for _, e := range out.Elected {
			if _, ok := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true}[e]; !ok {
				t.Fatalf("elected %q", e)
			}
		}
	})
}

// A Stream reset for each count gives what Count gives, whatever it
// counted before.
func TestStreamReuse(t *testing.T) {
	ins := []*sdk.TallyInput{
		election(`{"batch_elimination":true}`, "9:a", "6:b", "3:c>b", "2:d>c>b"),
		election("", "3:a", "2:b>a", "2:c>b", "1:d>b"),
		election(`{"overvote":"skip"}`, "2:#o>b", "1:a"),
	}
	var s Stream
	for round := 0; round < 2; round++ {
		for i, in := range ins {
			want, err := Count(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Reset(in); err != nil {
				t.Fatal(err)
			}
			for j := range in.Votes {
				if err := s.Add(&in.Votes[j]); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Result()
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			if string(a) != string(b) {
				t.Fatalf("input %d:\n got  %s\n want %s", i, a, b)
			}
		}
	}
}
