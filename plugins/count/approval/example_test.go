package approval_test

import (
	"encoding/json"
	"fmt"

	"github.com/plenum-vote/plenum/plugins/count/approval"
	"github.com/plenum-vote/plenum/sdk"
)

// Choosing a caretaking firm: members approve every firm they could live
// with, and the winner must be approved by at least half of them.
func ExampleCount() {
	in := &sdk.TallyInput{
		Kind: sdk.KindElection, Rule: approval.Rule, Seats: 1,
		Config:  json.RawMessage(`{"quota": {"num": 1, "den": 2}}`),
		Options: []sdk.Option{{ID: "north", Label: "North Facility"}, {ID: "keyhold", Label: "Keyhold"}, {ID: "brightway", Label: "Brightway"}},
		Votes: []sdk.Vote{
			{Voter: "u1", Ranking: []string{"north", "keyhold"}},
			{Voter: "u2", Ranking: []string{"keyhold"}},
			{Voter: "u3", Ranking: []string{"brightway", "keyhold"}},
			{Voter: "u4", Ranking: []string{"north"}},
		},
	}
	out, err := approval.Count(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Decision, out.Elected)
	for _, line := range out.Explanation {
		fmt.Println(line)
	}
	// Output:
	// elected [keyhold]
	// approval voting: 1 of 3 options to elect, any number approved per voter, counted by head
	// totals: keyhold 3, north 2, brightway 1
	// quota: at least 1/2 of the turnout 4 = 2; reached by keyhold, north
	// elected: keyhold
}
