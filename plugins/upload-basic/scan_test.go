package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name, declared string
		content        []byte
		want           string
		rule           string
	}{
		{"minutes.pdf", "application/pdf", []byte("%PDF-1.7\n..."), "clean", ""},
		{"photo.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0 JFIF"), "clean", ""},
		{"minutes.pdf", "application/pdf", []byte("MZ\x90\x00 this program"), "malicious", "executable"},
		{"invoice.pdf.exe", "application/octet-stream", []byte("MZ\x90\x00"), "malicious", "double-extension"},
		{"report\u202efdp.exe", "", []byte("MZ"), "malicious", "rtl-override"},
		{"scan.png", "image/png", []byte("%PDF-1.4"), "suspicious", "type-mismatch"},
		{"setup.vbs", "text/plain", []byte("WScript.Echo 1"), "suspicious", "dangerous-extension"},
		{"test.txt", "text/plain", []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD" + `-ANTIVIRUS-TEST-FILE!$H+H*`), "malicious", "eicar"},
		{"run.sh", "text/x-shellscript", []byte("#!/bin/sh\nrm -rf ~"), "malicious", "executable"},
		{"empty.txt", "text/plain", nil, "clean", ""},
	}
	for _, tt := range tests {
		out, err := scan(&sdk.ScanUploadInput{Name: tt.name, DeclaredType: tt.declared, Size: int64(len(tt.content)), Content: tt.content})
		if err != nil {
			t.Fatal(err)
		}
		found := tt.rule == ""
		for _, f := range out.Findings {
			if f.Rule == tt.rule {
				found = true
			}
		}
		if out.Verdict != tt.want || !found {
			t.Errorf("%q: %s %+v, want %s with %s", tt.name, out.Verdict, out.Findings, tt.want, tt.rule)
		}
	}
	sdk.NativeConfig = []byte(`{"max_bytes":10}`)
	defer func() { sdk.NativeConfig = nil }()
	if out, _ := scan(&sdk.ScanUploadInput{Name: "big.pdf", Size: 11, Content: []byte("%PDF-")}); out.Verdict != "suspicious" {
		t.Errorf("oversized: %s", out.Verdict)
	}
}

// The scan_upload examples in schemas/examples are this plugin's golden
// files.
func TestGoldenExamples(t *testing.T) {
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "scan_upload"), func(b []byte) (any, error) {
		var in sdk.ScanUploadInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return scan(&in)
	})
}
