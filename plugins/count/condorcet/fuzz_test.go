package condorcet

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// FuzzCount checks that a count never panics, elects at most the seats,
// and elects the Condorcet winner when there is one. Votes come from
// data: 255 starts the next vote, 254 raises its count, 253 ranks an
// unknown option, 252 and 251 are the reserved entries, and any other
// byte b ranks option b mod the options next.
func FuzzCount(f *testing.F) {
	f.Add(uint8(1), uint8(3), []byte{0, 1, 2, 255, 1, 2, 0, 255, 2, 0, 1}, ``, false)
	f.Add(uint8(2), uint8(5), []byte{0, 254, 254, 1, 255, 252, 3, 2, 255, 4}, `{"seed": "s"}`, true)
	f.Fuzz(func(t *testing.T, seats, nopts uint8, data []byte, config string, byWeight bool) {
		n := int(nopts%10) + 1
		in := &sdk.TallyInput{Seats: int64(seats % 12), Config: json.RawMessage(config), ByWeight: byWeight}
		for i := range n {
			in.Options = append(in.Options, sdk.Option{ID: "o" + strconv.Itoa(i)})
		}
		in.Votes = []sdk.Vote{{Weight: sdk.One()}}
		for _, b := range data {
			v := &in.Votes[len(in.Votes)-1]
			switch b {
			case 255:
				k := int64(len(in.Votes))
				in.Votes = append(in.Votes, sdk.Vote{Weight: sdk.Rational{Num: k%3 + 1, Den: k%4 + 1}})
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
		out, err := Count(in)
		if err != nil {
			return
		}
		if int64(len(out.Elected)) > max(in.Seats, 1) || len(out.Counts) != n {
			t.Fatalf("%d elected for %d seats, %d counts", len(out.Elected), in.Seats, len(out.Counts))
		}
		for _, c := range out.Counts {
			if c.Votes == int64(n-1) && out.Decision != sdk.DecisionNoQuorum && !slices.Contains(out.Elected, c.Choice) {
				t.Fatalf("Condorcet winner %s not elected: %s %q", c.Choice, out.Decision, out.Elected)
			}
		}
	})
}
