package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// MFARequirement says who must use a second factor.
type MFARequirement string

const (
	// MFAOptional lets every user choose.
	MFAOptional MFARequirement = "optional"
	// MFAAdmins requires a second factor of users holding an
	// administrative role.
	MFAAdmins MFARequirement = "admins"
	// MFAEveryone requires a second factor of every user.
	MFAEveryone MFARequirement = "everyone"
)

// Lockout holds the brute-force thresholds of a tenant.
type Lockout struct {
	// AccountThreshold is how many failed attempts on one account lock it.
	AccountThreshold int `json:"account_threshold"`
	// IPThreshold is how many failed attempts from one source address
	// lock that address out of the tenant's sign-in.
	IPThreshold int `json:"ip_threshold"`
	// Window is how long failures count; older ones are forgotten.
	Window Duration `json:"window"`
	// LockFor is the first lockout's length; each further lockout of the
	// same key doubles it, up to MaxLockFor.
	LockFor Duration `json:"lock_for"`
	// MaxLockFor caps the lockout length.
	MaxLockFor Duration `json:"max_lock_for"`
	// DelayAfter is how many failures pass before answers are delayed;
	// each further failure doubles the delay, from 250 ms up to 4 s.
	DelayAfter int `json:"delay_after"`
}

// Settings are a tenant's security settings.
type Settings struct {
	// MinPasswordLength is the least password length in characters
	// (12 to 128; at least 15 applies when the password is the only factor).
	MinPasswordLength int `json:"min_password_length"`
	// Lockout holds the brute-force thresholds.
	Lockout Lockout `json:"lockout"`
	// MFA says who must use a second factor.
	MFA MFARequirement `json:"mfa"`
	// SMSFallback allows one-time codes by SMS for temporary access when
	// e-mail is unreachable. Off by default: SMS is the weakest factor.
	SMSFallback bool `json:"sms_fallback"`
	// InvitationTTL is how long an invitation link stays valid.
	InvitationTTL Duration `json:"invitation_ttl"`
	// IdleTimeout ends sessions unused this long.
	IdleTimeout Duration `json:"idle_timeout"`
	// AbsoluteTimeout ends sessions this long after sign-in.
	AbsoluteTimeout Duration `json:"absolute_timeout"`
}

// Duration is a time.Duration stored as a Go duration string ("30m").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%w: duration %q", ErrInvalid, b)
	}
	*d = Duration(v)
	return nil
}

// DefaultSettings are the settings of a tenant that changed none.
func DefaultSettings() Settings {
	return Settings{
		MinPasswordLength: 12,
		Lockout: Lockout{
			AccountThreshold: 5,
			IPThreshold:      50,
			Window:           Duration(15 * time.Minute),
			LockFor:          Duration(5 * time.Minute),
			MaxLockFor:       Duration(24 * time.Hour),
			DelayAfter:       2,
		},
		MFA:             MFAOptional,
		InvitationTTL:   Duration(72 * time.Hour),
		IdleTimeout:     Duration(30 * time.Minute),
		AbsoluteTimeout: Duration(12 * time.Hour),
	}
}

// Validate checks that every setting is within the bounds the platform
// allows; a tenant cannot weaken a setting below them.
func (s Settings) Validate() error {
	bad := func(msg string) error { return fmt.Errorf("%w: %s", ErrInvalid, msg) }
	l := s.Lockout
	switch {
	case s.MinPasswordLength < 12 || s.MinPasswordLength > 128:
		return bad("the minimum password length must be between 12 and 128 characters")
	case l.AccountThreshold < 3 || l.AccountThreshold > 100:
		return bad("the account lockout threshold must be between 3 and 100 failed attempts")
	case l.IPThreshold < 10 || l.IPThreshold > 10000:
		return bad("the address lockout threshold must be between 10 and 10000 failed attempts")
	case time.Duration(l.Window) < time.Minute || time.Duration(l.Window) > 24*time.Hour:
		return bad("the failure window must be between 1 minute and 24 hours")
	case time.Duration(l.LockFor) < time.Minute || time.Duration(l.LockFor) > 24*time.Hour:
		return bad("the lockout length must be between 1 minute and 24 hours")
	case l.MaxLockFor < l.LockFor || time.Duration(l.MaxLockFor) > 7*24*time.Hour:
		return bad("the longest lockout must be between the first lockout's length and 7 days")
	case l.DelayAfter < 1 || l.DelayAfter > l.AccountThreshold:
		return bad("delays must start after at least one failure and no later than the lockout")
	case s.MFA != MFAOptional && s.MFA != MFAAdmins && s.MFA != MFAEveryone:
		return bad("MFA must be optional, admins or everyone")
	case time.Duration(s.InvitationTTL) < time.Hour || time.Duration(s.InvitationTTL) > 14*24*time.Hour:
		return bad("invitations must stay valid between 1 hour and 14 days")
	case time.Duration(s.IdleTimeout) < 5*time.Minute || time.Duration(s.IdleTimeout) > 8*time.Hour:
		return bad("the idle timeout must be between 5 minutes and 8 hours")
	case s.AbsoluteTimeout < s.IdleTimeout || time.Duration(s.AbsoluteTimeout) > 7*24*time.Hour:
		return bad("the absolute session timeout must be between the idle timeout and 7 days")
	}
	return nil
}

type settingsRow struct {
	bun.BaseModel `bun:"table:identity_settings"`
	store.Owned
	Settings  Settings  `bun:"settings,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	UpdatedBy string    `bun:"updated_by,notnull"`
}

// settings reads a tenant's settings inside tx, defaults when unset.
func readSettings(ctx context.Context, tx *store.Tx) (Settings, error) {
	row := new(settingsRow)
	err := tx.Select(row).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read security settings: %w", err)
	}
	return row.Settings, nil
}
