package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
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

// The embargo examples in schemas/examples are this plugin's golden files.
func TestGoldenExamples(t *testing.T) {
	sdk.NativeConfig = []byte(`{"countries":["KP","IR","CU","SY"]}`)
	defer func() { sdk.NativeConfig = nil }()
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "embargo"), func(b []byte) (any, error) {
		var in sdk.EmbargoInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return decide(&in)
	})
}
