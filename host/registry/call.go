package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
)

// ErrNoPlugin is returned by Call when the tenant has no plugin for the
// hook. The caller applies the hook's default (wasm.DefaultPolicy for a
// failure; for a missing plugin, whatever the feature defines).
var ErrNoPlugin = errors.New("no plugin enabled for this hook")

// Runner calls tenants' plugins: it loads each installed plugin version
// into the wasm runtime once, calls it with the tenant's config, and
// records every failure in the tenant's audit log.
type Runner struct {
	reg *Registry
	rt  *wasm.Runtime

	mu     sync.Mutex
	loaded map[string]*loading
}

type loading struct {
	done chan struct{}
	p    *wasm.Plugin
	err  error
}

// NewRunner returns a runner over rt.
func NewRunner(reg *Registry, rt *wasm.Runtime) *Runner {
	return &Runner{reg: reg, rt: rt, loaded: make(map[string]*loading)}
}

// Call runs the tenant's plugin for hook on in (wire-encoded). A failure
// is returned as the wasm error and recorded as a "plugin.failure" audit
// event on the tenant's chain.
func (r *Runner) Call(ctx context.Context, tenantID string, hook sdk.Hook, in []byte) ([]byte, error) {
	var binding *Binding
	bs, err := r.reg.Bindings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		if bs[i].Hook == hook.String() {
			binding = &bs[i]
		}
	}
	if binding == nil {
		return nil, ErrNoPlugin
	}
	p, err := r.plugin(ctx, binding.PluginName, binding.PluginVersion)
	if err != nil {
		r.recordFailure(ctx, tenantID, binding, hook, err)
		return nil, err
	}
	out, err := p.CallFor(ctx, hook, in, wasm.Caller{TenantID: tenantID, Config: []byte(binding.Config)})
	if err != nil {
		r.recordFailure(ctx, tenantID, binding, hook, err)
		return nil, err
	}
	return out, nil
}

// plugin returns the loaded plugin, loading it once even under concurrent
// first calls.
func (r *Runner) plugin(ctx context.Context, name, version string) (*wasm.Plugin, error) {
	key := name + "@" + version
	r.mu.Lock()
	l, ok := r.loaded[key]
	if !ok {
		l = &loading{done: make(chan struct{})}
		r.loaded[key] = l
	}
	r.mu.Unlock()
	if !ok {
		l.p, l.err = r.load(ctx, name, version)
		close(l.done)
		if l.err != nil {
			r.mu.Lock()
			delete(r.loaded, key) // let a later call try again
			r.mu.Unlock()
		}
	}
	select {
	case <-l.done:
		return l.p, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Runner) load(ctx context.Context, name, version string) (*wasm.Plugin, error) {
	inst, err := r.reg.Get(ctx, name, version)
	if err != nil {
		return nil, err
	}
	m, err := sdk.ParseManifest([]byte(inst.Manifest))
	if err != nil {
		return nil, err
	}
	spec := wasm.PluginSpec{
		Name: m.Name, Version: m.Version, Capabilities: m.Capabilities,
		Limits: wasm.Limits{
			MemoryPages: m.Limits.MemoryPages, Deadline: time.Duration(m.Limits.DeadlineMS) * time.Millisecond,
			MaxInput: m.Limits.MaxInputBytes, MaxOutput: m.Limits.MaxOutputBytes, MaxLogBytes: m.Limits.MaxLogBytes,
		},
	}
	if inst.OwnerTenantID != nil {
		spec = strictest(spec)
	}
	p, err := r.rt.Load(ctx, inst.Module, spec)
	if err != nil {
		return nil, fmt.Errorf("load %s %s: %w", name, version, err)
	}
	return p, nil
}

// strictest clamps a tenant-uploaded private plugin: little memory, a
// short deadline, small inputs and outputs, and no capability but its
// config.
func strictest(s wasm.PluginSpec) wasm.PluginSpec {
	s.Limits = wasm.Limits{MemoryPages: 128, Deadline: 100 * time.Millisecond, MaxInput: 1 << 20, MaxOutput: 256 << 10, MaxLogBytes: 0}
	var caps []string
	for _, c := range s.Capabilities {
		if c == wasm.CapConfig {
			caps = append(caps, c)
		}
	}
	s.Capabilities = caps
	s.PoolSize = 1
	return s
}

// recordFailure writes a plugin failure to the tenant's audit log in a
// transaction of its own (the failed operation itself left nothing). The
// guest's message is not recorded: it is untrusted and may carry data.
func (r *Runner) recordFailure(ctx context.Context, tenantID string, b *Binding, hook sdk.Hook, cause error) {
	kind := "error"
	var ce *wasm.CallError
	if errors.As(cause, &ce) {
		kind = ce.Kind.Error()
	}
	s, err := r.reg.db.Scoped(tenantID)
	if err != nil {
		return
	}
	_ = s.Tx(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		_, err := r.reg.log.Append(ctx, tx, audit.Event{
			Actor: "plugin:" + b.PluginName + "@" + b.PluginVersion, Action: "plugin.failure", Target: "hook:" + hook.String(),
			Outcome: audit.Failure, Details: map[string]string{"kind": kind},
		})
		return err
	})
}
