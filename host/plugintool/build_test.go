package plugintool

import (
	"os"
	"path/filepath"
	"testing"
)

// The build cache key covers the plugin's sub-packages, the sdk, go.mod
// and go.sum, and nothing else.
func TestSourceKey(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/p\n")
	write("sdk/sdk.go", "package sdk\n")
	write("p/main.go", "package main\n")
	write("p/sub/sub.go", "package sub\n")
	write("other/other.go", "package other\n")
	dir := filepath.Join(root, "p")
	key := func() string {
		t.Helper()
		if got, err := moduleRoot(dir); err != nil || got != root {
			t.Fatalf("moduleRoot = %q, %v", got, err)
		}
		k, err := sourceKey(dir, root)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k0 := key()
	for _, tc := range []struct {
		file    string
		changes bool
	}{
		{"other/other.go", false},
		{"p/main_test.go", false},
		{"p/sub/sub.go", true},
		{"sdk/sdk.go", true},
		{"go.mod", true},
		{"go.sum", true},
	} {
		write(tc.file, "// changed\n")
		k := key()
		if (k != k0) != tc.changes {
			t.Errorf("changing %s: key changed %v, want %v", tc.file, k != k0, tc.changes)
		}
		k0 = k
	}
}
