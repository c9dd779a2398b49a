package voting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Errors returned by Units.
var (
	// ErrNotFound is returned for a unit or ownership the tenant lacks.
	ErrNotFound = errors.New("no such unit")
	// ErrExists is returned for a label the tenant already uses.
	ErrExists = errors.New("a unit with this label exists")
)

// Auditor writes an audit event in the caller's transaction
// (*audit.Log).
type Auditor interface {
	Append(ctx context.Context, tx *store.Tx, e audit.Event) (audit.Record, error)
	AppendBatch(ctx context.Context, tx *store.Tx, evs []audit.Event) ([]audit.Record, error)
}

// Unit is one unit of the association.
type Unit struct {
	bun.BaseModel `bun:"table:units"`
	store.Owned
	ID        string    `bun:"id,pk"`
	Label     string    `bun:"label,notnull"`
	Weight    Weight    `bun:"weight,notnull,type:text"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

type ownerRow struct {
	bun.BaseModel `bun:"table:unit_owners"`
	store.Owned
	UnitID string    `bun:"unit_id,pk"`
	UserID string    `bun:"user_id,pk"`
	Since  time.Time `bun:"since,notnull"`
}

// Units keeps a tenant's units and their owners.
type Units struct {
	db    *store.DB
	audit Auditor
	now   func() time.Time
}

// NewUnits returns the unit service. now may be nil.
func NewUnits(db *store.DB, a Auditor, now func() time.Time) *Units {
	if now == nil {
		now = time.Now
	}
	return &Units{db: db, audit: a, now: now}
}

func (u *Units) tx(ctx context.Context, tenantID string, write bool, fn func(ctx context.Context, tx *store.Tx) error) error {
	return scopedTx(ctx, u.db, tenantID, write, fn)
}

// scopedTx runs fn in a transaction scoped to the tenant, read-write or
// read-only: the services of this package all reach the store this way.
func scopedTx(ctx context.Context, db *store.DB, tenantID string, write bool, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := db.Scoped(tenantID)
	if err != nil {
		return err
	}
	if write {
		return sc.Tx(ctx, fn)
	}
	return sc.ReadTx(ctx, fn)
}

func (u *Units) stamp() time.Time { return u.now().UTC().Truncate(time.Microsecond) }

// CleanLabel checks a unit label: 1 to 100 characters of valid text
// without control characters, trimmed.
func CleanLabel(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 {
		return "", fmt.Errorf("%w: a unit label has 1 to 100 characters", ErrInvalid)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' || r == '\u202d' {
			return "", fmt.Errorf("%w: a unit label must not contain control characters", ErrInvalid)
		}
	}
	return s, nil
}

func (u *Units) record(ctx context.Context, tx *store.Tx, actor, action, target string, details map[string]string) error {
	_, err := u.audit.Append(ctx, tx, audit.Event{Actor: auditActor(actor), Action: action, Target: target, Outcome: audit.Success, Details: details})
	return err
}

// Create adds a unit.
func (u *Units) Create(ctx context.Context, tenantID, actor, label string, w Weight) (*Unit, error) {
	label, err := CleanLabel(label)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("unit id: %w", err)
	}
	now := u.stamp()
	unit := &Unit{ID: id.String(), Label: label, Weight: w, CreatedAt: now, UpdatedAt: now}
	err = u.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Insert(ctx, unit); err != nil {
			if store.IsUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("insert unit: %w", err)
		}
		return u.record(ctx, tx, actor, "unit.create", "unit:"+unit.ID, map[string]string{"label": label, "weight": w.String()})
	})
	if err != nil {
		return nil, err
	}
	return unit, nil
}

// Update changes a unit's label and weight.
func (u *Units) Update(ctx context.Context, tenantID, actor, id, label string, w Weight) error {
	label, err := CleanLabel(label)
	if err != nil {
		return err
	}
	return u.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		old := new(Unit)
		if err := tx.Select(old).Where("id = ?", id).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("read unit: %w", err)
		}
		_, err := tx.Update((*Unit)(nil)).Set("label = ?", label).Set("weight = ?", w.String()).Set("updated_at = ?", u.stamp()).
			Where("id = ?", id).Exec(ctx)
		if store.IsUniqueViolation(err) {
			return ErrExists
		}
		if err != nil {
			return fmt.Errorf("update unit: %w", err)
		}
		return u.record(ctx, tx, actor, "unit.update", "unit:"+id, map[string]string{
			"label": old.Label + " -> " + label, "weight": old.Weight.String() + " -> " + w.String()})
	})
}

// Delete removes a unit and its ownerships.
func (u *Units) Delete(ctx context.Context, tenantID, actor, id string) error {
	return u.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Delete((*ownerRow)(nil)).Where("unit_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete owners: %w", err)
		}
		res, err := tx.Delete((*Unit)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete unit: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		return u.record(ctx, tx, actor, "unit.delete", "unit:"+id, nil)
	})
}

// List returns the tenant's units by label.
func (u *Units) List(ctx context.Context, tenantID string) ([]Unit, error) {
	var out []Unit
	err := u.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&out).OrderExpr("label").Limit(100_000).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return out, nil
}

// AddOwner records userID as an owner of the unit. The user must belong
// to the tenant (the database's foreign key says so).
func (u *Units) AddOwner(ctx context.Context, tenantID, actor, unitID, userID string) error {
	return u.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		n, err := tx.Select((*Unit)(nil)).Where("id = ?", unitID).Count(ctx)
		if err != nil {
			return fmt.Errorf("read unit: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		res, err := tx.NewInsert(&ownerRow{UnitID: unitID, UserID: userID, Since: u.stamp()}).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("add owner: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already an owner
		}
		return u.record(ctx, tx, actor, "unit.owner.add", "unit:"+unitID, map[string]string{"user": userID})
	})
}

// RemoveOwner ends userID's ownership of the unit.
func (u *Units) RemoveOwner(ctx context.Context, tenantID, actor, unitID, userID string) error {
	return u.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*ownerRow)(nil)).Where("unit_id = ?", unitID).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove owner: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		return u.record(ctx, tx, actor, "unit.owner.remove", "unit:"+unitID, map[string]string{"user": userID})
	})
}

// Owners returns the user ids owning each unit of the tenant.
func (u *Units) Owners(ctx context.Context, tenantID string) (map[string][]string, error) {
	var rows []ownerRow
	err := u.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&rows).Order("unit_id", "user_id").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list owners: %w", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.UnitID] = append(out[r.UnitID], r.UserID)
	}
	return out, nil
}

// UnitsOf returns the units userID owns, by label: the user votes once
// for each.
func (u *Units) UnitsOf(ctx context.Context, tenantID, userID string) ([]Unit, error) {
	var out []Unit
	err := u.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&out).
			Where("id IN (SELECT unit_id FROM unit_owners WHERE tenant_id = ? AND user_id = ?)", tenantID, userID).
			OrderExpr("label").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("units of user: %w", err)
	}
	return out, nil
}

// Get returns one unit of the tenant.
func (u *Units) Get(ctx context.Context, tenantID, id string) (*Unit, error) {
	unit := new(Unit)
	err := u.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(unit).Where("id = ?", id).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read unit: %w", err)
	}
	return unit, nil
}
