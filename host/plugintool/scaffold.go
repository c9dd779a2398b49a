package plugintool

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed scaffold
var scaffoldFS embed.FS

// NewOptions describe a plugin to scaffold.
type NewOptions struct {
	// Dir is created; it must not exist or be empty.
	Dir string
	// Name is the plugin's name; default the directory's base name.
	Name string
	// Hook is the hook to implement; "tally" is the one with a template.
	Hook string
	// Module is the Go module path of a standalone plugin; default
	// example.org/NAME. Ignored inside an existing module.
	Module string
	// Replace points the generated go.mod at a local Plenum checkout, for
	// building before the sdk is published.
	Replace string
}

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// New writes a plugin skeleton: main.go registering the hook, the hook's
// function with a test, plugin.json, example fixtures under testdata/, a
// README, and a go.mod unless Dir is inside a Go module already. It returns
// the files written.
func New(o NewOptions) ([]string, error) {
	if o.Name == "" {
		o.Name = filepath.Base(filepath.Clean(o.Dir))
	}
	if !pluginName.MatchString(o.Name) {
		return nil, fmt.Errorf("plugin name %q must be lower-case letters, digits and hyphens, starting with a letter", o.Name)
	}
	if o.Hook == "" {
		o.Hook = "tally"
	}
	if _, err := scaffoldFS.ReadDir("scaffold/" + o.Hook); err != nil {
		return nil, fmt.Errorf("no template for hook %q yet (available: tally)", o.Hook)
	}
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty", o.Dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if o.Module == "" {
		o.Module = "example.org/" + o.Name
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	_, inModule := moduleRoot(filepath.Dir(abs))
	files := map[string]string{
		"main.go.tmpl": "main.go", "tally.go.tmpl": o.Hook + ".go", "tally_test.go.tmpl": o.Hook + "_test.go",
		"plugin.json.tmpl": "plugin.json", "README.md.tmpl": "README.md",
		"example.input.json.tmpl": "testdata/example.input.json", "example.output.json.tmpl": "testdata/example.output.json",
	}
	if inModule != nil {
		files["go.mod.tmpl"] = "go.mod"
	}
	var written []string
	for src, dst := range files {
		b, err := scaffoldFS.ReadFile("scaffold/" + o.Hook + "/" + src)
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(src).Parse(string(b))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, o); err != nil {
			return nil, err
		}
		p := filepath.Join(o.Dir, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		written = append(written, strings.TrimPrefix(p, o.Dir+string(filepath.Separator)))
	}
	return written, nil
}
