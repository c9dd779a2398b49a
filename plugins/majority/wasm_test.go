//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

// The plugin built to wasm gives what its Go code gives natively, for the
// golden examples and for the double majority, the eligible basis and
// grouped votes, which travel in the wire format's optional parts.
func TestWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin to wasm")
	}
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, plugin.Build(t, "."), wasm.PluginSpec{Name: "majority"})
	var inputs []*sdk.TallyInput
	files, _ := filepath.Glob(filepath.Join("..", "..", "schemas", "examples", "tally", "*.input.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in := new(sdk.TallyInput)
		if err := json.Unmarshal(b, in); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	inputs = append(inputs, &sdk.TallyInput{BallotID: "double", Rule: Qualified, Threshold: sdk.Threshold{Num: 2, Den: 3},
		Counting: sdk.CountBoth, Basis: sdk.BasisEligible, Eligible: sdk.Eligible{Units: 12, Weight: sdk.One()},
		Quorum: 6, QuorumWeight: sdk.Rational{Num: 1, Den: 2}, Votes: []sdk.Vote{
			{Voter: "a", Choice: "yes", Weight: sdk.Rational{Num: 1, Den: 12}, Count: 8},
			{Voter: "b", Choice: "no", Weight: sdk.Rational{Num: 1, Den: 12}, Count: 2},
			{Voter: "c", Choice: "abstain", Weight: sdk.Rational{Num: 1, Den: 12}},
		}})
	for _, in := range inputs {
		got, err := plugin.CallTally(context.Background(), p, in)
		if err != nil {
			t.Fatalf("%s: %v", in.BallotID, err)
		}
		want, err := tally(in)
		if err != nil {
			t.Fatal(err)
		}
		var normal sdk.TallyOutput
		if err := sdk.Decode(sdk.Encode(want), &normal); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &normal) {
			t.Errorf("%s: wasm %+v\nnative %+v", in.BallotID, got, &normal)
		}
	}
}
