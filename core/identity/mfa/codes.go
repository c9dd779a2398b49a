package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Channel is how a one-time code reaches the user.
type Channel string

// The channels of one-time codes.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// codeDomain names the keyed digest of one-time codes for Sealer.BlindIndex.
const codeDomain = "mfa.code"

// codeRow is the outstanding one-time code of a user and purpose (table
// mfa_codes).
type codeRow struct {
	bun.BaseModel `bun:"table:mfa_codes"`
	store.Owned

	UserID    string    `bun:"user_id,pk"`
	Purpose   string    `bun:"purpose,pk"`
	Channel   string    `bun:"channel,notnull"`
	CodeHash  []byte    `bun:"code_hash,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
	Attempts  int       `bun:"attempts,notnull"`
}

// validPurpose reports whether purpose is 1 to 64 characters of lower-case
// letters, digits, dots, underscores and hyphens ("signin", "mfa.reset").
func validPurpose(purpose string) bool {
	if purpose == "" || len(purpose) > maxPurpose {
		return false
	}
	for _, r := range purpose {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// codeHash is the stored digest of a one-time code: HMAC-SHA-256 under the
// tenant's index key (Sealer.BlindIndex), over the user, the purpose and
// the code. A code has only 6 to 8 digits, so a plain hash would fall to
// trying all 10^8 values; without the key, which lives wrapped by the
// master key and not in the table, a leaked digest gives nothing.
func (s *Service) codeHash(ctx context.Context, tenantID, userID, purpose, code string) ([]byte, error) {
	v := strconv.Itoa(len(userID)) + ":" + userID + "/" + purpose + "/" + code
	h, err := s.sealer.BlindIndex(ctx, tenantID, codeDomain, []byte(v))
	if err != nil {
		return nil, fmt.Errorf("digest one-time code: %w", err)
	}
	return h, nil
}

// newDigits returns n decimal digits from crypto/rand, uniformly.
func newDigits(n int) (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", fmt.Errorf("random one-time code: %w", err)
	}
	s := v.String()
	return strings.Repeat("0", n-len(s)) + s, nil
}

// IssueCode creates a one-time code for userID and purpose, to be sent by
// the caller over channel, and returns it. It replaces any earlier code
// of the same purpose. The code is valid for Options.CodeTTL (at most 10
// minutes), for one successful use and Options.MaxAttempts tries. Only a
// keyed digest is stored.
func (s *Service) IssueCode(ctx context.Context, tenantID, userID string, channel Channel, purpose string) (string, error) {
	if err := checkUser(userID); err != nil {
		return "", err
	}
	if channel != Email && channel != SMS {
		return "", fmt.Errorf("%w: channel %q", ErrBadRequest, channel)
	}
	if !validPurpose(purpose) {
		return "", fmt.Errorf("%w: purpose %q", ErrBadRequest, purpose)
	}
	code, err := newDigits(s.opts.CodeDigits)
	if err != nil {
		return "", err
	}
	h, err := s.codeHash(ctx, tenantID, userID, purpose, code)
	if err != nil {
		return "", err
	}
	row := &codeRow{
		UserID: userID, Purpose: purpose, Channel: string(channel), CodeHash: h,
		ExpiresAt: s.now().Add(s.opts.CodeTTL),
	}
	err = s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.NewInsert(row).
			On("CONFLICT (tenant_id, user_id, purpose) DO UPDATE").
			Set("channel = excluded.channel").
			Set("code_hash = excluded.code_hash").
			Set("expires_at = excluded.expires_at").
			Set("attempts = excluded.attempts").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("store one-time code: %w", err)
		}
		return s.record(ctx, tx, "", "mfa.code.send", userID, audit.Success,
			map[string]string{"channel": string(channel), "purpose": purpose})
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// VerifyCode checks code against userID's outstanding code for purpose
// and consumes it when it matches. It is ErrExpired past the expiry,
// ErrTooManyAttempts once the code was tried Options.MaxAttempts times
// (the code is then burned: even the right one fails) and ErrInvalid for a
// wrong code or none. Failures are audited.
//
// Each try first reserves an attempt with a conditional UPDATE, and only
// then compares the code, so parallel guesses cannot exceed the limit;
// a match deletes the row, so the code is used once.
func (s *Service) VerifyCode(ctx context.Context, tenantID, userID, purpose, code string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	if !validPurpose(purpose) {
		return fmt.Errorf("%w: purpose %q", ErrBadRequest, purpose)
	}
	code = strings.TrimSpace(code)
	var result error
	err := s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		now := s.now()
		res, err := tx.Update((*codeRow)(nil)).
			Set("attempts = attempts + 1").
			Where("user_id = ?", userID).Where("purpose = ?", purpose).
			Where("attempts < ?", s.opts.MaxAttempts).Where("expires_at > ?", now).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("count one-time code attempt: %w", err)
		}
		n, err := rowsAffected(res, "count one-time code attempt")
		if err != nil {
			return err
		}
		row := new(codeRow)
		if err := tx.Select(row).Where("user_id = ?", userID).Where("purpose = ?", purpose).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				result = ErrInvalid
				return s.failure(ctx, tx, userID, "code", "none")
			}
			return fmt.Errorf("load one-time code: %w", err)
		}
		if n != 1 {
			if !row.ExpiresAt.After(now) {
				result = ErrExpired
				return s.failure(ctx, tx, userID, "code", "expired")
			}
			result = ErrTooManyAttempts
			return s.failure(ctx, tx, userID, "code", "attempts")
		}
		want := row.CodeHash
		got, err := s.codeHash(ctx, tenantID, userID, purpose, code)
		if err != nil {
			return err
		}
		if !hmac.Equal(got, want) {
			result = ErrInvalid
			if row.Attempts >= s.opts.MaxAttempts {
				result = ErrTooManyAttempts
			}
			return s.failure(ctx, tx, userID, "code", "invalid")
		}
		res, err = tx.Delete((*codeRow)(nil)).
			Where("user_id = ?", userID).Where("purpose = ?", purpose).Where("code_hash = ?", want).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("consume one-time code: %w", err)
		}
		if n, err := rowsAffected(res, "consume one-time code"); err != nil {
			return err
		} else if n != 1 {
			result = ErrInvalid
			return s.failure(ctx, tx, userID, "code", "invalid")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return result
}
