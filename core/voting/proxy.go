package voting

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Proxy lets Holder vote for a unit in place of its owners, on one ballot
// or on every ballot of a meeting.
type Proxy struct {
	bun.BaseModel `bun:"table:proxies"`
	store.Owned
	ID        string    `bun:"id,pk"`
	UnitID    string    `bun:"unit_id,notnull"`
	Grantor   string    `bun:"grantor,notnull"`
	Holder    string    `bun:"holder,notnull"`
	BallotID  string    `bun:"ballot_id,notnull"`
	Meeting   string    `bun:"meeting,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	RevokedAt time.Time `bun:"revoked_at,nullzero"`
}

// Appoint records a proxy given by grantor, an owner of the unit, to
// holder, another member, for ballotID or, when ballotID is empty, for
// every ballot of the meeting.
func (s *Ballots) Appoint(ctx context.Context, tenantID, grantor, unitID, holder, ballotID, meeting string) (*Proxy, error) {
	meeting = strings.Join(strings.Fields(meeting), " ")
	if (ballotID == "") == (meeting == "") {
		return nil, fmt.Errorf("%w: a proxy is for one ballot or for one meeting", ErrInvalid)
	}
	if holder == grantor || holder == "" {
		return nil, fmt.Errorf("%w: a proxy is held by another member", ErrInvalid)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("proxy id: %w", err)
	}
	p := &Proxy{ID: id.String(), UnitID: unitID, Grantor: grantor, Holder: holder, BallotID: ballotID, Meeting: meeting, CreatedAt: s.stamp()}
	err = s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		n, err := tx.Select((*ownerRow)(nil)).Where("unit_id = ?", unitID).Where("user_id = ?", grantor).Count(ctx)
		if err != nil {
			return fmt.Errorf("read ownership: %w", err)
		}
		if n == 0 {
			return ErrNotEligible
		}
		if ballotID != "" {
			b, err := s.get(ctx, tx, ballotID)
			if err != nil {
				return err
			}
			if b.State != StateDraft && b.State != StateOpen {
				return fmt.Errorf("%w: the ballot is closed", ErrState)
			}
		}
		// One live proxy per unit and scope: a new one replaces the old.
		if _, err := tx.Update((*Proxy)(nil)).Set("revoked_at = ?", p.CreatedAt).Where("unit_id = ?", unitID).
			Where("ballot_id = ?", ballotID).Where("meeting = ?", meeting).Where("revoked_at IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("replace proxy: %w", err)
		}
		if err := tx.Insert(ctx, p); err != nil {
			return fmt.Errorf("store proxy: %w", err)
		}
		return s.record(ctx, tx, grantor, "proxy.appoint", "unit:"+unitID, map[string]string{"holder": holder, "ballot": ballotID, "meeting": meeting})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Revoke ends a proxy; an owner of its unit or its holder may.
func (s *Ballots) Revoke(ctx context.Context, tenantID, actor, proxyID string) error {
	return s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		p := new(Proxy)
		if err := tx.Select(p).Where("id = ?", proxyID).Where("revoked_at IS NULL").Scan(ctx); err != nil {
			return ErrNotFound
		}
		n, err := tx.Select((*ownerRow)(nil)).Where("unit_id = ?", p.UnitID).Where("user_id = ?", actor).Count(ctx)
		if err != nil {
			return fmt.Errorf("read ownership: %w", err)
		}
		if n == 0 && p.Holder != actor {
			return ErrNotFound
		}
		if _, err := tx.Update((*Proxy)(nil)).Set("revoked_at = ?", s.stamp()).Where("id = ?", proxyID).Exec(ctx); err != nil {
			return fmt.Errorf("revoke proxy: %w", err)
		}
		return s.record(ctx, tx, actor, "proxy.revoke", "unit:"+p.UnitID, map[string]string{"proxy": proxyID})
	})
}

// Proxies returns the live proxies userID gave or holds.
func (s *Ballots) Proxies(ctx context.Context, tenantID, userID string) ([]Proxy, error) {
	var out []Proxy
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&out).Where("revoked_at IS NULL").Where("holder = ? OR grantor = ?", userID, userID).
			OrderExpr("created_at").Limit(1000).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list proxies: %w", err)
	}
	return out, nil
}

func (s *Ballots) holdsProxy(ctx context.Context, tx *store.Tx, b *Ballot, unitID, userID string) (bool, error) {
	// A proxy lasts while its grantor owns the unit: one given by a
	// former owner is void.
	q := tx.Select((*Proxy)(nil)).Where("unit_id = ?", unitID).Where("holder = ?", userID).Where("revoked_at IS NULL").
		Where("grantor IN (SELECT user_id FROM unit_owners WHERE tenant_id = ? AND unit_id = ?)", tx.TenantID(), unitID)
	if b.Rules.Meeting != "" {
		q = q.Where("ballot_id = ? OR meeting = ?", b.ID, b.Rules.Meeting)
	} else {
		q = q.Where("ballot_id = ?", b.ID)
	}
	n, err := q.Count(ctx)
	if err != nil {
		return false, fmt.Errorf("read proxies: %w", err)
	}
	return n > 0, nil
}
