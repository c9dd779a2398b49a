package crypto_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/plenum-vote/plenum/core/crypto"
)

func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "master.key")
	if err := crypto.GenerateMasterKeyFile(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	before, _ := os.ReadFile(p)
	err = crypto.GenerateMasterKeyFile(p)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("GenerateMasterKeyFile over an existing file = %v", err)
	}
	if after, _ := os.ReadFile(p); string(after) != string(before) {
		t.Fatal("existing key file changed")
	}
	m, err := crypto.LoadMasterKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b64, err := m.Base64()
	if err != nil {
		t.Fatal(err)
	}
	// The environment form, also with the line breaks of `base64`.
	wrapped := b64[:40] + "\n" + b64[40:] + "\n"
	for _, s := range []string{b64, wrapped} {
		if m2, err := crypto.ParseMasterKey(s); err != nil || m2.PrimaryID() != m.PrimaryID() {
			t.Fatalf("ParseMasterKey = %v", err)
		}
	}
	if s := m.String(); !strings.HasPrefix(s, "crypto.MasterKey{primary: ") || strings.Contains(s, "value") {
		t.Errorf("String() = %q", s)
	}

	// Rotation: WriteFile replaces atomically, keeps 0600 and the old key.
	m2, err := m.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	m3, err := crypto.LoadMasterKeyFile(p)
	if err != nil || m3.PrimaryID() != m2.PrimaryID() || m3.Len() != 2 {
		t.Fatalf("rotated key file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// Every way of loading a bad key fails with one line saying what to do.
func TestMasterKeyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask-proof
			t.Fatal(err)
		}
		return p
	}
	good := filepath.Join(dir, "good.key")
	if err := crypto.GenerateMasterKeyFile(good); err != nil {
		t.Fatal(err)
	}
	goodJSON, _ := os.ReadFile(good)
	open := write("open.key", string(goodJSON), 0o644)
	groupRead := write("group.key", string(goodJSON), 0o640)
	garbage := write("garbage.key", "not a keyset", 0o600)
	tests := []struct {
		name string
		load func() error
		hint string
	}{
		{"world-readable file", func() error { _, err := crypto.LoadMasterKeyFile(open); return err }, "chmod 600"},
		{"group-readable file", func() error { _, err := crypto.LoadMasterKeyFile(groupRead); return err }, "chmod 600"},
		{"missing file", func() error { _, err := crypto.LoadMasterKeyFile(filepath.Join(dir, "none")); return err }, "restore"},
		{"directory", func() error { _, err := crypto.LoadMasterKeyFile(dir); return err }, "regular file"},
		{"garbage file", func() error { _, err := crypto.LoadMasterKeyFile(garbage); return err }, "restore"},
		{"bad base64", func() error { _, err := crypto.ParseMasterKey("!!!"); return err }, "base64 -w0"},
		{"base64 of garbage", func() error { _, err := crypto.ParseMasterKey("aGVsbG8="); return err }, "base64 -w0"},
		{"empty", func() error { _, err := crypto.ParseMasterKey(""); return err }, "base64 -w0"},
		{"generate in missing directory", func() error {
			return crypto.GenerateMasterKeyFile(filepath.Join(dir, "no", "master.key"))
		}, "create it first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load()
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.hint) {
				t.Errorf("error %q: want one line mentioning %q", msg, tt.hint)
			}
			if strings.Contains(msg, base64.StdEncoding.EncodeToString(goodJSON)[:20]) || strings.Contains(msg, string(goodJSON[:20])) {
				t.Errorf("error reveals key material: %q", msg)
			}
		})
	}
}

// Of several processes generating the same key file at once, exactly one
// succeeds and the file is whole.
func TestGenerateMasterKeyFileRace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "master.key")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = crypto.GenerateMasterKeyFile(p) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d generations succeeded, want 1: %v", ok, len(errs), errs)
	}
	if _, err := crypto.LoadMasterKeyFile(p); err != nil {
		t.Fatal(err)
	}
}
