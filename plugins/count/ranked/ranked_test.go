package ranked

import (
	"errors"
	"reflect"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func options(ids ...string) []sdk.Option {
	os := make([]sdk.Option, len(ids))
	for i, id := range ids {
		os[i] = sdk.Option{ID: id, Label: id}
	}
	return os
}

func TestFromInput(t *testing.T) {
	half := sdk.Rational{Num: 1, Den: 2}
	tests := []struct {
		name    string
		in      sdk.TallyInput
		want    []Ballot
		wantErr bool
	}{
		{
			name: "groups identical rankings and maps marks",
			in: sdk.TallyInput{Options: options("a", "b", "c"), Seats: 1, Votes: []sdk.Vote{
				{Voter: "1", Weight: sdk.One(), Ranking: []string{"a", sdk.RankSkipped, "b"}},
				{Voter: "2", Weight: sdk.One(), Ranking: []string{"c", sdk.RankOvervote}, Count: 4},
				{Voter: "3", Weight: half, Ranking: []string{"a", sdk.RankSkipped, "b"}, Count: 2},
				{Voter: "4", Weight: sdk.One(), Ranking: []string{"b", "b"}},
				{Voter: "5", Weight: sdk.One()},
			}},
			want: []Ballot{
				{Count: 3, Weight: sdk.One(), Ranks: []int32{0, Skipped, 1}},
				{Count: 4, Weight: sdk.One(), Ranks: []int32{2, Overvote}},
				{Count: 1, Weight: sdk.One(), Ranks: []int32{1, 1}},
				{Count: 1, Weight: sdk.One()},
			},
		},
		{
			name: "by weight keeps weights apart",
			in: sdk.TallyInput{Options: options("a", "b"), Counting: sdk.CountWeight, Votes: []sdk.Vote{
				{Voter: "1", Weight: sdk.Rational{Num: 2, Den: 4}, Ranking: []string{"a"}},
				{Voter: "2", Weight: half, Ranking: []string{"a"}},
				{Voter: "3", Weight: sdk.One(), Ranking: []string{"a"}},
			}},
			want: []Ballot{
				{Count: 2, Weight: half, Ranks: []int32{0}},
				{Count: 1, Weight: sdk.One(), Ranks: []int32{0}},
			},
		},
		{name: "unknown id", in: sdk.TallyInput{Options: options("a"), Votes: []sdk.Vote{{Ranking: []string{"z"}}}}, wantErr: true},
		{name: "reserved option id", in: sdk.TallyInput{Options: options("a", "#b")}, wantErr: true},
		{name: "empty option id", in: sdk.TallyInput{Options: options("")}, wantErr: true},
		{name: "duplicate option id", in: sdk.TallyInput{Options: options("a", "a")}, wantErr: true},
		{name: "negative count", in: sdk.TallyInput{Options: options("a"), Votes: []sdk.Vote{{Count: -1}}}, wantErr: true},
		{name: "too many seats", in: sdk.TallyInput{Options: options("a"), Seats: 2}, wantErr: true},
		{name: "negative weight", in: sdk.TallyInput{Options: options("a"), Counting: sdk.CountWeight,
			Votes: []sdk.Vote{{Weight: sdk.Rational{Num: -1, Den: 2}}}}, wantErr: true},
		{name: "count overflow", in: sdk.TallyInput{Options: options("a"), Votes: []sdk.Vote{
			{Ranking: []string{"a"}, Count: 1 << 62}, {Ranking: []string{"a"}, Count: 1 << 62}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromInput(&tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInput) {
					t.Fatalf("err = %v, want ErrInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Ballots, tt.want) {
				t.Fatalf("ballots:\n got  %+v\n want %+v", p.Ballots, tt.want)
			}
			for i, o := range tt.in.Options {
				if j, ok := p.Index(o.ID); !ok || j != i {
					t.Errorf("Index(%q) = %d, %v", o.ID, j, ok)
				}
			}
			if _, ok := p.Index(sdk.RankOvervote); ok {
				t.Error("a reserved mark has an index")
			}
		})
	}
}

func TestLots(t *testing.T) {
	a, b := NewLots("2026-05-01 chair"), NewLots("2026-05-01 chair")
	for range 20 {
		x, why := a.Pick([]int{7, 3, 5})
		y, _ := b.Pick([]int{5, 7, 3})
		if x != y {
			t.Fatalf("same seed, different picks %d and %d", x, y)
		}
		if x != 3 && x != 5 && x != 7 {
			t.Fatalf("picked %d, not a candidate", x)
		}
		if why == "" {
			t.Fatal("no explanation")
		}
	}
	// Over many draws every candidate comes up.
	seen := map[int]bool{}
	l := NewLots("x")
	for range 60 {
		c, _ := l.Pick([]int{0, 1, 2})
		seen[c] = true
	}
	if len(seen) != 3 {
		t.Errorf("picks %v", seen)
	}
	if c, _ := l.Pick(nil); c != -1 {
		t.Errorf("Pick(nil) = %d", c)
	}
}

// FuzzFromInput checks that no input makes FromInput panic and that what
// it accepts refers only to its candidates.
func FuzzFromInput(f *testing.F) {
	f.Add([]byte("a,b,c"), []byte{0, 1, 2, 255, 1, 254, 0}, int64(3), false)
	f.Add([]byte("x"), []byte{9}, int64(-1), true)
	f.Fuzz(func(t *testing.T, ids, marks []byte, count int64, byWeight bool) {
		in := sdk.TallyInput{}
		for i, id := range splitComma(ids) {
			in.Options = append(in.Options, sdk.Option{ID: id, Label: id})
			if i > 20 {
				break
			}
		}
		if byWeight {
			in.Counting = sdk.CountWeight
		}
		var ranking []string
		for i, m := range marks {
			switch {
			case m == 255:
				ranking = append(ranking, sdk.RankOvervote)
			case m == 254:
				ranking = append(ranking, sdk.RankSkipped)
			case int(m) < len(in.Options):
				ranking = append(ranking, in.Options[m].ID)
			default:
				ranking = append(ranking, "?")
			}
			if i%3 == 2 {
				in.Votes = append(in.Votes, sdk.Vote{Voter: "v", Weight: sdk.Rational{Num: int64(m), Den: count}, Ranking: ranking, Count: count})
				ranking = nil
			}
		}
		p, err := FromInput(&in)
		if err != nil {
			return
		}
		for _, b := range p.Ballots {
			if b.Count < 1 {
				t.Fatalf("count %d", b.Count)
			}
			for _, r := range b.Ranks {
				if r != Overvote && r != Skipped && (r < 0 || int(r) >= len(p.Candidates)) {
					t.Fatalf("rank %d of %d candidates", r, len(p.Candidates))
				}
			}
		}
	})
}

func splitComma(b []byte) []string {
	var out []string
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == ',' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

// AddIndexed with the indexes the sdk decodes gives the profile Add gives
// with the ids, and refuses indexes beyond the options.
func TestAddIndexed(t *testing.T) {
	if Overvote != sdk.RankIndexOvervote || Skipped != sdk.RankIndexSkipped {
		t.Fatal("ranked's marks differ from the sdk's")
	}
	in := &sdk.TallyInput{Options: options("a", "b", "c"), Votes: []sdk.Vote{
		{Voter: "1", Weight: sdk.One(), Ranking: []string{"c", sdk.RankSkipped, "a"}, Count: 2},
		{Voter: "2", Weight: sdk.One(), Ranking: []string{"c", sdk.RankSkipped, "a"}},
		{Voter: "3", Weight: sdk.One(), Ranking: []string{sdk.RankOvervote, "b"}},
	}}
	want, err := FromInput(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(in)
	if err != nil {
		t.Fatal(err)
	}
	indexes := [][]int32{{2, Skipped, 0}, {2, Skipped, 0}, {Overvote, 1}}
	for i := range in.Votes {
		if err := b.AddIndexed(&in.Votes[i], indexes[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Profile(); !reflect.DeepEqual(got.Ballots, want.Ballots) {
		t.Fatalf("ballots:\n got  %+v\n want %+v", got.Ballots, want.Ballots)
	}
	b, _ = NewBuilder(in)
	for _, bad := range [][]int32{{3}, {-3}} {
		if err := b.AddIndexed(&in.Votes[0], bad); !errors.Is(err, ErrInput) {
			t.Errorf("index %v: %v", bad, err)
		}
	}
}
