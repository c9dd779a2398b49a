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

func TestAssess(t *testing.T) {
	tests := []struct {
		name string
		in   sdk.SignupInput
		want string
	}{
		{"ordinary", sdk.SignupInput{EmailDomain: "example.org", DomainHasMX: true, PerIP: 1}, "allow"},
		{"disposable", sdk.SignupInput{EmailDomain: "mailinator.com", DomainHasMX: true}, "challenge"},
		{"disposable and flood", sdk.SignupInput{EmailDomain: "yopmail.com", DomainHasMX: true, PerIP: 40}, "block"},
		{"no mail", sdk.SignupInput{EmailDomain: "nomail.example", DomainHasMX: false}, "challenge"},
		{"invited", sdk.SignupInput{EmailDomain: "mailinator.com", DomainHasMX: true, InvitationUsed: true}, "allow"},
	}
	for _, tt := range tests {
		out, err := assess(&tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Action != tt.want {
			t.Errorf("%s: %s (score %d, %v), want %s", tt.name, out.Action, out.Score, out.Reasons, tt.want)
		}
	}
}

// The signup_risk examples in schemas/examples are this plugin's golden
// files.
func TestGoldenExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "schemas", "examples", "signup_risk")
	inputs, _ := filepath.Glob(filepath.Join(dir, "*.input.json"))
	if len(inputs) == 0 {
		t.Fatalf("no examples in %s", dir)
	}
	for _, p := range inputs {
		var in sdk.SignupInput
		b, _ := os.ReadFile(p)
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		out, err := assess(&in)
		if err != nil {
			t.Fatal(err)
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
