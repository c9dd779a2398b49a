// Package plugintool holds what the `plenum plugin` commands and the test
// kit share: building a plugin from Go source to WebAssembly (cached by
// content) and inspecting a module.
package plugintool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// EnvCache names the directory where built plugins and compiled code are
// cached; default the user cache directory's plenum-plugins.
const EnvCache = "PLENUM_PLUGIN_CACHE"

// CacheDir returns the cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "plenum-plugins"), nil
}

// Build compiles the plugin in dir (a package main inside a Go module)
// with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared and returns the module.
// Builds are cached by the content of the plugin's sources, the module's
// go.mod and go.sum, the sdk's sources (when the module has them) and the
// Go version.
func Build(dir string) ([]byte, error) {
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
		return nil, err
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(cache, "build", key+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return nil, err
	}
	tmp := out + ".tmp" + fmt.Sprint(os.Getpid())
	args := []string{"build", "-buildmode=c-shared", "-trimpath", "-o", tmp}
	if _, err := os.Stat(filepath.Join(root, "go.sum")); os.IsNotExist(err) {
		// A freshly scaffolded plugin has no go.sum yet: let the build
		// complete its module files.
		args = append(args, "-mod=mod")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if outb, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, outb)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
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

// sourceKey hashes what the build depends on.
func sourceKey(dir, root string) (string, error) {
	// First, since listing may complete a fresh module's go.mod.
	dirs, err := localDeps(dir, root)
	if err != nil {
		return "", err
	}
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
	for _, p := range []string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")} {
		if err := add(p); err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	var files []string
	for _, d := range dirs {
		// Each package's own files: the packages it imports are listed
		// themselves.
		entries, err := os.ReadDir(d)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if p := filepath.Join(d, e.Name()); !e.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				files = append(files, p)
			}
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

// localDeps lists the directories of the packages the plugin in dir
// builds from that are not pinned by go.sum: its own, and every package of
// its module or of a module replaced by a local directory that it imports,
// directly or not (the sdk, shared counting code, …), as the wasm build
// sees them.
func localDeps(dir, root string) ([]string, error) {
	args := []string{"list", "-deps", "-f", "{{if .Module}}{{if or .Module.Main .Module.Replace}}{{.Dir}}{{end}}{{end}}"}
	if _, err := os.Stat(filepath.Join(root, "go.sum")); os.IsNotExist(err) {
		args = append(args, "-mod=mod") // as Build does for a fresh module
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list the plugin's packages: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var dirs []string
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			dirs = append(dirs, line)
		}
	}
	return dirs, nil
}
