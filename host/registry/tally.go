package registry

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
)

// Tallier counts ballots with the tally plugin each ballot names (its
// method), in the newest installed version the tenant may use: one the
// operator installed, or the tenant's own. When the tenant has bound that
// plugin to the tally hook, its config there is the plugin's config. It
// implements voting.Tallier.
type Tallier struct{ r *Runner }

// Tallier returns the runner's tallier.
func (r *Runner) Tallier() *Tallier { return &Tallier{r: r} }

// Version returns the newest installed version of the method plugin.
func (t *Tallier) Version(ctx context.Context, tenantID, method string) (string, error) {
	return t.r.reg.Latest(ctx, tenantID, method)
}

// Tally runs the method plugin's tally hook, in the version given (the
// one frozen when the ballot opened) or the newest.
func (t *Tallier) Tally(ctx context.Context, tenantID, method, version string, in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	b, err := t.call(ctx, tenantID, method, version, sdk.HookTally, sdk.Encode(in))
	if err != nil {
		return nil, err
	}
	out := new(sdk.TallyOutput)
	if err := sdk.Decode(b, out); err != nil {
		return nil, fmt.Errorf("%s tally output: %w", method, err)
	}
	return out, nil
}

// Validate runs the method plugin's validate_ballot hook.
func (t *Tallier) Validate(ctx context.Context, tenantID, method string, in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	b, err := t.call(ctx, tenantID, method, "", sdk.HookValidateBallot, sdk.Encode(in))
	if err != nil {
		return nil, err
	}
	out := new(sdk.ValidateBallotOutput)
	if err := sdk.Decode(b, out); err != nil {
		return nil, fmt.Errorf("%s validation output: %w", method, err)
	}
	return out, nil
}

func (t *Tallier) call(ctx context.Context, tenantID, method, version string, hook sdk.Hook, in []byte) ([]byte, error) {
	if version == "" {
		var err error
		if version, err = t.r.reg.Latest(ctx, tenantID, method); err != nil {
			return nil, err
		}
	} else if _, err := t.r.reg.Get(ctx, method, version); err != nil {
		return nil, fmt.Errorf("%w: %s %s, with which the ballot opened, is no longer installed", ErrNoPlugin, method, version)
	}
	return t.r.callNamed(ctx, tenantID, method, version, hook, sdk.HookTally, in)
}

// callNamed calls a named plugin version for a tenant that need not be
// bound to the hook; when the tenant has bound that plugin to configHook,
// its config there is passed. Failures are recorded like Call's.
func (r *Runner) callNamed(ctx context.Context, tenantID, name, version string, hook, configHook sdk.Hook, in []byte) ([]byte, error) {
	binding := &Binding{Hook: hook.String(), PluginName: name, PluginVersion: version}
	binding.TenantID = tenantID
	bs, err := r.reg.Bindings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if b.Hook == configHook.String() && b.PluginName == name {
			binding.Config = b.Config
		}
	}
	p, err := r.plugin(ctx, name, version)
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

// Latest returns the newest version of the named plugin, installed by the
// operator, that implements the tally hook. A tenant's private plugin
// never counts a ballot: it would see the choices of secret ballots.
func (r *Registry) Latest(ctx context.Context, tenantID, name string) (string, error) {
	return r.latest(ctx, name, sdk.HookTally)
}

// latest returns the newest operator-installed version of the named
// plugin implementing hook.
func (r *Registry) latest(ctx context.Context, name string, hook sdk.Hook) (string, error) {
	all, err := r.List(ctx)
	if err != nil {
		return "", err
	}
	best := ""
	for _, p := range all {
		if p.Name != name || p.OwnerTenantID != nil {
			continue
		}
		m, err := sdk.ParseManifest([]byte(p.Manifest))
		if err != nil || !implements(m, hook) {
			continue
		}
		if best == "" || semverLess(best, p.Version) {
			best = p.Version
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w: no %s plugin %q is installed", ErrNoPlugin, hook, name)
	}
	return best, nil
}

// semverLess compares two semantic versions by their numeric core, then
// a release above a pre-release.
func semverLess(a, b string) bool {
	ca, pa, _ := strings.Cut(a, "-")
	cb, pb, _ := strings.Cut(b, "-")
	na, nb := strings.Split(ca, "."), strings.Split(cb, ".")
	for i := 0; i < len(na) && i < len(nb); i++ {
		x, _ := strconv.Atoi(na[i])
		y, _ := strconv.Atoi(nb[i])
		if x != y {
			return x < y
		}
	}
	if (pa == "") != (pb == "") {
		return pa != ""
	}
	return pa < pb
}

func implements(m *sdk.Manifest, h sdk.Hook) bool {
	for _, x := range m.Hooks {
		if x == h.String() {
			return true
		}
	}
	return false
}
