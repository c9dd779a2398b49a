package plurality_test

import (
	"encoding/json"
	"fmt"

	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/sdk"
)

// Two seats on the board, two votes per member, and a tie for the second
// seat settled by lots drawn from the seed announced before the vote.
func ExampleCount() {
	in := &sdk.TallyInput{
		Kind: sdk.KindElection, Rule: plurality.Rule, Seats: 2,
		Config:  json.RawMessage(`{"seed": "agm-2026-05-12"}`),
		Options: []sdk.Option{{ID: "ada", Label: "Ada"}, {ID: "ben", Label: "Ben"}, {ID: "cleo", Label: "Cleo"}},
		Votes: []sdk.Vote{
			{Voter: "u1", Ranking: []string{"ada", "ben"}},
			{Voter: "u2", Ranking: []string{"ada", "cleo"}},
			{Voter: "u3", Ranking: []string{"ada"}},
		},
	}
	out, err := plurality.Count(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Decision, out.Elected)
	for _, line := range out.Explanation {
		fmt.Println(line)
	}
	// Output:
	// elected [ada cleo]
	// plurality: 2 of 3 options to elect, up to 2 votes per voter, counted by head
	// totals: ada 3, ben 1, cleo 1
	// ben, cleo tie with 1 each for the last seat; lots drawn with seed "agm-2026-05-12": SHA-256(seed, tied ids ben, cleo, id) orders them cleo 1d4da3ea7761, ben 88c212b7280f
	// elected: ada, cleo
}
