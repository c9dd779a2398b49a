package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// State is an outstanding sign-in, as read back by the callback.
type State struct {
	Provider string
	Nonce    string
	// Verifier is the PKCE code verifier.
	Verifier string
	// ReturnTo is the local path to go to after sign-in.
	ReturnTo  string
	ExpiresAt time.Time
}

type stateRow struct {
	bun.BaseModel `bun:"table:sso_states"`
	store.Owned
	ID           string    `bun:"id,pk"`
	Provider     string    `bun:"provider,notnull"`
	Nonce        string    `bun:"nonce,notnull"`
	PKCEVerifier []byte    `bun:"pkce_verifier,notnull"`
	ReturnTo     string    `bun:"return_to,notnull"`
	ExpiresAt    time.Time `bun:"expires_at,notnull"`
}

func stateID(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

func verifierAD(tenantID, id string) []byte {
	return []byte("sso_states.pkce_verifier:" + tenantID + ":" + id)
}

// randomValue returns 32 random bytes, base64url without padding.
func randomValue() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// newState stores an outstanding sign-in with provider and returns the
// state value for the URL. Expired states of the tenant are removed on
// the way.
func (s *Service) newState(ctx context.Context, tenantID string, st State) (string, error) {
	state, err := randomValue()
	if err != nil {
		return "", err
	}
	id := stateID(state)
	sealed, err := s.keys.Seal(ctx, tenantID, []byte(st.Verifier), verifierAD(tenantID, id))
	if err != nil {
		return "", fmt.Errorf("seal pkce verifier: %w", err)
	}
	now := s.now()
	row := &stateRow{ID: id, Provider: st.Provider, Nonce: st.Nonce, PKCEVerifier: sealed, ReturnTo: st.ReturnTo, ExpiresAt: now.Add(s.opts.StateTTL)}
	err = s.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Delete((*stateRow)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
			return fmt.Errorf("remove expired sso states: %w", err)
		}
		if err := tx.Insert(ctx, row); err != nil {
			return fmt.Errorf("store sso state: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return state, nil
}

// consumeState returns and ends the outstanding sign-in of state with
// provider. It succeeds once: a concurrent or later call gets ErrState,
// as does a state past its expiry or of another provider.
func (s *Service) consumeState(ctx context.Context, tenantID, provider, state string) (*State, error) {
	if state == "" || len(state) > 128 {
		return nil, ErrState
	}
	id := stateID(state)
	row := new(stateRow)
	now := s.now()
	err := s.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Select(row).Where("id = ?", id).Scan(ctx); err != nil {
			return err
		}
		res, err := tx.Delete((*stateRow)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end sso state: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState // consumed concurrently
		}
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrState) {
		return nil, ErrState
	}
	if err != nil {
		return nil, fmt.Errorf("read sso state: %w", err)
	}
	if row.Provider != provider || !now.Before(row.ExpiresAt) {
		return nil, ErrState
	}
	verifier, err := s.keys.Open(ctx, tenantID, row.PKCEVerifier, verifierAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("open pkce verifier: %w", err)
	}
	return &State{Provider: row.Provider, Nonce: row.Nonce, Verifier: string(verifier), ReturnTo: row.ReturnTo, ExpiresAt: row.ExpiresAt}, nil
}
