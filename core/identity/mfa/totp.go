package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// TOTP parameters: the ones every authenticator app supports (RFC 6238
// defaults), with one step of clock skew tolerated either way.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpSkew   = 1
	// totpSecretSize is 160 bits, the HMAC-SHA-1 block-friendly size
	// RFC 4226 recommends.
	totpSecretSize = 20
	qrSize         = 256
)

// totpRow is a user's authenticator (table mfa_totp).
type totpRow struct {
	bun.BaseModel `bun:"table:mfa_totp"`
	store.Owned

	UserID    string    `bun:"user_id,pk"`
	ID        string    `bun:"id,notnull"`
	Secret    []byte    `bun:"secret,notnull"`
	Confirmed bool      `bun:"confirmed,notnull"`
	LastStep  int64     `bun:"last_step,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Enrolment is what a user needs to add the authenticator to an app.
type Enrolment struct {
	// Secret is the base32 secret, for typing in by hand.
	Secret string
	// URL is the otpauth:// URL the QR code encodes.
	URL string
	// QRPNG is a PNG image of the QR code.
	QRPNG []byte
}

// totpAD binds a sealed secret to its tenant, user and enrolment.
func totpAD(tenantID, userID, id string) []byte {
	return []byte("plenum/mfa_totp/secret/" + tenantID + "/" + userID + "/" + id)
}

// BeginTOTP creates a pending authenticator for userID with a fresh
// secret, sealed with the tenant's key, replacing any earlier pending one.
// It is ErrAlreadyEnrolled when a confirmed authenticator exists.
// accountName is shown in the app (an e-mail address, say) and is not
// stored. The authenticator is active once ConfirmTOTP accepts a code.
func (s *Service) BeginTOTP(ctx context.Context, tenantID, userID, accountName string) (Enrolment, error) {
	if err := checkUser(userID); err != nil {
		return Enrolment{}, err
	}
	if accountName == "" {
		accountName = userID
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.opts.Issuer, AccountName: accountName, Period: totpPeriod,
		SecretSize: totpSecretSize, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		Rand: rand.Reader,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("generate TOTP secret: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrolment{}, fmt.Errorf("render TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("encode TOTP QR code: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Enrolment{}, fmt.Errorf("new TOTP id: %w", err)
	}
	sealed, err := s.sealer.Seal(ctx, tenantID, []byte(key.Secret()), totpAD(tenantID, userID, id.String()))
	if err != nil {
		return Enrolment{}, fmt.Errorf("seal TOTP secret: %w", err)
	}
	err = s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Delete((*totpRow)(nil)).Where("user_id = ?", userID).Where("confirmed = ?", false).Exec(ctx); err != nil {
			return fmt.Errorf("delete pending TOTP: %w", err)
		}
		row := &totpRow{UserID: userID, ID: id.String(), Secret: sealed, CreatedAt: s.now()}
		if err := tx.Insert(ctx, row); err != nil {
			if store.IsUniqueViolation(err) {
				return ErrAlreadyEnrolled
			}
			return fmt.Errorf("store pending TOTP: %w", err)
		}
		return nil
	})
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// ConfirmTOTP activates userID's pending authenticator once code is valid
// for it. The step of that code counts as used. A wrong code is
// ErrInvalid and is audited; a missing pending authenticator is
// ErrNotEnrolled.
func (s *Service) ConfirmTOTP(ctx context.Context, tenantID, userID, actor, code string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	var result error
	err := s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		row, err := s.loadTOTP(ctx, tx, userID)
		if err != nil {
			return err
		}
		if row.Confirmed {
			return ErrAlreadyEnrolled
		}
		step, ok, err := s.matchTOTP(ctx, tenantID, row, code)
		if err != nil {
			return err
		}
		if !ok {
			result = ErrInvalid
			return s.failure(ctx, tx, userID, "totp", "invalid")
		}
		res, err := tx.Update((*totpRow)(nil)).
			Set("confirmed = ?", true).Set("last_step = ?", step).
			Where("user_id = ?", userID).Where("id = ?", row.ID).Where("confirmed = ?", false).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("confirm TOTP: %w", err)
		}
		if n, err := rowsAffected(res, "confirm TOTP"); err != nil {
			return err
		} else if n != 1 {
			return ErrNotEnrolled
		}
		return s.record(ctx, tx, actor, "mfa.totp.enrol", userID, audit.Success, nil)
	})
	if err != nil {
		return err
	}
	return result
}

// VerifyTOTP checks code against userID's confirmed authenticator. Each
// time step is accepted once: a code of the last used step or an earlier
// one is ErrReplay, even when two requests carry it at the same time. A
// wrong code is ErrInvalid; failures are audited.
func (s *Service) VerifyTOTP(ctx context.Context, tenantID, userID, code string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	var result error
	err := s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		row, err := s.loadTOTP(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !row.Confirmed {
			return ErrNotEnrolled
		}
		step, ok, err := s.matchTOTP(ctx, tenantID, row, code)
		if err != nil {
			return err
		}
		if !ok {
			result = ErrInvalid
			return s.failure(ctx, tx, userID, "totp", "invalid")
		}
		// The condition on last_step makes the check and the update one
		// atomic step: of two requests with the same code, one changes the
		// row and the other finds nothing to change.
		res, err := tx.Update((*totpRow)(nil)).
			Set("last_step = ?", step).
			Where("user_id = ?", userID).Where("id = ?", row.ID).
			Where("confirmed = ?", true).Where("last_step < ?", step).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("record TOTP step: %w", err)
		}
		n, err := rowsAffected(res, "record TOTP step")
		if err != nil {
			return err
		}
		if n != 1 {
			result = ErrReplay
			return s.failure(ctx, tx, userID, "totp", "replay")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return result
}

// RemoveTOTP deletes userID's authenticator, confirmed or pending. It is
// ErrNotEnrolled when there is none.
func (s *Service) RemoveTOTP(ctx context.Context, tenantID, userID, actor string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	return s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*totpRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove TOTP: %w", err)
		}
		if n, err := rowsAffected(res, "remove TOTP"); err != nil {
			return err
		} else if n == 0 {
			return ErrNotEnrolled
		}
		return s.record(ctx, tx, actor, "mfa.totp.remove", userID, audit.Success, nil)
	})
}

func (s *Service) loadTOTP(ctx context.Context, tx *store.Tx, userID string) (*totpRow, error) {
	row := new(totpRow)
	if err := tx.Select(row).Where("user_id = ?", userID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotEnrolled
		}
		return nil, fmt.Errorf("load TOTP: %w", err)
	}
	return row, nil
}

// matchTOTP reports the time step, within the skew window around now, for
// which code is valid. When several steps match (a repeated code), the
// latest wins so that the replay check is the strictest. Replay is
// checked by the caller, not here.
func (s *Service) matchTOTP(ctx context.Context, tenantID string, row *totpRow, code string) (int64, bool, error) {
	// Apps show codes as "123 456"; users paste them so.
	code = strings.Join(strings.Fields(code), "")
	if !validTOTPCode(code) {
		return 0, false, nil
	}
	secret, err := s.sealer.Open(ctx, tenantID, row.Secret, totpAD(tenantID, row.UserID, row.ID))
	if err != nil {
		return 0, false, fmt.Errorf("open TOTP secret: %w", err)
	}
	now := s.opts.Now().Unix()
	if now < 0 {
		return 0, false, nil
	}
	cur := now / totpPeriod
	var (
		found int64
		ok    bool
	)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step < 1 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(string(secret), uint64(step), hotp.ValidateOpts{
			Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false, fmt.Errorf("compute TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, ok = step, true
		}
	}
	return found, ok, nil
}

// validTOTPCode reports whether code has the shape of a TOTP code.
func validTOTPCode(code string) bool {
	if len(code) != totpDigits.Length() {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
