package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func TestManifest(t *testing.T) {
	b, err := os.ReadFile("plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdk.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "plurality" || !reflect.DeepEqual(m.Hooks, []string{"tally", "validate_ballot"}) {
		t.Fatalf("manifest %+v", m)
	}
}

// The plugin built to wasm gives what the library gives natively.
func TestWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin to wasm")
	}
	// plugintool's build cache is keyed by this directory and the sdk,
	// not by plugins/count: build afresh so the library's changes count.
	t.Setenv(plugin.EnvCache, t.TempDir())
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, plugin.Build(t, "."), wasm.PluginSpec{Name: "plurality"})
	opts := []sdk.Option{{ID: "ann", Label: "Ann"}, {ID: "bob", Label: "Bob"}, {ID: "cyd", Label: "Cyd"}}
	vote := func(count int64, w sdk.Rational, marks ...string) sdk.Vote {
		return sdk.Vote{Voter: "v", Weight: w, Count: count, Ranking: marks}
	}
	for _, in := range []*sdk.TallyInput{
		{BallotID: "b1", Kind: "election", Rule: "plurality", Options: opts, Seats: 1,
			Votes: []sdk.Vote{vote(0, sdk.One(), "ann"), vote(2, sdk.One(), "bob"), vote(0, sdk.One(), "ann"), vote(0, sdk.One(), sdk.RankSkipped)}},
		{BallotID: "b2", Kind: "election", Rule: "plurality", Options: opts, Seats: 2, Counting: "weight", Quorum: 2,
			Config: json.RawMessage(`{"votes_per_voter": 2, "cumulative": true, "seed": "s"}`),
			Votes:  []sdk.Vote{vote(0, sdk.Rational{Num: 1, Den: 4}, "cyd", "cyd"), vote(3, sdk.Rational{Num: 1, Den: 12}, "ann", "bob")}},
		{BallotID: "b3", Kind: "election", Rule: "plurality", Options: opts, Seats: 1, Votes: []sdk.Vote{vote(0, sdk.One(), "ann"), vote(0, sdk.One(), "bob")}},
	} {
		got, err := plugin.CallTally(context.Background(), p, in)
		if err != nil {
			t.Fatalf("%s: %v", in.BallotID, err)
		}
		want, err := plurality.Count(in)
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
	// A bad vote is the plugin's error, naming the vote.
	_, err := plugin.CallTally(context.Background(), p, &sdk.TallyInput{Kind: "election", Options: opts, Votes: []sdk.Vote{vote(0, sdk.One(), "zed")}})
	if !errors.Is(err, wasm.ErrPluginError) || !strings.Contains(err.Error(), `votes[0] (voter "v"): unknown option "zed"`) {
		t.Fatalf("bad vote: %v", err)
	}
	// validate_ballot
	vin := sdk.ValidateBallotInput{Kind: "election", Rule: "plurality", Options: opts, Seats: 4, Config: json.RawMessage(`{"seed": 1}`)}
	var out sdk.ValidateBallotOutput
	if err := out.ReadWire(wire.NewReader(plugin.Call(t, p, sdk.HookValidateBallot, sdk.Encode(&vin)))); err != nil {
		t.Fatal(err)
	}
	if want := plurality.Validate(&vin); out.Valid || !reflect.DeepEqual(out.Problems, want.Problems) {
		t.Fatalf("validate: %+v, want %+v", out, want)
	}
}
