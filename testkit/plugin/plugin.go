// Package plugin helps test Plenum plugins: it builds a plugin from Go
// source to WebAssembly (cached by content), loads it into a runtime
// configured like the host's, and calls its hooks.
package plugin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// NewRuntime returns a runtime configured like the host's
// (wasm.HostRuntimeConfig) with the operator caps caps and the compilation
// cache under CacheDir(), closed when t ends.
func NewRuntime(t testing.TB, caps wasm.Caps) *wasm.Runtime {
	t.Helper()
	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := wasm.HostRuntimeConfig()
	cfg.Caps = caps
	cfg.CacheDir = filepath.Join(cache, "compiled")
	r, err := wasm.NewRuntime(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// Load loads module into r or fails t. Use NewRuntime(t, wasm.Caps{}) for
// the host's defaults.
func Load(t testing.TB, r *wasm.Runtime, module []byte, spec wasm.PluginSpec) *wasm.Plugin {
	t.Helper()
	p, err := r.Load(context.Background(), module, spec)
	if err != nil {
		t.Fatalf("load plugin %s: %v", spec.Name, err)
	}
	return p
}

// Call calls hook h of p with the wire-encoded input in and returns its
// output, or fails t.
func Call(t testing.TB, p *wasm.Plugin, h sdk.Hook, in []byte) []byte {
	t.Helper()
	out, err := p.Call(context.Background(), h, in)
	if err != nil {
		t.Fatalf("call %s: %v", h, err)
	}
	return out
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
