// Command tallyraw is the reference plugin of the host/wasm benchmarks: the
// bench fixture's majority tally registered with sdk.RegisterRaw over a
// hand-written, allocation-free encoding (see rawtally).
package main

import "github.com/plenum-vote/plenum/testkit/plugin/testdata/tallyraw/rawtally"

// A reactor runs package initialisers, not main: registration happens here.
func init() { rawtally.Register() }

func main() {}
