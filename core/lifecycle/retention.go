package lifecycle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/sdk"
)

// BatchSize is the largest number of records the sweep sends to the
// policy in one call.
const BatchSize = 500

// Policy decides what happens to a tenant's records. The host implements
// it with the tenant's retention plugin (the "retention" hook).
type Policy interface {
	Decide(ctx context.Context, tenantID string, in *sdk.RetentionInput) (*sdk.RetentionOutput, error)
}

// Shredder destroys a tenant's data key inside a system transaction
// (*crypto.Keyring).
type Shredder interface {
	Destroy(ctx context.Context, tx bun.Tx, scope string) error
}

// Recorder appends an event to a chain in a transaction of its own
// (*audit.Log).
type Recorder interface {
	Record(ctx context.Context, tenantID string, ev audit.Event) error
}

// Sweeper applies the retention policy to every tenant's records.
type Sweeper struct {
	db     *store.DB
	keys   Shredder
	log    Recorder
	policy Policy
	now    func() time.Time
}

// NewSweeper returns a Sweeper. now may be nil for time.Now.
func NewSweeper(db *store.DB, keys Shredder, log Recorder, policy Policy, now func() time.Time) *Sweeper {
	if now == nil {
		now = time.Now
	}
	return &Sweeper{db: db, keys: keys, log: log, policy: policy, now: now}
}

// Report says what a sweep did or, on a dry run, would do.
type Report struct {
	// DryRun is set when nothing was changed.
	DryRun bool
	// Now is the sweep's clock.
	Now time.Time
	// Tenants holds one entry per tenant swept, ordered by id.
	Tenants []TenantReport
	// Shredded lists the tenants whose data key was destroyed (on a dry
	// run: would be destroyed).
	Shredded []string
	// Skipped lists the tenants whose key was already destroyed: their
	// data can no longer be read and they are not swept.
	Skipped []string
	// Errors describes every failure; the sweep went on after each.
	Errors []string
}

// TenantReport counts one tenant's decisions.
type TenantReport struct {
	TenantID string
	// Decisions counts the policy's decisions by class and action. A
	// decision that is not due yet (At after the sweep's clock) is
	// counted as keep: nothing is done to the record now.
	Decisions map[string]map[string]int
	// Deleted counts the rows deleted per class (zero on a dry run). It
	// can be lower than the delete decisions when a record changed since
	// it was read (a session used again, a ballot reopened).
	Deleted map[string]int64
	// Refused counts decisions to destroy a tenant that is not deleted.
	Refused int
	// Ignored counts decisions for records that were not asked about, or
	// a second decision for the same record.
	Ignored int
	// Invalid counts decisions with an unknown action or one that does
	// not apply to the record's class; nothing is done for them.
	Invalid int
	// Failed is set when the policy, or reading the records to ask it
	// about, failed: nothing was done for the tenant.
	Failed bool
}

// ballotDone are the states in which a ballot's retention period runs.
var ballotDone = []string{"closed", "tallied", "published"}

