package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plenum-vote/plenum/host/tallyfile"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/plugins/count/approval"
	"github.com/plenum-vote/plenum/plugins/count/condorcet"
	"github.com/plenum-vote/plenum/plugins/count/irv"
	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/plugins/count/stv"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// countFunc counts a tally input natively, as a method's library does.
type countFunc func(*sdk.TallyInput) (*sdk.TallyOutput, error)

// nativeMethods returns the counting methods plenum tally runs natively.
func nativeMethods() map[string]countFunc {
	return map[string]countFunc{
		"irv":       irv.Count,
		"stv":       stv.Count,
		"meek":      withVariant(stv.Count, "meek"),
		"plurality": plurality.Count,
		"approval":  approval.Count,
		"condorcet": condorcet.Count,
	}
}

// withVariant counts with the STV variant named, unless the ballot's
// configuration names one.
func withVariant(count countFunc, variant string) countFunc {
	return func(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
		cfg := map[string]any{}
		if len(in.Config) > 0 {
			if err := json.Unmarshal(in.Config, &cfg); err != nil {
				return nil, fmt.Errorf("--config: %w", err)
			}
		}
		if _, ok := cfg["variant"]; !ok {
			cfg["variant"] = variant
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		c := *in
		c.Config = b
		return count(&c)
	}
}

func cmdTally(ctx context.Context, env *cmdEnv, args []string) error {
	methods := nativeMethods()
	names := make([]string, 0, len(methods))
	for m := range methods {
		names = append(names, m)
	}
	sort.Strings(names)
	fs := newFlagSet(env, "tally", "tally [--method irv] [--seats N] [--config JSON] [--format blt|preflib|csv] [--json] [--plugin FILE.wasm] FILE")
	method := fs.String("method", "irv", "counting `method`: "+strings.Join(names, ", ")+" (with --plugin: the rule passed to it)")
	seats := fs.Int("seats", 0, "`number` of seats (default: the file's, or 1)")
	config := fs.String("config", "", "the method's configuration as `JSON`, e.g. '{\"overvote\":\"skip\"}'")
	format := fs.String("format", "", "file `format`: blt, preflib or csv (default: by extension)")
	asJSON := fs.Bool("json", false, "print the tally output as JSON")
	plugin := fs.String("plugin", "", "count with this wasm plugin `file` instead of natively")
	manifest := fs.String("manifest", "", "the plugin's manifest `file` (default: plugin.json beside it, if any)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *seats < 0 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	if *format == "" {
		if *format = tallyfile.FormatOf(path); *format == "" {
			fmt.Fprintf(env.stderr, "plenum tally: cannot tell the format of %s by its extension: give --format\n", path)
			return errUsage
		}
	}
	var cfg json.RawMessage
	if *config != "" {
		if !json.Valid([]byte(*config)) {
			fmt.Fprintln(env.stderr, "plenum tally: --config is not valid JSON")
			return errUsage
		}
		cfg = json.RawMessage(*config)
	}
	count := methods[*method]
	if *plugin == "" && count == nil {
		fmt.Fprintf(env.stderr, "plenum tally: unknown method %q: use %s, or --plugin\n", *method, strings.Join(names, ", "))
		return errUsage
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	prof, err := tallyfile.Parse(f, *format)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	in, err := tallyfile.Input(prof, tallyfile.Options{BallotID: filepath.Base(path), Rule: *method, Seats: *seats, Config: cfg})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var out *sdk.TallyOutput
	if *plugin != "" {
		out, err = tallyWithPlugin(ctx, *plugin, *manifest, in)
	} else {
		out, err = count(in)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printTally(env.stdout, in, out)
}

// tallyWithPlugin counts in with the tally hook of the wasm module in
// path, under its manifest's limits raised to what a large election
// needs.
func tallyWithPlugin(ctx context.Context, path, manifest string, in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	module, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	spec := wasm.PluginSpec{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Hooks: []sdk.Hook{sdk.HookTally}, PoolSize: 1}
	if manifest == "" {
		if p := filepath.Join(filepath.Dir(path), "plugin.json"); fileExists(p) {
			manifest = p
		}
	}
	if manifest != "" {
		m, err := readManifest(manifest)
		if err != nil {
			return nil, err
		}
		spec = specOf(m)
		spec.PoolSize = 1
	}
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{Caps: TallyCaps()})
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, module, spec)
	if err != nil {
		return nil, err
	}
	var w wire.Writer
	in.AppendWire(&w)
	b, err := p.Call(ctx, sdk.HookTally, w.Bytes())
	if err != nil {
		return nil, err
	}
	out := new(sdk.TallyOutput)
	if err := out.ReadWire(wire.NewReader(b)); err != nil {
		return nil, fmt.Errorf("plugin output: %w", err)
	}
	return out, nil
}

// TallyCaps are the runtime's ceilings for counting a ballot file with a
// plugin: all of wasm32's memory, a minute, and inputs of up to 1 GiB.
func TallyCaps() wasm.Caps {
	return wasm.Caps{MaxMemoryPages: sdk.MaxMemoryPages, MaxDeadline: time.Minute, MaxInput: 1 << 30, MaxOutput: 64 << 20}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// printTally writes the rounds as a table (a row per candidate, a column
// per round, "-" once excluded), the notes, and the result.
func printTally(w io.Writer, in *sdk.TallyInput, out *sdk.TallyOutput) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(out.Rounds) > 0 {
		fmt.Fprint(tw, "candidate\t")
		for _, rd := range out.Rounds {
			fmt.Fprintf(tw, "%d\t", rd.Number)
		}
		fmt.Fprintln(tw)
		out2 := map[string]bool{}
		for _, o := range in.Options {
			fmt.Fprintf(tw, "%s\t", o.ID)
			for _, rd := range out.Rounds {
				cell := "-"
				if !out2[o.ID] {
					for _, c := range rd.Counts {
						if c.Choice == o.ID {
							cell = c.Weight.String()
						}
					}
				}
				fmt.Fprintf(tw, "%s\t", cell)
				for _, e := range rd.Eliminated {
					if e == o.ID {
						out2[o.ID] = true
					}
				}
			}
			fmt.Fprintln(tw)
		}
	} else {
		fmt.Fprintln(tw, "candidate\tvotes\t")
		for _, c := range out.Counts {
			fmt.Fprintf(tw, "%s\t%s\t\n", c.Choice, c.Weight)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, rd := range out.Rounds {
		if rd.Note != "" {
			fmt.Fprintf(w, "round %d: %s\n", rd.Number, rd.Note)
		}
	}
	for _, e := range out.Explanation {
		fmt.Fprintln(w, e)
	}
	switch out.Decision {
	case sdk.DecisionElected:
		fmt.Fprintf(w, "elected: %s\n", strings.Join(out.Elected, ", "))
	default:
		fmt.Fprintf(w, "decision: %s\n", out.Decision)
	}
	return nil
}
