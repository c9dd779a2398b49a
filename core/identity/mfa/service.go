// Package mfa manages the second factors of tenant users: TOTP
// authenticator apps, single-use recovery codes and one-time codes sent by
// e-mail or SMS.
//
// Every factor lives in a tenant-scoped table (row-level security on
// PostgreSQL). Secrets are sealed with the tenant's data key or stored only
// as digests, and every change is recorded in the audit log in the same
// transaction as the change itself. Verification is single-use even under
// concurrency: the row that makes a code usable is consumed by one
// conditional UPDATE or DELETE whose affected-row count decides which
// request wins.
package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Errors returned by verification. They are deliberately coarse: callers
// show the user one message per error and learn nothing about the secret.
var (
	// ErrInvalid is returned for a wrong code, or when there is no code
	// or factor to check it against.
	ErrInvalid = errors.New("mfa: invalid code")
	// ErrReplay is returned for a TOTP code of a time step that was
	// already used, or of an earlier one.
	ErrReplay = errors.New("mfa: code already used")
	// ErrExpired is returned for a one-time code past its expiry.
	ErrExpired = errors.New("mfa: code expired")
	// ErrTooManyAttempts is returned once a one-time code has been tried
	// too often; it can no longer succeed and a new code must be issued.
	ErrTooManyAttempts = errors.New("mfa: too many attempts")
	// ErrNotEnrolled is returned when the user has no such factor.
	ErrNotEnrolled = errors.New("mfa: factor not enrolled")
	// ErrAlreadyEnrolled is returned by BeginTOTP when the user already
	// has a confirmed authenticator; remove it first.
	ErrAlreadyEnrolled = errors.New("mfa: factor already enrolled")
	// ErrBadRequest is returned for malformed arguments (empty user id,
	// unknown channel, …).
	ErrBadRequest = errors.New("mfa: bad request")
)

// Sealer seals secrets with a tenant's data key and computes keyed
// digests with the tenant's index key. The scope is the tenant id.
// core/crypto's Keyring satisfies it.
type Sealer interface {
	Seal(ctx context.Context, scope string, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, scope string, ciphertext, associatedData []byte) ([]byte, error)
	BlindIndex(ctx context.Context, scope, domain string, value []byte) ([]byte, error)
}

// Auditor appends an audit event inside the transaction of the change it
// records. core/audit's Log satisfies it.
type Auditor interface {
	Append(ctx context.Context, tx *store.Tx, e audit.Event) (audit.Record, error)
}

// SMSSender delivers a text message. The package sends nothing itself:
// the host implements SMSSender (or a mailer) and delivers the code that
// IssueCode returns.
type SMSSender interface {
	SendSMS(ctx context.Context, to, text string) error
}

// Limits and defaults.
const (
	// DefaultIssuer is the TOTP issuer shown by authenticator apps when
	// Options.Issuer is empty.
	DefaultIssuer = "Plenum"
	// MaxCodeTTL is the longest life of a one-time code.
	MaxCodeTTL = 10 * time.Minute
	// DefaultRecoveryCodes is how many recovery codes are generated when
	// Options.RecoveryCodes is 0.
	DefaultRecoveryCodes = 10
	// DefaultMaxAttempts is how many times a one-time code may be tried
	// when Options.MaxAttempts is 0.
	DefaultMaxAttempts = 5
	// DefaultCodeDigits is the length of a one-time code when
	// Options.CodeDigits is 0.
	DefaultCodeDigits = 6

	maxUserID        = 128
	maxPurpose       = 64
	maxRecoveryCodes = 32
)

// Options tune a Service. The zero value is ready to use.
type Options struct {
	// Issuer names the service in authenticator apps; default "Plenum".
	Issuer string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// CodeTTL is how long a one-time code is valid: default and maximum
	// 10 minutes.
	CodeTTL time.Duration
	// RecoveryCodes is how many recovery codes GenerateRecoveryCodes
	// returns; default 10, at most 32.
	RecoveryCodes int
	// MaxAttempts is how many verifications a one-time code allows before
	// it is burned; default 5.
	MaxAttempts int
	// CodeDigits is the length of one-time codes, 6 to 8; default 6.
	CodeDigits int
}

// Service manages second factors. It is safe for concurrent use.
type Service struct {
	db      *store.DB
	sealer  Sealer
	auditor Auditor
	opts    Options
}

// NewService returns a Service storing factors in db, sealing secrets with
// sealer and recording changes with auditor. Out-of-range options are
// brought back to their defaults or limits.
func NewService(db *store.DB, sealer Sealer, auditor Auditor, opts Options) *Service {
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CodeTTL <= 0 || opts.CodeTTL > MaxCodeTTL {
		opts.CodeTTL = MaxCodeTTL
	}
	if opts.RecoveryCodes <= 0 {
		opts.RecoveryCodes = DefaultRecoveryCodes
	}
	if opts.RecoveryCodes > maxRecoveryCodes {
		opts.RecoveryCodes = maxRecoveryCodes
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.CodeDigits < 6 || opts.CodeDigits > 8 {
		opts.CodeDigits = DefaultCodeDigits
	}
	return &Service{db: db, sealer: sealer, auditor: auditor, opts: opts}
}

// now returns the clock's time in UTC at the precision both engines keep.
func (s *Service) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Microsecond)
}

// tx runs fn in a read-write transaction of tenantID.
func (s *Service) tx(ctx context.Context, tenantID string, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := s.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return sc.Tx(ctx, fn)
}

// readTx runs fn in a read-only transaction of tenantID.
func (s *Service) readTx(ctx context.Context, tenantID string, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := s.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return sc.ReadTx(ctx, fn)
}

// record appends an audit event about userID's factors.
func (s *Service) record(ctx context.Context, tx *store.Tx, actor, action, userID, outcome string, details map[string]string) error {
	if actor == "" {
		actor = "user:" + userID
	}
	_, err := s.auditor.Append(ctx, tx, audit.Event{
		Actor: actor, Action: action, Target: "user:" + userID,
		Outcome: outcome, Details: details,
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// failure records a failed verification of factor for userID. reason is a
// fixed word ("invalid", "replay", …), never the submitted code.
func (s *Service) failure(ctx context.Context, tx *store.Tx, userID, factor, reason string) error {
	return s.record(ctx, tx, "", "mfa.verify.failure", userID, audit.Failure,
		map[string]string{"factor": factor, "reason": reason})
}

// checkUser validates a user id.
func checkUser(userID string) error {
	if userID == "" || len(userID) > maxUserID {
		return fmt.Errorf("%w: user id must be 1 to %d bytes", ErrBadRequest, maxUserID)
	}
	return nil
}

// rowsAffected returns how many rows an UPDATE or DELETE changed.
func rowsAffected(res interface{ RowsAffected() (int64, error) }, what string) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: rows affected: %w", what, err)
	}
	return n, nil
}
