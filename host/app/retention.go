package app

import (
	"context"
	"time"

	"github.com/plenum-vote/plenum/core/lifecycle"
)

// sweepEvery is how often serve runs the retention sweep.
const sweepEvery = 24 * time.Hour

// Sweeper returns the retention sweep over the host's tenants, deciding
// with each tenant's retention plugin or the operator's retention-default.
func (a *App) Sweeper(now func() time.Time) *lifecycle.Sweeper {
	return lifecycle.NewSweeper(a.DB, a.Keys, a.Audit, a.Runner.Retention(), now)
}

// retentionLoop sweeps once a day; a failed policy deletes nothing for
// its tenant and is logged as an error.
func (a *App) retentionLoop(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rep, err := a.Sweeper(nil).Sweep(ctx, false)
			if err != nil && ctx.Err() == nil {
				a.Logger.Error("retention sweep", "error", err)
			}
			if rep != nil {
				a.Logger.Info("retention sweep", "tenants", len(rep.Tenants), "shredded", len(rep.Shredded), "errors", len(rep.Errors))
			}
		}
	}
}
