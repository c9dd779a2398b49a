package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func TestValidate(t *testing.T) {
	ok := sdk.ValidateBallotInput{Kind: sdk.KindElection, Rule: "irv", Seats: 1,
		Options: []sdk.Option{{ID: "ana"}, {ID: "ben"}, {ID: "uwi"}}, Opens: 100, Closes: 200,
		Config: json.RawMessage(`{"overvote":"exhaustIfMultipleContinuing","max_skipped_ranks":1,"batch_elimination":true,"undeclared_write_in":"uwi","seed":"2026"}`)}
	if out, _ := validate(&ok); !out.Valid {
		t.Fatalf("valid election refused: %+v", out.Problems)
	}
	tests := []struct {
		name  string
		mod   func(*sdk.ValidateBallotInput)
		field string
	}{
		{"motion", func(in *sdk.ValidateBallotInput) { in.Kind = sdk.KindMotion }, "kind"},
		{"other rule", func(in *sdk.ValidateBallotInput) { in.Rule = "stv" }, "rule"},
		{"two seats", func(in *sdk.ValidateBallotInput) { in.Seats = 2 }, "seats"},
		{"one option", func(in *sdk.ValidateBallotInput) { in.Options = in.Options[:1] }, "options"},
		{"reserved id", func(in *sdk.ValidateBallotInput) { in.Options[0].ID = "#overvote" }, "options"},
		{"empty id", func(in *sdk.ValidateBallotInput) { in.Options[0].ID = "" }, "options"},
		{"repeated id", func(in *sdk.ValidateBallotInput) { in.Options[1].ID = "ana" }, "options"},
		{"both countings", func(in *sdk.ValidateBallotInput) { in.Counting = sdk.CountBoth }, "counting"},
		{"negative quorum", func(in *sdk.ValidateBallotInput) { in.Quorum = -1 }, "quorum"},
		{"bad config", func(in *sdk.ValidateBallotInput) { in.Config = json.RawMessage(`{"overvote":"maybe"}`) }, "config"},
		{"unknown config field", func(in *sdk.ValidateBallotInput) { in.Config = json.RawMessage(`{"batch":true}`) }, "config"},
		{"write-in not an option", func(in *sdk.ValidateBallotInput) {
			in.Config = json.RawMessage(`{"undeclared_write_in":"UWI"}`)
		}, "config"},
		{"closes early", func(in *sdk.ValidateBallotInput) { in.Closes = 50 }, "closes"},
	}
	for _, tt := range tests {
		in := ok
		in.Options = append([]sdk.Option(nil), ok.Options...)
		tt.mod(&in)
		out, err := validate(&in)
		if err != nil || out.Valid || len(out.Problems) == 0 || out.Problems[0].Field != tt.field {
			t.Errorf("%s: %v %+v, want a problem with %s", tt.name, err, out, tt.field)
		}
	}
}

// The manifest declares the hooks the plugin registers and limits large
// enough for a million ballots.
func TestManifest(t *testing.T) {
	b, err := os.ReadFile("plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdk.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "irv" || len(m.Hooks) != 2 || m.Limits.MemoryPages < 16384 || m.Limits.DeadlineMS < 10_000 {
		t.Fatalf("manifest %+v", m)
	}
}
