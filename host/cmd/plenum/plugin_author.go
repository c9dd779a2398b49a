package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/plenum-vote/plenum/host/plugintool"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

func pluginNew(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin new", "plugin new DIR [--hook tally] [--name NAME] [--module PATH] [--plenum PATH]")
	hook := fs.String("hook", "tally", "the `hook` the plugin implements")
	name := fs.String("name", "", "plugin `name` (default: the directory's name)")
	module := fs.String("module", "", "Go module `path` for a standalone plugin (default example.org/NAME)")
	replace := fs.String("plenum", "", "`path` of a local Plenum checkout to build against (adds a replace directive)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if *replace != "" {
		abs, err := filepath.Abs(*replace)
		if err != nil {
			return err
		}
		*replace = abs
	}
	files, err := plugintool.New(plugintool.NewOptions{Dir: fs.Arg(0), Name: *name, Hook: *hook, Module: *module, Replace: *replace})
	if err != nil {
		return err
	}
	sort.Strings(files)
	fmt.Fprintf(env.stdout, "created %s:\n  %s\nnext: cd %s && go mod tidy && go test ./... && plenum plugin test .\n", fs.Arg(0), strings.Join(files, "\n  "), fs.Arg(0))
	return nil
}

func pluginTest(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin test", "plugin test DIR")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	dir := fs.Arg(0)
	m, err := readManifest(filepath.Join(dir, "plugin.json"))
	if err != nil {
		return err
	}
	module, err := plugintool.Build(dir)
	if err != nil {
		return err
	}
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	spec := specOf(m)
	p, err := rt.Load(ctx, module, spec)
	if err != nil {
		return err
	}
	inputs, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.input.json"))
	if len(inputs) == 0 {
		return fmt.Errorf("no fixtures: add testdata/NAME.input.json and NAME.output.json")
	}
	failed := 0
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input.json")
		got, err := runFixture(ctx, p, in)
		if err != nil {
			fmt.Fprintf(env.stdout, "FAIL %s: %v\n", name, err)
			failed++
			continue
		}
		want, err := os.ReadFile(strings.TrimSuffix(in, ".input.json") + ".output.json")
		if err != nil {
			fmt.Fprintf(env.stdout, "FAIL %s: %v\n", name, err)
			failed++
			continue
		}
		var a, b any
		if err := json.Unmarshal(want, &a); err != nil {
			fmt.Fprintf(env.stdout, "FAIL %s: expected output: %v\n", name, err)
			failed++
			continue
		}
		json.Unmarshal(got, &b)
		if !reflect.DeepEqual(a, b) {
			fmt.Fprintf(env.stdout, "FAIL %s:\n  got  %s\n  want %s\n", name, got, bytes.TrimSpace(want))
			failed++
			continue
		}
		fmt.Fprintf(env.stdout, "ok   %s\n", name)
	}
	fmt.Fprintf(env.stdout, "%d passed, %d failed\n", len(inputs)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d fixtures failed", failed)
	}
	return nil
}

// runFixture calls the plugin's tally hook with the JSON input in path and
// returns the output as JSON.
func runFixture(ctx context.Context, p *wasm.Plugin, path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var in sdk.TallyInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	var w wire.Writer
	in.AppendWire(&w)
	outb, err := p.Call(ctx, sdk.HookTally, w.Bytes())
	if err != nil {
		return nil, err
	}
	var out sdk.TallyOutput
	if err := out.ReadWire(wire.NewReader(outb)); err != nil {
		return nil, err
	}
	return json.Marshal(&out)
}
