package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/host/plugintool"
)

// EnvCache names the directory where built plugins and compiled code are
// cached; default the user cache directory's plenum-plugins.
const EnvCache = plugintool.EnvCache

// CacheDir returns the cache directory (EnvCache, or plenum-plugins under
// os.UserCacheDir).
func CacheDir() (string, error) { return plugintool.CacheDir() }

// Build compiles the plugin in dir (a package main inside a Go module,
// such as the main module's plugins/… and testkit/plugin/testdata/…) with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath, or fails
// t. Builds are cached under CacheDir()/testkit, keyed by the Go version,
// the module's go.mod and go.sum and every .go file under dir (sub-packages
// included) and under the module's sdk/, so that repeated test runs do not
// rebuild.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := build(dir)
	if err != nil {
		t.Fatalf("build plugin %s: %v", dir, err)
	}
	return b
}

func build(dir string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot(abs)
	if err != nil {
		return nil, err
	}
	key, err := sourceKey(abs, root)
	if err != nil {
		return nil, fmt.Errorf("hash sources: %w", err)
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, fmt.Errorf("plugin cache: %w", err)
	}
	out := filepath.Join(cache, "testkit", key+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return nil, fmt.Errorf("plugin cache: %w", err)
	}
	// Concurrent test binaries may build the same plugin: each writes its
	// own file and renames it into place atomically.
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if outb, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("go build: %v\n%s", err, outb)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("plugin cache: %w", err)
	}
	return os.ReadFile(out)
}

func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// sourceKey hashes what a build depends on within the module.
func sourceKey(dir, root string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	add := func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintln(h, rel)
		_, err = io.Copy(h, f)
		return err
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := add(filepath.Join(root, name)); err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	var files []string
	for _, d := range []string{dir, filepath.Join(root, "sdk")} {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && p != d && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			if !e.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if err := add(f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}
