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

func TestDecide(t *testing.T) {
	sdk.NativeConfig = []byte(`{"countries":["KP","IR","CU","SY"]}`)
	defer func() { sdk.NativeConfig = nil }()
	tests := []struct {
		country string
		tenant  []string
		block   bool
	}{
		{"KP", nil, true},
		{"CH", nil, false},
		{"CH", []string{"CH"}, true},
		{"", nil, false},
	}
	for _, tt := range tests {
		out, err := decide(&sdk.EmbargoInput{IP: "192.0.2.1", Country: tt.country, TenantBlocked: tt.tenant})
		if err != nil {
			t.Fatal(err)
		}
		if out.Block != tt.block {
			t.Errorf("%s %v: block=%v, want %v (%s)", tt.country, tt.tenant, out.Block, tt.block, out.Reason)
		}
	}
	sdk.NativeConfig = []byte(`{"countries":["KP"],"block_unknown":true}`)
	if out, _ := decide(&sdk.EmbargoInput{IP: "10.0.0.1"}); !out.Block {
		t.Error("unknown country not blocked under block_unknown")
	}
	sdk.NativeConfig = []byte(`{"countries":["North Korea"]}`)
	if _, err := decide(&sdk.EmbargoInput{Country: "KP"}); err == nil {
		t.Error("bad config accepted")
	}
}

// The embargo examples in schemas/examples are this plugin's golden files,
// under the operator list {"countries":["KP","IR","CU","SY"]}.
func TestGoldenExamples(t *testing.T) {
	sdk.NativeConfig = []byte(`{"countries":["KP","IR","CU","SY"]}`)
	defer func() { sdk.NativeConfig = nil }()
	golden(t, filepath.Join("..", "..", "schemas", "examples", "embargo"), func(b []byte) (any, error) {
		var in sdk.EmbargoInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return decide(&in)
	})
}

func golden(t *testing.T, dir string, run func([]byte) (any, error)) {
	t.Helper()
	inputs, _ := filepath.Glob(filepath.Join(dir, "*.input.json"))
	if len(inputs) == 0 {
		t.Fatalf("no examples in %s", dir)
	}
	for _, p := range inputs {
		b, _ := os.ReadFile(p)
		out, err := run(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var got, want any
		gb, _ := json.Marshal(out)
		json.Unmarshal(gb, &got)
		wb, _ := os.ReadFile(strings.TrimSuffix(p, ".input.json") + ".output.json")
		json.Unmarshal(wb, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %s, want %s", filepath.Base(p), gb, wb)
		}
	}
}
