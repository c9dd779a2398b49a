package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/plenum-vote/plenum/sdk"
)

const day = 24 * 60 * 60

// config holds the tenant's periods, within the operator's bounds (the
// config schema).
type config struct {
	GraceDays      int64   `json:"grace_days"`       // after deletion; default 30
	InactiveDays   int64   `json:"inactive_days"`    // workspace inactivity; default 180
	BackupDays     int64   `json:"backup_days"`      // default 30
	SessionDays    int64   `json:"session_days"`     // idle sessions; default 30
	BallotYears    int64   `json:"ballot_years"`     // after close; default 10
	AuditYears     int64   `json:"audit_years"`      // default 10
	WarnDaysBefore []int64 `json:"warn_days_before"` // default [30, 7]
}

var (
	lastRaw []byte
	cfg     config
	output  sdk.RetentionOutput
)

func load(raw []byte) error {
	if cfg.GraceDays != 0 && bytes.Equal(raw, lastRaw) {
		return nil
	}
	c := config{GraceDays: 30, InactiveDays: 180, BackupDays: 30, SessionDays: 30, BallotYears: 10, AuditYears: 10, WarnDaysBefore: []int64{30, 7}}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if c.GraceDays <= 0 || c.GraceDays > 30 {
		return fmt.Errorf("config: grace_days %d must be 1 to 30 (the platform promises deletion within 30 days)", c.GraceDays)
	}
	cfg, lastRaw = c, append(lastRaw[:0], raw...)
	return nil
}

func sweep(in *sdk.RetentionInput) (*sdk.RetentionOutput, error) {
	if err := load(sdk.Config()); err != nil {
		return nil, err
	}
	out := &output
	out.Decisions = out.Decisions[:0]
	for i := range in.Records {
		out.Decisions = append(out.Decisions, decide(in.Now, &in.Records[i]))
	}
	return out, nil
}

func decide(now int64, r *sdk.RetentionRecord) sdk.RetentionDecision {
	d := sdk.RetentionDecision{ID: r.ID}
	if r.LegalHold {
		d.Action, d.At, d.Reason = "keep", now+day, "legal hold"
		return d
	}
	if r.Deleted > 0 {
		at := r.Deleted + cfg.GraceDays*day
		switch r.Class {
		case "tenant":
			d.Action, d.Reason = "crypto_shred", "workspace deleted: its key is destroyed after the grace period"
		case "user":
			d.Action, d.Reason = "anonymise", "account deleted: personal data removed, votes stay countable"
		default:
			d.Action, d.Reason = "delete", "deleted: removed after the grace period"
		}
		d.At = at
		return due(now, d)
	}
	switch r.Class {
	case "tenant":
		last := max(r.LastActivity, r.Created)
		end := last + cfg.InactiveDays*day
		for _, before := range cfg.WarnDaysBefore {
			warn := end - before*day
			if now >= warn && now < warn+day {
				return sdk.RetentionDecision{ID: r.ID, Action: "warn", At: warn, Reason: fmt.Sprintf("inactive workspace: deletion in %d days", before)}
			}
		}
		d.Action, d.At, d.Reason = "delete", end, "workspace inactive for "+itoa(cfg.InactiveDays)+" days"
	case "backup":
		d.Action, d.At, d.Reason = "delete", r.Created+cfg.BackupDays*day, "backups are kept "+itoa(cfg.BackupDays)+" days"
	case "session":
		d.Action, d.At, d.Reason = "delete", max(r.LastActivity, r.Created)+cfg.SessionDays*day, "idle session"
	case "ballot", "vote_record":
		if r.Closed == 0 {
			d.Action, d.At, d.Reason = "keep", now+day, "ballot still open"
			return d
		}
		d.Action, d.At, d.Reason = "delete", r.Closed+cfg.BallotYears*365*day, "statutory period after the ballot closed"
	case "audit_event":
		d.Action, d.At, d.Reason = "delete", r.Created+cfg.AuditYears*365*day, "audit retention period"
	default:
		d.Action, d.At, d.Reason = "keep", now+day, "kept while the workspace exists"
		return d
	}
	return due(now, d)
}

// due turns a future deletion into "keep until then".
func due(now int64, d sdk.RetentionDecision) sdk.RetentionDecision {
	if now < d.At {
		return sdk.RetentionDecision{ID: d.ID, Action: "keep", At: d.At, Reason: "until " + d.Action + ": " + d.Reason}
	}
	return d
}

func itoa(v int64) string { return fmt.Sprint(v) }
