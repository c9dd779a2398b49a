package main

import (
	"encoding/json"
	"testing"

	"github.com/plenum-vote/plenum/plugins/count/approval"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

// The plugin built to wasm gives what the library gives natively.
func TestPlugin(t *testing.T) {
	opts := []sdk.Option{{ID: "ann", Label: "Ann"}, {ID: "bob", Label: "Bob"}, {ID: "cyd", Label: "Cyd"}}
	vote := func(count int64, w sdk.Rational, marks ...string) sdk.Vote {
		return sdk.Vote{Voter: "v", Weight: w, Count: count, Ranking: marks}
	}
	plugin.CheckMethod(t, plugin.Method{
		Name: "approval", Dir: ".", Count: approval.Count, Validate: approval.Validate,
		Inputs: []*sdk.TallyInput{
			{BallotID: "b1", Kind: "election", Rule: "approval", Options: opts, Seats: 1,
				Votes: []sdk.Vote{vote(0, sdk.One(), "ann"), vote(2, sdk.One(), "bob"), vote(0, sdk.One(), "ann"), vote(0, sdk.One(), sdk.RankSkipped)}},
			{BallotID: "b2", Kind: "election", Rule: "approval", Options: opts, Seats: 2, Counting: "weight", Quorum: 2,
				Config: json.RawMessage(`{"quota": {"num": 1, "den": 2}, "seed": "s"}`),
				Votes:  []sdk.Vote{vote(0, sdk.Rational{Num: 1, Den: 4}, "cyd", "ann"), vote(3, sdk.Rational{Num: 1, Den: 12}, "ann", "bob", "cyd")}},
			{BallotID: "b3", Kind: "election", Rule: "approval", Options: opts, Seats: 1, Votes: []sdk.Vote{vote(0, sdk.One(), "ann"), vote(0, sdk.One(), "bob")}},
		},
		Bad:     &sdk.TallyInput{Kind: "election", Options: opts, Votes: []sdk.Vote{vote(0, sdk.One(), "zed")}},
		BadErr:  `votes[0] (voter "v"): unknown option "zed"`,
		Invalid: &sdk.ValidateBallotInput{Kind: "election", Rule: "approval", Options: opts, Seats: 4, Config: json.RawMessage(`{"seed": 1}`)},
	})
}
