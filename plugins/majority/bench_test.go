//go:build !wasip1

package main

import (
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// BenchmarkNative is the reference call with the plugin's Go code called
// directly through the sdk's handler (decode, tally, encode): the baseline
// of the wasm/native ratio (host/wasm BenchmarkCall).
func BenchmarkNative(b *testing.B) {
	in := &sdk.TallyInput{BallotID: "poll-2025-0042", Rule: "simple_majority", Quorum: 5}
	for _, c := range []string{"yes", "no", "yes", "abstain", "yes"} {
		in.Votes = append(in.Votes, sdk.Vote{Voter: "u-1001", Choice: c, Weight: sdk.One()})
	}
	var w wire.Writer
	in.AppendWire(&w)
	enc := w.Bytes()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := sdk.CallNative(sdk.HookTally, enc); err != nil {
			b.Fatal(err)
		}
	}
}
