package app

import (
	"context"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
)

// recorder adapts the audit log to the small Recorder interfaces that core
// packages declare, so that they record events without depending on how
// the log stores them.
type recorder struct{ log *audit.Log }

// Record satisfies tenancy.Recorder.
func (r recorder) Record(ctx context.Context, tx *store.Tx, c tenancy.Change) error {
	_, err := r.log.Append(ctx, tx, audit.Event{
		Actor: c.Actor, Action: c.Action, Target: c.Target, Outcome: "success", Details: c.Details,
	})
	return err
}

// identityRecorder satisfies identity.Recorder.
type identityRecorder struct{ log *audit.Log }

// Record appends ev to the chain of tx.
func (r identityRecorder) Record(ctx context.Context, tx *store.Tx, ev identity.Event) error {
	_, err := r.log.Append(ctx, tx, audit.Event{
		Actor: ev.Actor, Action: ev.Action, Target: ev.Target, Outcome: ev.Outcome, Details: ev.Details,
		RequestID: ev.Meta.RequestID, IP: ev.Meta.IP, UserAgent: ev.Meta.UserAgent,
	})
	return err
}
