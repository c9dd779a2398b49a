// Package schemas embeds Plenum's JSON Schemas (draft 2020-12) — the plugin
// manifest and each hook's input and output — with examples, and validates
// documents against them, including a plugin's own config schema.
//
// The schemas describe the JSON form of the sdk's Go types (the sdk's
// wire codec carries the same values in binary); the package's tests
// prove that every example validates, decodes strictly into its Go type,
// re-encodes to the same document and survives the wire codec unchanged.
package schemas

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json examples
var files embed.FS

// Names of the schemas. Every hook has an input and an output schema,
// named by InputSchema and OutputSchema.
const (
	Plugin      = "plugin.schema.json"
	TallyInput  = "tally.input.schema.json"
	TallyOutput = "tally.output.schema.json"
)

// defaultSet is every embedded schema, compiled once on first use and
// never changed afterwards.
var defaultSet = sync.OnceValues(Load)

// Compile returns the named embedded schema (e.g. "tally.input.schema.json"),
// compiled; the embedded set is compiled once.
func Compile(name string) (*jsonschema.Schema, error) {
	s, err := defaultSet()
	if err != nil {
		return nil, err
	}
	sch, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("unknown schema %q", name)
	}
	return sch, nil
}

// ValidateJSON checks doc against the named embedded schema. A document
// that does not match wraps ErrInvalid.
func ValidateJSON(schemaName string, doc []byte) error {
	s, err := defaultSet()
	if err != nil {
		return err
	}
	return s.Validate(schemaName, doc)
}

// ValidateManifest checks a plugin manifest (plugin.json) against
// plugin.schema.json. sdk.ParseManifest applies the same rules and more
// (it decodes into the Go type); this is for tools that only have JSON.
func ValidateManifest(doc []byte) error { return ValidateJSON(Plugin, doc) }

// Names returns the names of the embedded schemas.
func Names() []string {
	names, _ := fs.Glob(files, "*.schema.json")
	return names
}

// InputSchema and OutputSchema name the schemas of a hook's input and
// output, e.g. "embargo.input.schema.json".
func InputSchema(hook string) string { return hook + ".input.schema.json" }

// OutputSchema names the schema of a hook's output.
func OutputSchema(hook string) string { return hook + ".output.schema.json" }

// baseURL is the common prefix of the schemas' $id, so that one schema can
// $ref another by its file name.
const baseURL = "https://plenum.dev/schemas/"

// Set is a compiled set of the embedded schemas.
type Set struct {
	byName map[string]*jsonschema.Schema
}

// Load compiles every embedded schema.
func Load() (*Set, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	names, err := fs.Glob(files, "*.schema.json")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, _ := files.ReadFile(n)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", n, err)
		}
		if err := c.AddResource(baseURL+n, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", n, err)
		}
	}
	s := &Set{byName: make(map[string]*jsonschema.Schema, len(names))}
	for _, n := range names {
		sch, err := c.Compile(baseURL + n)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", n, err)
		}
		s.byName[n] = sch
	}
	return s, nil
}

// ErrInvalid is wrapped by validation failures.
var ErrInvalid = errors.New("document does not match its schema")

// Validate checks doc against the named schema. A document that does not
// match wraps ErrInvalid.
func (s *Set) Validate(name string, doc []byte) error {
	sch, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("unknown schema %q", name)
	}
	if err := validate(sch, doc); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ValidateConfig checks a tenant's plugin config against the plugin's own
// config schema (the manifest's config_schema). An empty schema accepts
// only an empty object or nothing.
func ValidateConfig(configSchema, config []byte) error {
	if len(bytes.TrimSpace(configSchema)) == 0 {
		if c := strings.TrimSpace(string(config)); c != "" && c != "{}" && c != "null" {
			return fmt.Errorf("%w: the plugin takes no configuration", ErrInvalid)
		}
		return nil
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(configSchema))
	if err != nil {
		return fmt.Errorf("plugin config schema: %w", err)
	}
	if err := c.AddResource("config.schema.json", doc); err != nil {
		return fmt.Errorf("plugin config schema: %w", err)
	}
	sch, err := c.Compile("config.schema.json")
	if err != nil {
		return fmt.Errorf("plugin config schema: %w", err)
	}
	return validate(sch, config)
}

func validate(sch *jsonschema.Schema, doc []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrInvalid, err)
	}
	if err := sch.Validate(inst); err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		return fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	return nil
}

// Examples returns the example documents directly in examples/dir (e.g.
// "tally", or "tally/elections"), by file name; subdirectories are not
// included.
func Examples(dir string) (map[string][]byte, error) {
	entries, err := fs.ReadDir(files, "examples/"+dir)
	if err != nil {
		return nil, fmt.Errorf("examples %s: %w", dir, err)
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := files.ReadFile("examples/" + dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = b
	}
	return out, nil
}
