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
		"not json":           `name: x`,
	}
	for name, doc := range bad {
		if _, err := ParseManifest([]byte(doc)); !errors.Is(err, ErrManifest) {
			t.Errorf("%s: %v, want ErrManifest", name, err)
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
