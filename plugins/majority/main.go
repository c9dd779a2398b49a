// Command majority is Plenum's reference tally plugin for motions: simple,
// absolute and qualified majorities (any fraction, exceeded or reached),
// counted by head, by weight or by both (the double majority), measured
// against the votes cast or against everyone eligible, with quorums by
// head and by weight. All arithmetic is exact, and the explanation states
// the figures. Build it with
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
