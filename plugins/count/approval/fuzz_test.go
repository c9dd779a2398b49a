package approval

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// FuzzCount checks that a count never panics, elects at most the seats,
// and elects only options with at least as many approvals as any option
// left out. Votes come from data: 255 starts the next vote, 254 raises
// its count, 253 approves an unknown option, 252 is a reserved entry, and
// any other byte b approves option b mod the options.
func FuzzCount(f *testing.F) {
	f.Add(uint8(1), uint8(3), []byte{0, 1, 255, 1, 255, 2}, ``, false)
	f.Add(uint8(2), uint8(4), []byte{0, 1, 254, 255, 2, 3, 255, 252, 1}, `{"quota": {"num": 1, "den": 3}, "seed": "s"}`, true)
	f.Fuzz(func(t *testing.T, seats, nopts uint8, data []byte, config string, byWeight bool) {
		n := int(nopts%12) + 1
		in := &sdk.TallyInput{Seats: int64(seats % 14), Config: json.RawMessage(config), ByWeight: byWeight}
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
		total := map[string]sdk.Rational{}
		for _, c := range out.Counts {
			total[c.Choice] = c.Weight
		}
		elected := map[string]bool{}
		for _, id := range out.Elected {
			if elected[id] {
				t.Fatalf("%q elected twice", id)
			}
			elected[id] = true
		}
		for _, id := range out.Elected {
			for _, c := range out.Counts {
				if !elected[c.Choice] && c.Weight.Cmp(total[id]) > 0 {
					t.Fatalf("%q elected with %v, %q left out with %v", id, total[id], c.Choice, c.Weight)
				}
			}
		}
	})
}
