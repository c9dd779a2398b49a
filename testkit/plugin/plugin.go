// Package plugin helps test Plenum plugins: it builds a plugin from Go
// source to WebAssembly (cached by content), loads it into a runtime
// configured like the host's, and calls its hooks with Go values.
package plugin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/host/plugintool"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// EnvCache names the directory where built plugins and compiled code are
// cached.
const EnvCache = plugintool.EnvCache

// Build compiles the plugin in dir to wasm (cached) or fails t.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := plugintool.Build(dir)
	if err != nil {
		t.Fatalf("build plugin %s: %v", dir, err)
	}
	return b
}

// NewRuntime returns a runtime configured like the host's, with the
// compilation cache under the plugin cache, closed when t ends.
func NewRuntime(t testing.TB, caps wasm.Caps) *wasm.Runtime {
	t.Helper()
	cache, err := plugintool.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	r, err := wasm.NewRuntime(context.Background(), wasm.RuntimeConfig{CacheDir: filepath.Join(cache, "compiled"), Caps: caps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// Load loads module into r or fails t.
func Load(t testing.TB, r *wasm.Runtime, module []byte, spec wasm.PluginSpec) *wasm.Plugin {
	t.Helper()
	p, err := r.Load(context.Background(), module, spec)
	if err != nil {
		t.Fatalf("load plugin %s: %v", spec.Name, err)
	}
	return p
}

// CallTally calls the tally hook with Go values.
func CallTally(ctx context.Context, p *wasm.Plugin, in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	var w wire.Writer
	in.AppendWire(&w)
	b, err := p.Call(ctx, sdk.HookTally, w.Bytes())
	if err != nil {
		return nil, err
	}
	out := new(sdk.TallyOutput)
	if err := out.ReadWire(wire.NewReader(b)); err != nil {
		return nil, err
	}
	return out, nil
}
