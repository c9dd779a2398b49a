package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Golden runs every NAME.input.json in dir through run and compares the
// result, as JSON, with NAME.output.json. Plugins use their hook's
// examples in schemas/examples as golden files.
func Golden(t *testing.T, dir string, run func(input []byte) (any, error)) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*.input.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs in %s: %v", dir, err)
	}
	for _, p := range inputs {
		name := strings.TrimSuffix(filepath.Base(p), ".input.json")
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := run(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		gb, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		wb, err := os.ReadFile(strings.TrimSuffix(p, ".input.json") + ".output.json")
		if err != nil {
			t.Fatal(err)
		}
		var got, want any
		json.Unmarshal(gb, &got)
		if err := json.Unmarshal(wb, &want); err != nil {
			t.Fatalf("%s: expected output: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %s\n want %s", name, gb, strings.TrimSpace(string(wb)))
		}
	}
}
