// Command approval is the tally plugin for approval elections: every
// option a voter marks gets their vote (or weight), the most approved
// options fill the seats, an optional quota sets the least approval to be
// elected, and ties are settled by seeded lots or left to people. The
// counting is package plugins/count/approval; this command registers it
// for the tally and validate_ballot hooks. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o approval.wasm .
package main

import (
	"github.com/plenum-vote/plenum/plugins/count/approval"
	"github.com/plenum-vote/plenum/sdk"
)

// A reactor module runs package initialisers, not main: registration
// happens here.
func init() {
	sdk.RegisterTally(approval.Count)
	sdk.RegisterValidateBallot(validate)
}

// validate is approval.Validate as a hook function.
func validate(in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	return approval.Validate(in), nil
}

func main() {}
