package plurality

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// fuzzInput builds an election from fuzz data: nopts options (at least
// one), and votes from data, where 255 starts the next vote, 254 raises
// its count, 253 marks an unknown option, 252 and 251 are the reserved
// entries, and any other byte marks option b mod nopts. Weights vary
// with the vote.
func fuzzInput(seats, nopts uint8, data []byte, config string, byWeight bool) *sdk.TallyInput {
	n := int(nopts%12) + 1
	in := &sdk.TallyInput{Seats: int64(seats % 14), Config: json.RawMessage(config), ByWeight: byWeight}
	for i := range n {
		in.Options = append(in.Options, sdk.Option{ID: "o" + strconv.Itoa(i)})
	}
	next := func() {
		k := int64(len(in.Votes))
		in.Votes = append(in.Votes, sdk.Vote{Voter: strconv.FormatInt(k, 10), Weight: sdk.Rational{Num: k%7 + 1, Den: k%5 + 1}})
	}
	next()
	for _, b := range data {
		v := &in.Votes[len(in.Votes)-1]
		switch b {
		case 255:
			next()
		case 254:
			v.Count++
		case 253:
			v.Ranking = append(v.Ranking, "unknown")
		case 252:
			v.Ranking = append(v.Ranking, sdk.RankOvervote)
		case 251:
			v.Ranking = append(v.Ranking, sdk.RankSkipped)
		default:
			v.Ranking = append(v.Ranking, in.Options[int(b)%n].ID)
		}
	}
	return in
}

// FuzzCount checks that a count never panics, elects at most the seats
// from the options, and reports one count per option.
func FuzzCount(f *testing.F) {
	f.Add(uint8(1), uint8(3), []byte{0, 255, 1, 255, 0}, ``, false)
	f.Add(uint8(2), uint8(4), []byte{0, 0, 1, 254, 255, 2, 3, 255, 252, 1}, `{"votes_per_voter": 3, "cumulative": true, "seed": "s"}`, true)
	f.Fuzz(func(t *testing.T, seats, nopts uint8, data []byte, config string, byWeight bool) {
		in := fuzzInput(seats, nopts, data, config, byWeight)
		out, err := Count(in)
		if err != nil {
			return
		}
		checkOutput(t, in, out)
	})
}

// checkOutput checks what every output must satisfy.
func checkOutput(t *testing.T, in *sdk.TallyInput, out *sdk.TallyOutput) {
	t.Helper()
	if int64(len(out.Elected)) > max(in.Seats, 1) {
		t.Fatalf("%d elected for %d seats", len(out.Elected), in.Seats)
	}
	if len(out.Counts) != len(in.Options) {
		t.Fatalf("%d counts for %d options", len(out.Counts), len(in.Options))
	}
	seen := map[string]bool{}
	for _, id := range out.Elected {
		if seen[id] {
			t.Fatalf("%q elected twice", id)
		}
		seen[id] = true
	}
	for i, c := range out.Counts {
		if c.Choice != in.Options[i].ID || c.Votes < 0 || !c.Weight.Valid() || c.Weight.Sign() < 0 {
			t.Fatalf("count %d: %+v", i, c)
		}
	}
	switch out.Decision {
	case sdk.DecisionElected, sdk.DecisionTie, sdk.DecisionNoQuorum, sdk.DecisionFail:
	default:
		t.Fatalf("decision %q", out.Decision)
	}
}