type sessionRow struct {
	bun.BaseModel `bun:"table:user_sessions"`
	store.Owned
	ID         string    `bun:"id,pk"`
	CreatedAt  time.Time `bun:"created_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
}

type ballotRow struct {
	bun.BaseModel `bun:"table:ballots"`
	store.Owned
	ID        string     `bun:"id,pk"`
	CreatedAt time.Time  `bun:"created_at"`
	ClosedAt  *time.Time `bun:"closed_at"`
}

// plan is what the policy decided for one tenant, before anything is
// applied.
type plan struct {
	tenant   *tenancy.Tenant
	now      int64
	report   TenantReport
	sessions []sdk.RetentionRecord
	ballots  []string
	shred    bool
}

// Sweep asks the policy about every tenant's records (the tenant itself,
// its sessions and its closed ballots) and applies the decisions that are
// due: expired sessions and ballots are deleted (a ballot's rights, votes
// and resolutions go with it), and a deleted tenant's data key is
// destroyed. With dryRun nothing is changed and nothing is recorded; the
// Report says what would be done.
//
// # Notes
//
// The sweep fails closed per tenant: the policy is asked about all of a
// tenant's records before anything is applied, and when it fails nothing
// is done for that tenant. The sweep goes on with the next tenant and
// returns every failure joined, together with the Report.
//
// A tenant whose Status is not deleted is never destroyed, whatever the
// policy says; such decisions are counted as refused.
//
// Each applied sweep records one "retention.sweep" event per tenant,
// holding counts only (outcome failure when the policy failed or a step
// did). Once a tenant's key is destroyed its own chain is no longer
// written: the event goes to the platform chain instead, with the tenant
// as target. Tenants whose key was destroyed earlier are skipped
// altogether; removing their unreadable rows is not the sweep's work.
//
// Records carry no legal hold yet (nothing stores one), and proxies
// naming a deleted ballot stay: proxies.ballot_id is not a foreign key.
func (s *Sweeper) Sweep(ctx context.Context, dryRun bool) (*Report, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var tenants []tenancy.Tenant
	err := s.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&tenants).Order("id").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("retention sweep: list tenants: %w", err)
	}
	rep := &Report{DryRun: dryRun, Now: now}
	var errs []error
	for i := range tenants {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		t := &tenants[i]
		if t.KeyDestroyedAt != nil {
			rep.Skipped = append(rep.Skipped, t.ID)
			continue
		}
		tr, err := s.sweepTenant(ctx, t, now, dryRun, rep)
		rep.Tenants = append(rep.Tenants, tr)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
		}
	}
	for _, err := range errs {
		rep.Errors = append(rep.Errors, err.Error())
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("retention sweep: %w", err)
	}
	return rep, nil
}

// sweepTenant decides and, unless dryRun, applies and records.
func (s *Sweeper) sweepTenant(ctx context.Context, t *tenancy.Tenant, now time.Time, dryRun bool, rep *Report) (TenantReport, error) {
	p := &plan{tenant: t, now: now.Unix(), report: TenantReport{
		TenantID: t.ID, Decisions: map[string]map[string]int{}, Deleted: map[string]int64{},
	}}
	if err := s.decideAll(ctx, p); err != nil {
		p.report.Failed = true
		if !dryRun {
			err = errors.Join(err, s.record(ctx, t.ID, t.ID, audit.Failure, map[string]string{"failed": "decide"}))
		}
		return p.report, err
	}
	var errs []error
	if p.report.Invalid > 0 {
		errs = append(errs, fmt.Errorf("%d decisions with an unknown or inapplicable action", p.report.Invalid))
	}
	if dryRun {
		if p.shred {
			rep.Shredded = append(rep.Shredded, t.ID)
		}
		return p.report, errors.Join(errs...)
	}
	if err := s.deleteRows(ctx, p); err != nil {
		errs = append(errs, err)
	}
	chain := t.ID
	details := p.details()
	if p.shred {
		switch err := s.shred(ctx, t.ID, now); {
		case errors.Is(err, errNotDeleted):
			p.report.Refused++
			details = p.details()
		case errors.Is(err, errShredded):
			// Another sweep destroyed it since the tenant was read.
			chain = audit.PlatformChain
		case err != nil:
			errs = append(errs, err)
		default:
			rep.Shredded = append(rep.Shredded, t.ID)
			chain = audit.PlatformChain
			details["key_destroyed"] = "true"
		}
	}
	outcome := audit.Success
	if len(errs) > 0 {
		outcome = audit.Failure
	}
	if err := s.record(ctx, chain, t.ID, outcome, details); err != nil {
		errs = append(errs, err)
	}
	return p.report, errors.Join(errs...)
}

// decideAll asks the policy about the tenant, its sessions and its closed
// ballots, in batches of one class each so that an id names one record.
func (s *Sweeper) decideAll(ctx context.Context, p *plan) error {
	sc, err := s.db.Scoped(p.tenant.ID)
	if err != nil {
		return err
	}
	tr := sdk.RetentionRecord{Class: sdk.ClassTenant, ID: p.tenant.ID, Created: p.tenant.CreatedAt.Unix(), LastActivity: p.tenant.CreatedAt.Unix()}
	if p.tenant.DeletedAt != nil {
		tr.Deleted = p.tenant.DeletedAt.Unix()
	}
	err = sc.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var last sessionRow
		err := tx.Select(&last).Column("last_seen_at").Order("last_seen_at DESC").Limit(1).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read last activity: %w", err)
		default:
			tr.LastActivity = max(tr.LastActivity, last.LastSeenAt.Unix())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.decide(ctx, p, []sdk.RetentionRecord{tr}); err != nil {
		return err
	}
	for after := ""; ; {
		var rows []sessionRow
		err := sc.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.Select(&rows).Column("id", "created_at", "last_seen_at").
				Where("id > ?", after).Order("id").Limit(BatchSize).Scan(ctx)
		})
		if err != nil {
			return fmt.Errorf("read sessions: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		recs := make([]sdk.RetentionRecord, len(rows))
		for i, r := range rows {
			recs[i] = sdk.RetentionRecord{Class: sdk.ClassSession, ID: r.ID, Created: r.CreatedAt.Unix(), LastActivity: r.LastSeenAt.Unix()}
		}
		if err := s.decide(ctx, p, recs); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
	}
	for after := ""; ; {
		var rows []ballotRow
		err := sc.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.Select(&rows).Column("id", "created_at", "closed_at").
				Where("state IN (?)", bun.In(ballotDone)).Where("id > ?", after).Order("id").Limit(BatchSize).Scan(ctx)
		})
		if err != nil {
			return fmt.Errorf("read ballots: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		recs := make([]sdk.RetentionRecord, len(rows))
		for i, r := range rows {
			recs[i] = sdk.RetentionRecord{Class: sdk.ClassBallot, ID: r.ID, Created: r.CreatedAt.Unix()}
			if r.ClosedAt != nil {
				recs[i].Closed = r.ClosedAt.Unix()
			}
		}
		if err := s.decide(ctx, p, recs); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
	}
	return nil
}

// decide asks the policy about one batch of records of one class and adds
// its decisions to p.
func (s *Sweeper) decide(ctx context.Context, p *plan, recs []sdk.RetentionRecord) error {
	out, err := s.policy.Decide(ctx, p.tenant.ID, &sdk.RetentionInput{Now: p.now, Records: recs})
	if err != nil {
		return fmt.Errorf("retention policy: %w", err)
	}
	if out == nil {
		return errors.New("retention policy: no output")
	}
	asked := make(map[string]int, len(recs))
	for i := range recs {
		asked[recs[i].ID] = i
	}
	for _, d := range out.Decisions {
		i, ok := asked[d.ID]
		if !ok {
			p.report.Ignored++
			continue
		}
		delete(asked, d.ID)
		p.add(&recs[i], d)
	}
	return nil
}

// add plans one decision about rec.
func (p *plan) add(rec *sdk.RetentionRecord, d sdk.RetentionDecision) {
	action := d.Action
	switch action {
	case sdk.ActionKeep, sdk.ActionWarn, sdk.ActionDelete, sdk.ActionCryptoShred, sdk.ActionAnonymise:
	default:
		p.report.Invalid++
		return
	}
	if d.At > p.now {
		action = sdk.ActionKeep
	}
	switch {
	case action == sdk.ActionKeep || action == sdk.ActionWarn:
	case rec.Class == sdk.ClassSession && action == sdk.ActionDelete:
		p.sessions = append(p.sessions, *rec)
	case rec.Class == sdk.ClassBallot && action == sdk.ActionDelete:
		p.ballots = append(p.ballots, rec.ID)
	case rec.Class == sdk.ClassTenant && (action == sdk.ActionDelete || action == sdk.ActionCryptoShred):
		if p.tenant.Status != tenancy.Deleted {
			p.report.Refused++
			return
		}
		p.shred = true
	default:
		p.report.Invalid++
		return
	}
	byAction := p.report.Decisions[rec.Class]
	if byAction == nil {
		byAction = map[string]int{}
		p.report.Decisions[rec.Class] = byAction
	}
	byAction[action]++
}

// details are the audit event's counts: "class.action" decisions,
// "class.deleted" rows and the refused, ignored and invalid decisions.
func (p *plan) details() map[string]string {
	d := map[string]string{}
	for class, byAction := range p.report.Decisions {
		for action, n := range byAction {
			d[class+"."+action] = strconv.Itoa(n)
		}
	}
	for class, n := range p.report.Deleted {
		d[class+".deleted"] = strconv.FormatInt(n, 10)
	}
	for k, n := range map[string]int{"refused": p.report.Refused, "ignored": p.report.Ignored, "invalid": p.report.Invalid} {
		if n > 0 {
			d[k] = strconv.Itoa(n)
		}
	}
	return d
}

// deleteRows deletes the planned sessions and ballots in one transaction.
// A session is deleted only if it was not used since it was read, a
// ballot only while it is still closed.
func (s *Sweeper) deleteRows(ctx context.Context, p *plan) error {
	if len(p.sessions) == 0 && len(p.ballots) == 0 {
		return nil
	}
	sc, err := s.db.Scoped(p.tenant.ID)
	if err != nil {
		return err
	}
	deleted := map[string]int64{}
	err = sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
		clear(deleted)
		for start := 0; start < len(p.sessions); start += BatchSize {
			chunk := p.sessions[start:min(start+BatchSize, len(p.sessions))]
			ids := make([]string, len(chunk))
			var seen int64
			for i := range chunk {
				ids[i], seen = chunk[i].ID, max(seen, chunk[i].LastActivity)
			}
			res, err := tx.Delete((*sessionRow)(nil)).Where("id IN (?)", bun.In(ids)).
				Where("last_seen_at < ?", time.Unix(seen+1, 0).UTC()).Exec(ctx)
			if err != nil {
				return fmt.Errorf("delete sessions: %w", err)
			}
			n, _ := res.RowsAffected()
			deleted[sdk.ClassSession] += n
		}
		for start := 0; start < len(p.ballots); start += BatchSize {
			ids := p.ballots[start:min(start+BatchSize, len(p.ballots))]
			res, err := tx.Delete((*ballotRow)(nil)).Where("id IN (?)", bun.In(ids)).
				Where("state IN (?)", bun.In(ballotDone)).Exec(ctx)
			if err != nil {
				return fmt.Errorf("delete ballots: %w", err)
			}
			n, _ := res.RowsAffected()
			deleted[sdk.ClassBallot] += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	for class, n := range deleted {
		p.report.Deleted[class] = n
	}
	return nil
}

// Outcomes of shred that are not failures.
var (
	// errNotDeleted refuses to destroy the key of a tenant that is not
	// deleted.
	errNotDeleted = errors.New("tenant is not deleted")
	// errShredded reports a key destroyed since the tenant was read.
	errShredded = errors.New("tenant key already destroyed")
)

// shred destroys the tenant's data key and stamps key_destroyed_at, after
// checking again, under lock, that the tenant is deleted.
func (s *Sweeper) shred(ctx context.Context, tenantID string, now time.Time) error {
	err := s.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t := new(tenancy.Tenant)
		q := tx.NewSelect().Model(t).Where("id = ?", tenantID)
		if s.db.Dialect() == store.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("read tenant: %w", err)
		}
		if t.Status != tenancy.Deleted {
			return errNotDeleted
		}
		if t.KeyDestroyedAt != nil {
			return errShredded
		}
		if err := s.keys.Destroy(ctx, tx, tenantID); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model((*tenancy.Tenant)(nil)).Set("key_destroyed_at = ?", now).
			Where("id = ?", tenantID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark key destroyed: %w", err)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNotDeleted) && !errors.Is(err, errShredded) {
		return fmt.Errorf("destroy tenant key: %w", err)
	}
	return err
}

// record writes the sweep's event about tenantID to chain.
func (s *Sweeper) record(ctx context.Context, chain, tenantID, outcome string, details map[string]string) error {
	ev := audit.Event{Actor: "system", Action: "retention.sweep", Target: "tenant:" + tenantID, Outcome: outcome, Details: details}
	if err := s.log.Record(ctx, chain, ev); err != nil {
		return fmt.Errorf("record sweep: %w", err)
	}
	return nil
}
