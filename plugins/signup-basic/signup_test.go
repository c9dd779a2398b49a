package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
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

// The signup_risk examples in schemas/examples are this plugin's golden files.
func TestGoldenExamples(t *testing.T) {
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "signup_risk"), func(b []byte) (any, error) {
		var in sdk.SignupInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return assess(&in)
	})
}
