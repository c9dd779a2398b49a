// Package lifecycle keeps what associations must keep and removes what
// they may no longer hold: erasure of a member's personal data (the right
// to erasure), and, in its subpackages, backups and restore.
package lifecycle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Errors of EraseUser.
var (
	// ErrNoUser is returned for a user the tenant does not have.
	ErrNoUser = errors.New("no such user")
	// ErrLastOwner is returned when erasing would leave the association
	// without an owner.
	ErrLastOwner = errors.New("the association must keep an owner")
)

// Auditor appends to the tenant's audit chain and erases the sealed
// personal data of its events (*audit.Log).
type Auditor interface {
	Append(ctx context.Context, tx *store.Tx, e audit.Event) (audit.Record, error)
	ErasePersonal(ctx context.Context, tx *store.Tx, seqs []int64) (int64, error)
}

// Erasure counts what EraseUser removed.
type Erasure struct {
	// Rows deleted per table.
	Deleted map[string]int64
	// VoteSources is the number of vote records whose sealed address and
	// client were removed; the votes themselves stay counted.
	VoteSources int64
	// ProxiesEnded is the number of live proxies the user gave or held.
	ProxiesEnded int64
	// AuditEvents is the number of the user's audit events whose sealed
	// personal data (address, client) was erased; the events and the
	// chain stay, under the user's now meaningless id.
	AuditEvents int64
}

// userTables hold rows keyed by user_id that exist only for the user:
// sign-in state, factors, roles and unit ownership. Order matters only
// for readability: none of them references another.
var userTables = []string{
	"user_sessions", "user_devices", "user_tokens",
	"mfa_totp", "mfa_recovery_codes", "mfa_codes", "mfa_webauthn", "mfa_webauthn_sessions",
	"access_assignments", "unit_owners",
}

type userRow struct {
	bun.BaseModel `bun:"table:users"`
	store.Owned
	ID string `bun:"id,pk"`
}

// EraseUser removes a member's personal data from the tenant, in one
// transaction, while the association's records stay whole: the user row
// (address, name, phone, password, SSO link) and everything that exists
// only for them (sessions, devices, links, factors, roles, unit
// ownership) are deleted; their votes stay counted but lose their sealed
// origin; proxies they gave or held end; their audit events keep their
// place in the hash chain (which covers only a digest of the personal
// part) but lose the sealed address and client. actor is who asked.
func EraseUser(ctx context.Context, db *store.DB, log Auditor, tenantID, actor, userID string) (*Erasure, error) {
	now := func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	sc, err := db.Scoped(tenantID)
	if err != nil {
		return nil, err
	}
	e := &Erasure{Deleted: map[string]int64{}}
	err = sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u := new(userRow)
		if err := tx.Select(u).Where("id = ?", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNoUser
			}
			return fmt.Errorf("read user: %w", err)
		}
		var owners []string
		if err := tx.Select((*assignment)(nil)).Column("user_id").Where("role = ?", "owner").Scan(ctx, &owners); err != nil {
			return fmt.Errorf("read owners: %w", err)
		}
		if len(owners) == 1 && owners[0] == userID {
			return ErrLastOwner
		}
		for _, table := range userTables {
			res, err := tx.DeleteFrom(table).Where("user_id = ?", userID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("erase %s: %w", table, err)
			}
			e.Deleted[table], _ = res.RowsAffected()
		}
		res, err := tx.UpdateTable("proxies").Set("revoked_at = ?", now()).Where("revoked_at IS NULL").Where("grantor = ? OR holder = ?", userID, userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end proxies: %w", err)
		}
		e.ProxiesEnded, _ = res.RowsAffected()
		if res, err = tx.UpdateTable("votes").Set("source = NULL").Where("cast_by = ?", userID).Where("source IS NOT NULL").Exec(ctx); err != nil {
			return fmt.Errorf("erase vote origins: %w", err)
		}
		e.VoteSources, _ = res.RowsAffected()
		var seqs []int64
		if err := tx.Select((*audit.Record)(nil)).Column("seq").Where("actor = ?", "user:"+userID).Scan(ctx, &seqs); err != nil {
			return fmt.Errorf("read audit events: %w", err)
		}
		if e.AuditEvents, err = log.ErasePersonal(ctx, tx, seqs); err != nil {
			return err
		}
		if _, err := tx.Delete((*userRow)(nil)).Where("id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("erase user: %w", err)
		}
		e.Deleted["users"] = 1
		details := map[string]string{"vote_origins": fmt.Sprint(e.VoteSources), "proxies": fmt.Sprint(e.ProxiesEnded), "audit_events": fmt.Sprint(e.AuditEvents)}
		for table, n := range e.Deleted {
			details[table] = fmt.Sprint(n)
		}
		_, err = log.Append(ctx, tx, audit.Event{Actor: actor, Action: "user.erase", Target: "user:" + userID, Outcome: audit.Success, Details: details})
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

type assignment struct {
	bun.BaseModel `bun:"table:access_assignments"`
	store.Owned
}
