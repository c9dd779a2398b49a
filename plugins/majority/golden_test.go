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

// The tally examples in schemas/examples are this plugin's golden files:
// each input must give exactly the example output.
func TestGoldenExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "schemas", "examples", "tally")
	inputs, err := filepath.Glob(filepath.Join(dir, "*.input.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	for _, p := range inputs {
		t.Run(filepath.Base(p), func(t *testing.T) {
			var in sdk.TallyInput
			var want, got any
			b, _ := os.ReadFile(p)
			if err := json.Unmarshal(b, &in); err != nil {
				t.Fatal(err)
			}
			out, err := tally(&in)
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(out)
			json.Unmarshal(gb, &got)
			wb, err := os.ReadFile(strings.TrimSuffix(p, ".input.json") + ".output.json")
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(wb, &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %s\nwant %s", gb, wb)
			}
		})
	}
}
