// Command condorcet is the tally plugin for ranked elections counted by
// the Schulze method: the Condorcet winner when there is one, otherwise
// the strongest paths of pairwise wins decide; by head or by exact
// weight, for one or more seats, with ties settled by seeded lots or left
// to people. The counting is package plugins/count/condorcet; this
// command registers it for the tally and validate_ballot hooks. Build it
// with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o condorcet.wasm .
package main

import (
	"github.com/plenum-vote/plenum/plugins/count/condorcet"
	"github.com/plenum-vote/plenum/sdk"
)

// A reactor module runs package initialisers, not main: registration
// happens here.
func init() {
	sdk.RegisterTally(condorcet.Count)
	sdk.RegisterValidateBallot(validate)
}

// validate is condorcet.Validate as a hook function.
func validate(in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	return condorcet.Validate(in), nil
}

func main() {}
