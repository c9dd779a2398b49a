package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func TestScan(t *testing.T) {
	domains := []string{"rue12.example.org"}
	pass := func(m sdk.ScanMessageInput) sdk.ScanMessageInput {
		if m.SPF == "" {
			m.SPF, m.DKIM, m.DMARC = "pass", "pass", "pass"
		}
		m.TenantDomains, m.TenantName = domains, "Rue de la Paix 12"
		return m
	}
	tests := []struct {
		name string
		in   sdk.ScanMessageInput
		want string
	}{
		{"ordinary", pass(sdk.ScanMessageInput{From: "anna@example.net", DisplayName: "Anna", Subject: "Leak in the cellar"}), "deliver"},
		{"dmarc fail", pass(sdk.ScanMessageInput{From: "ceo@bank.example", SPF: "fail", DKIM: "fail", DMARC: "fail"}), "reject"},
		{"display name spoof", pass(sdk.ScanMessageInput{From: "x@evil.example", DisplayName: "Board of Rue de la Paix 12"}), "quarantine"},
		{"display name with domain", pass(sdk.ScanMessageInput{From: "x@evil.example", DisplayName: "board@rue12.example.org"}), "quarantine"},
		{"own domain unauthenticated", pass(sdk.ScanMessageInput{From: "board@rue12.example.org", SPF: "none", DKIM: "none", DMARC: "none"}), "quarantine"},
		{"link mismatch and ip", pass(sdk.ScanMessageInput{From: "a@b.example", Links: []sdk.Link{{Text: "https://www.mybank.example/login", Href: "http://203.0.113.7/login"}}}), "quarantine"},
		{"exe attachment", pass(sdk.ScanMessageInput{From: "a@b.example", Attachments: []sdk.Attachment{{Name: "invoice.pdf.exe", Verdict: "malicious"}}}), "reject"},
	}
	for _, tt := range tests {
		out, err := scan(&tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Verdict != tt.want {
			t.Errorf("%s: %s (score %d, %+v), want %s", tt.name, out.Verdict, out.Score, out.Reasons, tt.want)
		}
	}
}

// The scan_message examples in schemas/examples are this plugin's golden
// files.
func TestGoldenExamples(t *testing.T) {
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "scan_message"), func(b []byte) (any, error) {
		var in sdk.ScanMessageInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return scan(&in)
	})
}
