package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// The irv_* election examples in schemas/examples are this plugin's
// golden files: each input must give exactly the example output.
func TestGoldenExamples(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("..", "..", "schemas", "examples", "tally", "elections", "irv_*.input.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no irv examples: %v", err)
	}
	for _, p := range inputs {
		name := strings.TrimSuffix(filepath.Base(p), ".input.json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var in sdk.TallyInput
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := tallyJSON(&in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		wb, err := os.ReadFile(strings.TrimSuffix(p, ".input.json") + ".output.json")
		if err != nil {
			t.Fatal(err)
		}
		var got, want any
		_ = json.Unmarshal(out, &got)
		if err := json.Unmarshal(wb, &want); err != nil {
			t.Fatalf("%s: expected output: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %s\n want %s", name, out, strings.TrimSpace(string(wb)))
		}
	}
}

// tallyJSON runs the hook through the sdk's wire codec, as the host
// does, and returns the output as JSON.
func tallyJSON(in *sdk.TallyInput) ([]byte, error) {
	b, err := sdk.CallNative(sdk.HookTally, sdk.Encode(in))
	if err != nil {
		return nil, err
	}
	var out sdk.TallyOutput
	if err := sdk.Decode(b, &out); err != nil {
		return nil, err
	}
	return json.Marshal(&out)
}
