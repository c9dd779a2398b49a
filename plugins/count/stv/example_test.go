package stv_test

import (
	"fmt"

	"github.com/plenum-vote/plenum/plugins/count/stv"
	"github.com/plenum-vote/plenum/sdk"
)

// Two seats, three candidates: Ann's surplus passes to Bob at 2/7 a
// paper, truncated to five decimals.
func ExampleCount() {
	vote := func(n int64, ranking ...string) sdk.Vote {
		return sdk.Vote{Count: n, Weight: sdk.One(), Ranking: ranking}
	}
	out, err := stv.Count(&sdk.TallyInput{
		BallotID: "board-2026",
		Kind:     sdk.KindElection,
		Rule:     "stv",
		Config:   []byte(`{"variant":"scottish"}`),
		Options:  []sdk.Option{{ID: "ann"}, {ID: "bob"}, {ID: "cat"}},
		Seats:    2,
		Votes:    []sdk.Vote{vote(7, "ann", "bob"), vote(2, "bob"), vote(3, "cat")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range out.Rounds {
		fmt.Println(r.Number, r.Elected, r.Eliminated, r.Transfers)
	}
	fmt.Println(out.Elected)
	// Output:
	// 1 [ann] [] [{ann bob 199997/100000}]
	// 2 [] [cat] [{cat  3}]
	// 3 [bob] [] []
	// [ann bob]
}
