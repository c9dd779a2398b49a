package plugintool

import (
	"os"
	"path/filepath"
	"testing"
)

// The build cache key covers the packages of the module the plugin
// imports (its sub-packages, the sdk, shared code), go.mod and go.sum, and
// nothing else.
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
	write("p/main.go", "package main\n\nimport (\n\t_ \"example.com/p/p/sub\"\n\t_ \"example.com/p/sdk\"\n\t_ \"example.com/p/shared\"\n)\n")
	write("p/sub/sub.go", "package sub\n")
	write("shared/shared.go", "package shared\n")
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
		{"shared/shared.go", true},
		{"sdk/sdk.go", true},
		{"go.mod", true},
		{"go.sum", true},
	} {
		content := "// changed\n"
		switch filepath.Ext(tc.file) {
		case ".go":
			content = "package " + filepath.Base(filepath.Dir(tc.file)) + "\n" + content
			if filepath.Dir(tc.file) == "p" {
				content = "package main\n"
			}
		case ".mod":
			content = "module example.com/p\n\ngo 1.22\n"
		case ".sum":
			content = ""
		}
		write(tc.file, content)
		k := key()
		if (k != k0) != tc.changes {
			t.Errorf("changing %s: key changed %v, want %v", tc.file, k != k0, tc.changes)
		}
		k0 = k
	}
}
