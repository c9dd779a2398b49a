package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/sdk"
)

// DefaultRetention is the plugin that decides retention for a tenant that
// has bound none: the platform's promises (plugins/retention-default).
const DefaultRetention = "retention-default"

// Retention decides what the retention sweep keeps and removes, with the
// tenant's retention plugin or, when it has none, the operator's
// DefaultRetention. It implements lifecycle.Policy; every failure is an
// error, so that the sweep deletes nothing (fails closed).
type Retention struct{ r *Runner }

// Retention returns the runner's retention policy.
func (r *Runner) Retention() *Retention { return &Retention{r: r} }

// Decide runs the retention hook on a batch of records.
func (p *Retention) Decide(ctx context.Context, tenantID string, in *sdk.RetentionInput) (*sdk.RetentionOutput, error) {
	b, err := p.r.Call(ctx, tenantID, sdk.HookRetention, sdk.Encode(in))
	if errors.Is(err, ErrNoPlugin) {
		version, lerr := p.r.reg.latest(ctx, DefaultRetention, sdk.HookRetention)
		if lerr != nil {
			return nil, fmt.Errorf("retention: %w", lerr)
		}
		b, err = p.r.callNamed(ctx, tenantID, DefaultRetention, version, sdk.HookRetention, sdk.HookRetention, sdk.Encode(in))
	}
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	out := new(sdk.RetentionOutput)
	if err := sdk.Decode(b, out); err != nil {
		return nil, fmt.Errorf("retention output: %w", err)
	}
	return out, nil
}
