package sdk

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

const goodManifest = `{"name":"majority","version":"1.2.0","abi":1,"hooks":["tally"],"capabilities":["log"],
	"limits":{"memory_pages":256,"deadline_ms":50},"config_schema":{"type":"object"}}`

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte(goodManifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "majority" || m.Limits.DeadlineMS != 50 {
		t.Fatalf("%+v", m)
	}
	bad := map[string]string{
		"unknown field":      `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"evil":true}`,
		"bad name":           `{"name":"X Y","version":"1.0.0","abi":1,"hooks":["tally"]}`,
		"bad version":        `{"name":"x","version":"1.0","abi":1,"hooks":["tally"]}`,
		"other abi":          `{"name":"x","version":"1.0.0","abi":2,"hooks":["tally"]}`,
		"no hooks":           `{"name":"x","version":"1.0.0","abi":1,"hooks":[]}`,
		"unknown hook":       `{"name":"x","version":"1.0.0","abi":1,"hooks":["vote_twice"]}`,
		"duplicate hook":     `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally","tally"]}`,
		"unknown capability": `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"capabilities":["network"]}`,
		"deadline":           `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"deadline_ms":999999}}`,
		"trailing":           `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"]} {}`,
		"trailing garbage":   `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"]} x`,
		"not json":           `name: x`,
		"long name":          `{"name":"` + strings.Repeat("a", 64) + `","version":"1.0.0","abi":1,"hooks":["tally"]}`,
		"duplicate cap":      `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"capabilities":["log","log"]}`,
		"memory":             `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"memory_pages":65537}}`,
		"input":              `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"max_input_bytes":67108865}}`,
		"output":             `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"max_output_bytes":-1}}`,
		"log":                `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"max_log_bytes":1048577}}`,
		"unknown limit":      `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"cpu":1}}`,
		"config not object":  `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"config_schema":[1]}`,
		"key id":             `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"signature":{"key_id":"ABC","value":"AA=="}}`,
		"signature value":    `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"signature":{"key_id":"0123456789abcdef","value":"!!"}}`,
		"description":        `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"description":"` + strings.Repeat("d", 1001) + `"}`,
	}
	for name, doc := range bad {
		if _, err := ParseManifest([]byte(doc)); !errors.Is(err, ErrManifest) {
			t.Errorf("%s: %v, want ErrManifest", name, err)
		}
	}
}

func TestValidSemver(t *testing.T) {
	tests := map[string]bool{
		"0.0.0": true, "1.2.3": true, "10.20.30": true, "1.0.0-alpha": true, "1.0.0-alpha.1": true,
		"1.0.0-0.3.7": true, "1.0.0-x.7.z.92": true, "1.0.0+20130313144700": true, "1.0.0-beta+exp.sha.5114f85": true,
		"1.0.0-rc.1+build.1": true, "2.0.0-beta.1": true,
		"": false, "1": false, "1.2": false, "v1.2.3": false, "01.2.3": false, "1.02.3": false, "1.2.03": false,
		"1.2.3-": false, "1.2.3+": false, "1.2.3-01": false, "1.2.3-a..b": false, "1.2.3-é": false, "1.2.3.4": false,
		"1.2.-3": false, " 1.2.3": false,
	}
	for v, want := range tests {
		if got := ValidSemver(v); got != want {
			t.Errorf("ValidSemver(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSignVerify(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	module := []byte("\x00asm module bytes")
	m, _ := ParseManifest([]byte(goodManifest))
	if _, err := Verify(m, module, []ed25519.PublicKey{pub}); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if err := Sign(m, module, key); err != nil {
		t.Fatal(err)
	}
	if id, err := Verify(m, module, []ed25519.PublicKey{other, pub}); err != nil || id != KeyID(pub) {
		t.Fatalf("Verify = %q, %v", id, err)
	}
	if _, err := Verify(m, append([]byte{}, append(module, 0)...), []ed25519.PublicKey{pub}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed module: %v", err)
	}
	if _, err := Verify(m, module, []ed25519.PublicKey{other}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("untrusted key: %v", err)
	}
	m.Capabilities = append(m.Capabilities, "geoip")
	if _, err := Verify(m, module, []ed25519.PublicKey{pub}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed manifest: %v", err)
	}
	m.Signature.Value = "!!"
	if _, err := Verify(m, module, []ed25519.PublicKey{pub}); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("malformed signature: %v", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"hooks":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err == nil && m.Validate() != nil {
			t.Fatal("accepted an invalid manifest")
		}
	})
}
