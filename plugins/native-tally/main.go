// Command native-tally is the example of a trusted native plugin: the
// tally hook as an ordinary executable that the host runs out of process
// over hashicorp/go-plugin. Native plugins are for bridges the sandbox
// cannot offer (a clamd connection, say) and are installed by the
// operator only.
package main

import (
	"github.com/plenum-vote/plenum/host/native"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

func main() {
	native.Serve(map[sdk.Hook]sdk.Handler{sdk.HookTally: tallyHandler})
}

// tallyHandler decodes the input, counts and encodes the output: the
// same wire format as the wasm plugins.
func tallyHandler(b []byte) ([]byte, error) {
	var in sdk.TallyInput
	if err := in.ReadWire(wire.NewReader(b)); err != nil {
		return nil, err
	}
	out := count(&in)
	var w wire.Writer
	out.AppendWire(&w)
	return w.Bytes(), nil
}

// count passes a motion with more yes than no once the quorum is met.
func count(in *sdk.TallyInput) *sdk.TallyOutput {
	var n [3]int64
	for _, v := range in.Votes {
		switch v.Choice {
		case "yes":
			n[0]++
		case "no":
			n[1]++
		default:
			n[2]++
		}
	}
	out := &sdk.TallyOutput{QuorumMet: n[0]+n[1]+n[2] >= in.Quorum, Explanation: []string{"counted natively"}}
	for i, c := range []string{"yes", "no", "abstain"} {
		out.Counts = append(out.Counts, sdk.Count{Choice: c, Votes: n[i], Weight: sdk.Rational{Num: n[i], Den: 1}})
	}
	switch {
	case !out.QuorumMet:
		out.Decision = "no_quorum"
	case n[0] > n[1]:
		out.Decision = "pass"
	default:
		out.Decision = "fail"
	}
	return out
}
