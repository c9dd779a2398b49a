package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Recovery codes are 12 symbols of a 32-symbol alphabet (60 bits), shown
// in three groups of four: "k7pq-3mzx-9tfa". The alphabet is Crockford's
// base32 in lower case: no i, l, o or u, so that a code read aloud or
// copied by hand is not misread; normaliseRecoveryCode maps the look-alikes
// back.
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryLen      = 12
	recoveryGroup    = 4
)

// recoveryRow is one unused recovery code (table mfa_recovery_codes).
type recoveryRow struct {
	bun.BaseModel `bun:"table:mfa_recovery_codes"`
	store.Owned

	UserID    string    `bun:"user_id,pk"`
	CodeHash  string    `bun:"code_hash,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// newRecoveryCode returns a fresh code from crypto/rand, formatted in
// groups.
func newRecoveryCode() (string, error) {
	var b [recoveryLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random recovery code: %w", err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%recoveryGroup == 0 {
			sb.WriteByte('-')
		}
		// 256 is a multiple of 32, so c%32 is uniform.
		sb.WriteByte(recoveryAlphabet[c%32])
	}
	return sb.String(), nil
}

// normaliseRecoveryCode turns what a user typed into the canonical form
// of a code: lower case, without dashes or white space, with look-alike
// letters mapped as Crockford's base32 does (i and l to 1, o to 0). It
// reports false when the result cannot be a code.
func normaliseRecoveryCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		switch r {
		case 'i', 'l':
			r = '1'
		case 'o':
			r = '0'
		}
		if r > 0x7f || !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryLen {
		return "", false
	}
	return b.String(), true
}

// recoveryHash is the stored digest of a normalised code. A plain
// SHA-256, not a slow password hash or a keyed one, is enough: a code has
// 60 bits from crypto/rand, so inverting the digest by trying codes is out
// of reach. The tenant and user in the hashed context keep equal codes of
// two users apart and defeat precomputed tables.
func recoveryHash(tenantID, userID, code string) string {
	sum := sha256.Sum256([]byte("plenum/mfa/recovery/" + strconv.Itoa(len(tenantID)) + ":" + tenantID + "/" +
		strconv.Itoa(len(userID)) + ":" + userID + "/" + code))
	return hex.EncodeToString(sum[:])
}

// GenerateRecoveryCodes replaces userID's recovery codes with
// Options.RecoveryCodes fresh ones and returns them, formatted for
// display. Only their digests are stored: this is the one time they can
// be shown.
func (s *Service) GenerateRecoveryCodes(ctx context.Context, tenantID, userID, actor string) ([]string, error) {
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	now := s.now()
	codes := make([]string, 0, s.opts.RecoveryCodes)
	rows := make([]recoveryRow, 0, s.opts.RecoveryCodes)
	seen := make(map[string]bool, s.opts.RecoveryCodes)
	for len(codes) < s.opts.RecoveryCodes {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		n, _ := normaliseRecoveryCode(c)
		h := recoveryHash(tenantID, userID, n)
		if seen[h] {
			continue
		}
		seen[h] = true
		codes = append(codes, c)
		rows = append(rows, recoveryRow{UserID: userID, CodeHash: h, CreatedAt: now})
	}
	err := s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Delete((*recoveryRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("delete old recovery codes: %w", err)
		}
		if err := tx.Insert(ctx, &rows); err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
		return s.record(ctx, tx, actor, "mfa.recovery.generate", userID, audit.Success,
			map[string]string{"count": strconv.Itoa(len(rows))})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// UseRecoveryCode consumes one of userID's recovery codes. The code may be
// typed in any case, with or without dashes and spaces. A code is accepted
// once: it is deleted by the statement that checks it, so two requests
// with the same code cannot both pass. A wrong or used code is ErrInvalid
// and is audited.
//
// The code is found by its digest in the database rather than compared in
// Go; timing can at most tell whether a digest prefix exists, which says
// nothing about any code since the digests are of 60-bit random values.
func (s *Service) UseRecoveryCode(ctx context.Context, tenantID, userID, code string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	var result error
	err := s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		n, ok := normaliseRecoveryCode(code)
		if !ok {
			result = ErrInvalid
			return s.failure(ctx, tx, userID, "recovery", "invalid")
		}
		res, err := tx.Delete((*recoveryRow)(nil)).
			Where("user_id = ?", userID).Where("code_hash = ?", recoveryHash(tenantID, userID, n)).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", err)
		}
		deleted, err := rowsAffected(res, "use recovery code")
		if err != nil {
			return err
		}
		if deleted != 1 {
			result = ErrInvalid
			return s.failure(ctx, tx, userID, "recovery", "invalid")
		}
		left, err := tx.Select((*recoveryRow)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		return s.record(ctx, tx, "", "mfa.recovery.use", userID, audit.Success,
			map[string]string{"remaining": strconv.FormatInt(int64(left), 10)})
	})
	if err != nil {
		return err
	}
	return result
}

// RemainingRecoveryCodes returns how many unused recovery codes userID has.
func (s *Service) RemainingRecoveryCodes(ctx context.Context, tenantID, userID string) (int, error) {
	if err := checkUser(userID); err != nil {
		return 0, err
	}
	var n int
	err := s.readTx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		c, err := tx.Select((*recoveryRow)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		n = int(c)
		return nil
	})
	return n, err
}
