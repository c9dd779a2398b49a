package crypto_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/testkit"
)

// FuzzOpen feeds arbitrary ciphertexts and associated data to Open: it
// must refuse them with ErrOpen and never panic. The committed seed corpus
// (testdata/fuzz/FuzzOpen) holds shapes near real ciphertexts: the TINK
// prefix with bodies of the right length, bare prefixes, the legacy prefix,
// raw AES-GCM lengths, empty and large inputs.
func FuzzOpen(f *testing.F) {
	db := testkit.OpenDB(f, testkit.SQLiteConfig(f))
	ctx := context.Background()
	k := newKeyring(f, db, master(f))
	createScope(f, db, k, "tenant-a")
	valid, err := k.Seal(ctx, "tenant-a", []byte("seed"), []byte("ad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, []byte("ad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 0}, []byte("ad"))
	f.Add(valid[:5], []byte("ad"))
	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		pt, err := k.Open(ctx, "tenant-a", ct, ad)
		if err == nil && string(pt) != "seed" {
			t.Fatalf("forged ciphertext opened to %q", pt)
		}
		if err != nil && !errors.Is(err, crypto.ErrOpen) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// FuzzParseMasterKey feeds arbitrary text as PLENUM_MASTER_KEY: it must
// never panic, and an error must be one line.
func FuzzParseMasterKey(f *testing.F) {
	m, err := crypto.NewMasterKey()
	if err != nil {
		f.Fatal(err)
	}
	b64, _ := m.Base64()
	f.Add(b64)
	f.Add("")
	f.Add("e30=") // {}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := crypto.ParseMasterKey(s); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error of several lines: %q", err)
		}
	})
}
