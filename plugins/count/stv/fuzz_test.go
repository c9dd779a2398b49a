package stv

import (
	"fmt"
	"slices"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// profileFromBytes builds a small election from fuzz data: the first
// bytes choose the number of candidates (2 to 7), seats, variant and
// whether weights count; then each ballot is a count byte, a length byte
// and that many rank bytes (a candidate, an overvote or a skipped rank),
// and a weight byte when weights count.
func profileFromBytes(data []byte) *sdk.TallyInput {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	n := 2 + int(next()%6)
	seats := 1 + int(next())%n
	variants := []string{Scottish, Minneapolis, RCTab, Meek}
	variant := variants[int(next())%len(variants)]
	flags := next()
	in := &sdk.TallyInput{
		BallotID: "fuzz", Kind: sdk.KindElection, Rule: "stv", Seats: int64(seats),
		Config: []byte(fmt.Sprintf(`{"variant":%q,"decimals":%d}`, variant, 1+int(flags>>4)%MaxDecimals)),
	}
	if flags&1 != 0 {
		in.Counting = sdk.CountWeight
	}
	for c := range n {
		in.Options = append(in.Options, sdk.Option{ID: fmt.Sprint("c", c)})
	}
	for len(data) > 0 && len(in.Votes) < 64 {
		v := sdk.Vote{Voter: fmt.Sprint("v", len(in.Votes)), Count: int64(next() % 50), Weight: sdk.One()}
		for range int(next() % 9) {
			switch r := int(next()) % (n + 2); r {
			case n:
				v.Ranking = append(v.Ranking, sdk.RankOvervote)
			case n + 1:
				v.Ranking = append(v.Ranking, sdk.RankSkipped)
			default:
				v.Ranking = append(v.Ranking, in.Options[r].ID)
			}
		}
		if flags&1 != 0 {
			v.Weight = sdk.Rational{Num: int64(next() % 17), Den: 1 + int64(next()%12)}
		}
		in.Votes = append(in.Votes, v)
	}
	return in
}

// FuzzCount counts random small elections by every variant: a count never
// fails or panics on valid input, fills exactly its seats with distinct
// candidates, and accounts for every round.
func FuzzCount(f *testing.F) {
	f.Add([]byte{3, 1, 0, 0, 5, 2, 0, 1, 3, 1, 1})
	f.Add([]byte{5, 2, 3, 0x31, 7, 4, 1, 2, 3, 4, 2, 8, 0, 6, 0, 1, 5, 2, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := profileFromBytes(data)
		out, err := Count(in)
		if err != nil {
			t.Fatalf("%s: %v", in.Config, err)
		}
		if out.Decision != sdk.DecisionElected || len(out.Elected) != int(in.Seats) {
			t.Fatalf("%s: %s %v for %d seats", in.Config, out.Decision, out.Elected, in.Seats)
		}
		for i, id := range out.Elected {
			if !slices.ContainsFunc(in.Options, func(o sdk.Option) bool { return o.ID == id }) || slices.Contains(out.Elected[:i], id) {
				t.Fatalf("%s: elected %v", in.Config, out.Elected)
			}
		}
		if len(out.Rounds) == 0 || len(out.Counts) != len(in.Options) {
			t.Fatalf("%s: %d rounds, %d counts", in.Config, len(out.Rounds), len(out.Counts))
		}
		// Vote values are never negative, and transfers never create
		// value: no round holds more than the first.
		var first sdk.Rational
		for i, r := range out.Rounds {
			sum := sdk.Int(0)
			for _, c := range r.Counts {
				if !c.Weight.Valid() || c.Weight.Sign() < 0 {
					t.Fatalf("round %d: %s has %v", r.Number, c.Choice, c.Weight)
				}
				if sum, err = sum.Add(c.Weight); err != nil {
					t.Fatal(err)
				}
			}
			if i == 0 {
				first = sum
			} else if sum.Cmp(first) > 0 {
				t.Fatalf("%s: round %d holds %v, round 1 %v", in.Config, r.Number, sum, first)
			}
		}
	})
}
