// Command stv is Plenum's tally plugin for elections by the single
// transferable vote: the Scottish rule (the default), Minneapolis,
// RCTab's multi-winner rule and Meek's method, counted by package
// plugins/count/stv. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o stv.wasm .
package main

import "github.com/plenum-vote/plenum/sdk"

// A reactor module runs package initialisers, not main: registration
// happens here.
func init() {
	sdk.RegisterRaw(sdk.HookTally, tally)
	sdk.RegisterValidateBallot(validate)
}

func main() {}
