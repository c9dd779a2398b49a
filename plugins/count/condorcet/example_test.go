package condorcet_test

import (
	"fmt"

	"github.com/plenum-vote/plenum/plugins/count/condorcet"
	"github.com/plenum-vote/plenum/sdk"
)

// Where to put the bicycle shed: nine members rank three places. Garden
// beats both others one to one, so it is the Condorcet winner, although
// more members rank the courtyard first.
func ExampleCount() {
	in := &sdk.TallyInput{
		Kind: sdk.KindElection, Rule: condorcet.Rule, Seats: 1,
		Options: []sdk.Option{{ID: "courtyard"}, {ID: "garden"}, {ID: "basement"}},
		Votes: []sdk.Vote{
			{Voter: "group-1", Count: 4, Ranking: []string{"courtyard", "garden", "basement"}},
			{Voter: "group-2", Count: 3, Ranking: []string{"basement", "garden", "courtyard"}},
			{Voter: "group-3", Count: 2, Ranking: []string{"garden", "basement"}},
		},
	}
	out, err := condorcet.Count(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Decision, out.Elected)
	for _, line := range out.Explanation {
		fmt.Println(line)
	}
	// Output:
	// elected [garden]
	// Schulze method (winning votes): 1 of 3 options to elect, counted by head
	// pairwise courtyard: 4–5 against garden, 4–5 against basement (wins 0)
	// pairwise garden: 5–4 against courtyard, 6–3 against basement (wins 2)
	// pairwise basement: 5–4 against courtyard, 3–6 against garden (wins 1)
	// Condorcet winner: garden beats every other option one to one
	// Schulze ranking: garden > basement > courtyard
	// elected: garden
}
