package plugin

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// Method describes a tally plugin whose counting code is also a Go
// library, for CheckMethod.
type Method struct {
	// Name is the manifest's name; Dir the plugin's folder ("." from its
	// own tests).
	Name, Dir string
	// Count and Validate are the library's functions the plugin wraps.
	Count    func(*sdk.TallyInput) (*sdk.TallyOutput, error)
	Validate func(*sdk.ValidateBallotInput) *sdk.ValidateBallotOutput
	// Inputs are counted both ways and must give the same output.
	Inputs []*sdk.TallyInput
	// Bad is an input the plugin refuses with an error containing BadErr.
	Bad    *sdk.TallyInput
	BadErr string
	// Invalid is a ballot definition validate_ballot refuses, with the
	// library's problems.
	Invalid *sdk.ValidateBallotInput
}

// CheckMethod checks a tally plugin against its library: the manifest
// names it with the tally and validate_ballot hooks; built to wasm, it
// gives the library's output for every input (after the wire's
// normalisation), its error for a bad one, and its problems for an
// invalid ballot.
func CheckMethod(t *testing.T, m Method) {
	t.Helper()
	b, err := os.ReadFile(m.Dir + "/plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	man, err := sdk.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if man.Name != m.Name || !slices.Equal(man.Hooks, []string{"tally", "validate_ballot"}) {
		t.Fatalf("manifest %+v", man)
	}
	if testing.Short() {
		t.Skip("builds the plugin to wasm")
	}
	p := Load(t, NewRuntime(t, wasm.Caps{}), Build(t, m.Dir), wasm.PluginSpec{Name: m.Name})
	for _, in := range m.Inputs {
		got, err := CallTally(context.Background(), p, in)
		if err != nil {
			t.Fatalf("%s: %v", in.BallotID, err)
		}
		want, err := m.Count(in)
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
	if m.Bad != nil {
		_, err := CallTally(context.Background(), p, m.Bad)
		if !errors.Is(err, wasm.ErrPluginError) || !strings.Contains(err.Error(), m.BadErr) {
			t.Fatalf("bad input: %v, want a plugin error with %q", err, m.BadErr)
		}
	}
	if m.Invalid != nil {
		var out sdk.ValidateBallotOutput
		if err := out.ReadWire(wire.NewReader(Call(t, p, sdk.HookValidateBallot, sdk.Encode(m.Invalid)))); err != nil {
			t.Fatal(err)
		}
		if want := m.Validate(m.Invalid); out.Valid || !reflect.DeepEqual(out.Problems, want.Problems) {
			t.Fatalf("validate: %+v, want %+v", out, want)
		}
	}
}
