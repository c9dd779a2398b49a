// Command majority is Plenum's reference tally plugin for motions: simple,
// absolute and qualified majorities, counted by head or by weight, with a
// quorum. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o majority.wasm .
package main

import "github.com/plenum-vote/plenum/sdk"

// A reactor module runs package initialisers, not main: registration
// happens here.
func init() {
	sdk.RegisterTally(tally)
	sdk.RegisterValidateBallot(validate)
}

func main() {}
