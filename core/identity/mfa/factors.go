package mfa

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// webauthnRow is a registered WebAuthn credential (table mfa_webauthn).
// Passkeys registers and checks them; Factors and Reset count and remove
// them.
type webauthnRow struct {
	bun.BaseModel `bun:"table:mfa_webauthn"`
	store.Owned

	CredentialID []byte     `bun:"credential_id,pk"`
	UserID       string     `bun:"user_id,notnull"`
	Label        string     `bun:"label,notnull"`
	AAGUID       []byte     `bun:"aaguid,notnull"`
	Credential   []byte     `bun:"credential,notnull"`
	SignCount    int64      `bun:"sign_count,notnull"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	LastUsedAt   *time.Time `bun:"last_used_at"`
}

// webauthnSessionRow is a pending WebAuthn ceremony (table
// mfa_webauthn_sessions).
type webauthnSessionRow struct {
	bun.BaseModel `bun:"table:mfa_webauthn_sessions"`
	store.Owned

	UserID    string    `bun:"user_id,pk"`
	Kind      string    `bun:"kind,pk"`
	Data      []byte    `bun:"data,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
}

// Status says which second factors a user has.
type Status struct {
	// TOTP is true when a confirmed authenticator is enrolled.
	TOTP bool
	// WebAuthn is the number of registered passkeys.
	WebAuthn int
	// RecoveryLeft is the number of unused recovery codes.
	RecoveryLeft int
}

// Enrolled reports whether the user has a strong second factor (TOTP or a
// passkey). Recovery codes and one-time codes alone do not count.
func (st Status) Enrolled() bool { return st.TOTP || st.WebAuthn > 0 }

// Factors returns userID's enrolled factors.
func (s *Service) Factors(ctx context.Context, tenantID, userID string) (Status, error) {
	if err := checkUser(userID); err != nil {
		return Status{}, err
	}
	var st Status
	err := s.readTx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		n, err := tx.Select((*totpRow)(nil)).Where("user_id = ?", userID).Where("confirmed = ?", true).Count(ctx)
		if err != nil {
			return fmt.Errorf("count TOTP: %w", err)
		}
		st.TOTP = n > 0
		w, err := tx.Select((*webauthnRow)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count passkeys: %w", err)
		}
		r, err := tx.Select((*recoveryRow)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		st.WebAuthn, st.RecoveryLeft = int(w), int(r)
		return nil
	})
	if err != nil {
		return Status{}, err
	}
	return st, nil
}

// AllFactors returns the factors of every user of the tenant who has any,
// in three queries however many users there are (for admin lists).
func (s *Service) AllFactors(ctx context.Context, tenantID string) (map[string]Status, error) {
	out := make(map[string]Status)
	err := s.readTx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		type count struct {
			UserID string `bun:"user_id"`
			N      int    `bun:"n"`
		}
		var totp, keys, codes []count
		if err := tx.Select((*totpRow)(nil)).ColumnExpr("user_id, count(*) AS n").Where("confirmed = ?", true).Group("user_id").Scan(ctx, &totp); err != nil {
			return fmt.Errorf("count TOTP: %w", err)
		}
		if err := tx.Select((*webauthnRow)(nil)).ColumnExpr("user_id, count(*) AS n").Group("user_id").Scan(ctx, &keys); err != nil {
			return fmt.Errorf("count passkeys: %w", err)
		}
		if err := tx.Select((*recoveryRow)(nil)).ColumnExpr("user_id, count(*) AS n").Group("user_id").Scan(ctx, &codes); err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		for _, c := range totp {
			st := out[c.UserID]
			st.TOTP = c.N > 0
			out[c.UserID] = st
		}
		for _, c := range keys {
			st := out[c.UserID]
			st.WebAuthn = c.N
			out[c.UserID] = st
		}
		for _, c := range codes {
			st := out[c.UserID]
			st.RecoveryLeft = c.N
			out[c.UserID] = st
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Reset removes every second factor of userID — authenticator, passkeys,
// recovery codes, outstanding one-time codes and pending ceremonies — in
// one audited transaction. It is meant for an administrator helping a user
// who lost their factors; the audit event names actor and the counts.
func (s *Service) Reset(ctx context.Context, tenantID, userID, actor string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	return s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		details := map[string]string{}
		for _, t := range []struct {
			name string
			del  *store.DeleteQuery
		}{
			{"totp", tx.Delete((*totpRow)(nil))},
			{"webauthn", tx.Delete((*webauthnRow)(nil))},
			{"webauthn_sessions", tx.Delete((*webauthnSessionRow)(nil))},
			{"recovery", tx.Delete((*recoveryRow)(nil))},
			{"codes", tx.Delete((*codeRow)(nil))},
		} {
			res, err := t.del.Where("user_id = ?", userID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("reset %s: %w", t.name, err)
			}
			n, err := rowsAffected(res, "reset "+t.name)
			if err != nil {
				return err
			}
			details[t.name] = strconv.FormatInt(n, 10)
		}
		return s.record(ctx, tx, actor, "mfa.reset", userID, audit.Success, details)
	})
}
