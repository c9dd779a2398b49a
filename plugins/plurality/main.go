// Command plurality is the tally plugin for plurality elections: single
// vote, block vote and cumulative voting, by head or by exact weight,
// with an optional quota and ties settled by seeded lots or left to
// people. The counting is package plugins/count/plurality; this command
// registers it for the tally and validate_ballot hooks. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plurality.wasm .
package main

import (
	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/sdk"
)

// A reactor module runs package initialisers, not main: registration
// happens here.
func init() {
	sdk.RegisterTally(plurality.Count)
	sdk.RegisterValidateBallot(validate)
}

// validate is plurality.Validate as a hook function.
func validate(in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	return plurality.Validate(in), nil
}

func main() {}
