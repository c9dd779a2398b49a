package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/identity/password"
	"github.com/plenum-vote/plenum/core/store"
)

// UserStatus is where a tenant user's account stands.
type UserStatus string

const (
	// Invited users have been added but have not set a password yet.
	Invited UserStatus = "invited"
	// Active users can sign in.
	Active UserStatus = "active"
	// Disabled users cannot sign in; their sessions have ended.
	Disabled UserStatus = "disabled"
)

// ErrLocked is wrapped by errors about a locked account; sign-in itself
// answers ErrInvalidCredentials so that locked and unknown accounts look
// alike.
var ErrLocked = errors.New("account temporarily locked")

// ErrNotFound is returned for an unknown user in the tenant.
var ErrNotFound = errors.New("no such user")

// ErrTokenInvalid is returned for an unknown, used or expired link token.
var ErrTokenInvalid = errors.New("this link is not valid any more")

// User is an account of one tenant.
type User struct {
	ID           string
	TenantID     string
	Email        string
	Name         string
	Status       UserStatus
	HasPassword  bool
	CreatedAt    time.Time
	LastSignInAt *time.Time
}

type userRow struct {
	bun.BaseModel `bun:"table:users"`
	store.Owned
	ID                string     `bun:"id,pk"`
	EmailIndex        []byte     `bun:"email_index,notnull"`
	Email             []byte     `bun:"email,notnull"`
	Name              []byte     `bun:"name"`
	PasswordHash      *string    `bun:"password_hash"`
	Status            UserStatus `bun:"status,notnull"`
	CreatedAt         time.Time  `bun:"created_at,notnull"`
	UpdatedAt         time.Time  `bun:"updated_at,notnull"`
	PasswordChangedAt *time.Time `bun:"password_changed_at"`
	LastSignInAt      *time.Time `bun:"last_sign_in_at"`
	SSOSubjectIndex   []byte     `bun:"sso_subject_index"`
	Phone             []byte     `bun:"phone"`
}

// NoticeKind says what a Notice is about.
type NoticeKind string

// The notices identity sends to users.
const (
	NoticeInvitation      NoticeKind = "invitation"
	NoticePasswordReset   NoticeKind = "password_reset"
	NoticeLockout         NoticeKind = "lockout"
	NoticeNewDevice       NoticeKind = "new_device"
	NoticePasswordChanged NoticeKind = "password_changed"
	NoticeFactorAdded     NoticeKind = "factor_added"
	// NoticeSignInCode carries a one-time sign-in code in Token.
	NoticeSignInCode NoticeKind = "signin_code"
	// NoticeBallotReminder reminds an owner whose unit has not voted:
	// Detail is the ballot's title, Token its id, Expires its closing time.
	NoticeBallotReminder NoticeKind = "ballot_reminder"
)

// Notice is a message to a user. The host turns it into an e-mail.
type Notice struct {
	Kind     NoticeKind
	TenantID string
	UserID   string
	Email    string
	Name     string
	// Token is the single-use link token of invitations and resets.
	Token   string
	Expires time.Time
	Meta    RequestMeta
	// Detail names the factor of NoticeFactorAdded.
	Detail string
}

// Notifier delivers notices to users (the host sends e-mail).
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// TenantNames gives the names a password must not contain.
type TenantNames interface {
	Names(ctx context.Context, tenantID string) (name, slug string, err error)
}

// UserOptions configure Users.
type UserOptions struct {
	Now    func() time.Time
	Hasher *PasswordHasher
	// Breached, when set, checks new passwords against a breach corpus.
	Breached password.BreachChecker
	Logger   *slog.Logger
}

// Users manages the accounts, passwords, sign-in and sessions of tenant
// users.
type Users struct {
	db      *store.DB
	keys    Keys
	rec     Recorder
	limiter AttemptLimiter
	notify  Notifier
	names   TenantNames
	opts    UserOptions
	dummy   string
}

// NewUsers returns the tenant user service.
func NewUsers(db *store.DB, keys Keys, rec Recorder, limiter AttemptLimiter, notify Notifier, names TenantNames, opts UserOptions) *Users {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hasher == nil {
		opts.Hasher = NewPasswordHasher(OWASPParams())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dummy, _ := opts.Hasher.Hash("plenum-dummy-password-for-timing")
	return &Users{db: db, keys: keys, rec: rec, limiter: limiter, notify: notify, names: names, opts: opts, dummy: dummy}
}

func (u *Users) now() time.Time { return u.opts.Now().UTC().Truncate(time.Microsecond) }

func (u *Users) scoped(ctx context.Context, tenantID string, write bool, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := u.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	if write {
		return sc.Tx(ctx, fn)
	}
	return sc.ReadTx(ctx, fn)
}

func userEmailAD(tenantID, id string) []byte { return []byte("users.email:" + tenantID + ":" + id) }
func userNameAD(tenantID, id string) []byte  { return []byte("users.name:" + tenantID + ":" + id) }

func (u *Users) emailIndex(ctx context.Context, tenantID, email string) ([]byte, error) {
	return u.keys.BlindIndex(ctx, tenantID, "user.email", []byte(email))
}

// accountKey is the limiter key of an address: its blind index, so that
// unknown addresses are counted and locked exactly like known ones.
func accountKey(idx []byte) string { return fmt.Sprintf("account:%x", idx[:16]) }

func (u *Users) ipKey(ctx context.Context, tenantID, ip string) (string, error) {
	idx, err := u.keys.BlindIndex(ctx, tenantID, "signin.ip", []byte(ip))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("ip:%x", idx[:16]), nil
}

// cleanName checks a display name: valid UTF-8, no control characters, at
// most 200 characters.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200 {
		return "", fmt.Errorf("%w: a name must be valid text of at most 200 characters", ErrInvalid)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' || r == '\u202d' {
			return "", fmt.Errorf("%w: a name must not contain control characters", ErrInvalid)
		}
	}
	return name, nil
}

func (u *Users) open(ctx context.Context, r *userRow) (*User, error) {
	email, err := u.keys.Open(ctx, r.TenantID, r.Email, userEmailAD(r.TenantID, r.ID))
	if err != nil {
		return nil, fmt.Errorf("open user %s e-mail: %w", r.ID, err)
	}
	name := ""
	if len(r.Name) > 0 {
		b, err := u.keys.Open(ctx, r.TenantID, r.Name, userNameAD(r.TenantID, r.ID))
		if err != nil {
			return nil, fmt.Errorf("open user %s name: %w", r.ID, err)
		}
		name = string(b)
	}
	return &User{ID: r.ID, TenantID: r.TenantID, Email: string(email), Name: name, Status: r.Status,
		HasPassword: r.PasswordHash != nil, CreatedAt: r.CreatedAt, LastSignInAt: r.LastSignInAt}, nil
}

// Settings returns a tenant's security settings.
func (u *Users) Settings(ctx context.Context, tenantID string) (Settings, error) {
	var s Settings
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		var err error
		s, err = readSettings(ctx, tx)
		return err
	})
	return s, err
}

// SaveSettings validates and stores a tenant's security settings.
func (u *Users) SaveSettings(ctx context.Context, tenantID, actor string, s Settings, meta RequestMeta) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		old, err := readSettings(ctx, tx)
		if err != nil {
			return err
		}
		row := &settingsRow{Settings: s, UpdatedAt: u.now(), UpdatedBy: actor}
		_, err = tx.NewInsert(row).On("CONFLICT (tenant_id) DO UPDATE").
			Set("settings = EXCLUDED.settings").Set("updated_at = EXCLUDED.updated_at").Set("updated_by = EXCLUDED.updated_by").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("store security settings: %w", err)
		}
		return u.rec.Record(ctx, tx, Event{Actor: actor, Action: "settings.security.update", Target: "tenant:" + tenantID, Outcome: "success", Meta: meta,
			Details: settingsDiff(old, s)})
	})
}

// settingsDiff lists the settings that changed as "old -> new".
func settingsDiff(a, b Settings) map[string]string {
	d := map[string]string{}
	add := func(k string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			d[k] = fmt.Sprintf("%v -> %v", x, y)
		}
	}
	add("min_password_length", a.MinPasswordLength, b.MinPasswordLength)
	add("lockout.account_threshold", a.Lockout.AccountThreshold, b.Lockout.AccountThreshold)
	add("lockout.ip_threshold", a.Lockout.IPThreshold, b.Lockout.IPThreshold)
	add("lockout.window", time.Duration(a.Lockout.Window), time.Duration(b.Lockout.Window))
	add("lockout.lock_for", time.Duration(a.Lockout.LockFor), time.Duration(b.Lockout.LockFor))
	add("lockout.max_lock_for", time.Duration(a.Lockout.MaxLockFor), time.Duration(b.Lockout.MaxLockFor))
	add("lockout.delay_after", a.Lockout.DelayAfter, b.Lockout.DelayAfter)
	add("mfa", a.MFA, b.MFA)
	add("sms_fallback", a.SMSFallback, b.SMSFallback)
	add("invitation_ttl", time.Duration(a.InvitationTTL), time.Duration(b.InvitationTTL))
	add("idle_timeout", time.Duration(a.IdleTimeout), time.Duration(b.IdleTimeout))
	add("absolute_timeout", time.Duration(a.AbsoluteTimeout), time.Duration(b.AbsoluteTimeout))
	return d
}

// Invite adds a user, or renews the invitation of one who has not
// accepted yet, and sends the single-use link. The returned token is the
// link's secret; callers other than tests should let the notice carry it.
func (u *Users) Invite(ctx context.Context, tenantID, actor, email, name string, meta RequestMeta) (*User, string, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, "", err
	}
	if name, err = cleanName(name); err != nil {
		return nil, "", err
	}
	idx, err := u.emailIndex(ctx, tenantID, email)
	if err != nil {
		return nil, "", err
	}
	now := u.now()
	var (
		user    *User
		token   string
		expires time.Time
	)
	err = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		settings, err := readSettings(ctx, tx)
		if err != nil {
			return err
		}
		row := new(userRow)
		err = tx.Select(row).Where("email_index = ?", idx).Scan(ctx)
		action := "user.invite"
		switch {
		case err == nil:
			if row.Status != Invited {
				return fmt.Errorf("%w: this address already has an account", ErrExists)
			}
			action = "user.reinvite"
		case errors.Is(err, sql.ErrNoRows):
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("user id: %w", err)
			}
			row = &userRow{ID: id.String(), EmailIndex: idx, Status: Invited, CreatedAt: now, UpdatedAt: now}
			row.TenantID = tenantID
			if row.Email, err = u.keys.Seal(ctx, tenantID, []byte(email), userEmailAD(tenantID, row.ID)); err != nil {
				return err
			}
			if name != "" {
				if row.Name, err = u.keys.Seal(ctx, tenantID, []byte(name), userNameAD(tenantID, row.ID)); err != nil {
					return err
				}
			}
			if err := tx.Insert(ctx, row); err != nil {
				if store.IsUniqueViolation(err) {
					return fmt.Errorf("%w: this address already has an account", ErrExists)
				}
				return fmt.Errorf("insert user: %w", err)
			}
		default:
			return fmt.Errorf("find user: %w", err)
		}
		expires = now.Add(time.Duration(settings.InvitationTTL))
		if token, err = u.issueToken(ctx, tx, row.ID, purposeInvite, expires); err != nil {
			return err
		}
		user = &User{ID: row.ID, TenantID: tenantID, Email: email, Name: name, Status: row.Status, CreatedAt: row.CreatedAt}
		return u.rec.Record(ctx, tx, Event{Actor: actor, Action: action, Target: "user:" + row.ID, Outcome: "success", Meta: meta})
	})
	if err != nil {
		return nil, "", err
	}
	if err := u.notify.Notify(ctx, Notice{Kind: NoticeInvitation, TenantID: tenantID, UserID: user.ID, Email: email, Name: user.Name, Token: token, Expires: expires, Meta: meta}); err != nil {
		return user, token, fmt.Errorf("the invitation was created but its e-mail could not be sent: %w", err)
	}
	return user, token, nil
}

// Get returns one user of the tenant.
func (u *Users) Get(ctx context.Context, tenantID, id string) (*User, error) {
	row := new(userRow)
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(row).Where("id = ?", id).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return u.open(ctx, row)
}

// ByEmail returns the tenant's user with the address, found by its blind
// index.
func (u *Users) ByEmail(ctx context.Context, tenantID, email string) (*User, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	idx, err := u.emailIndex(ctx, tenantID, email)
	if err != nil {
		return nil, err
	}
	row := new(userRow)
	err = u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(row).Where("email_index = ?", idx).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return u.open(ctx, row)
}

// List returns every user of the tenant, oldest first.
func (u *Users) List(ctx context.Context, tenantID string) ([]User, error) {
	var rows []userRow
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&rows).OrderExpr("created_at, id").Limit(10000).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, 0, len(rows))
	for i := range rows {
		usr, err := u.open(ctx, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *usr)
	}
	return out, nil
}

// SetDisabled disables a user (ending every session) or enables one.
func (u *Users) SetDisabled(ctx context.Context, tenantID, actor, userID string, disabled bool, meta RequestMeta) error {
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		row := new(userRow)
		if err := tx.Select(row).Where("id = ?", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("read user: %w", err)
		}
		status, action := Disabled, "user.disable"
		if !disabled {
			status, action = Active, "user.enable"
			if row.PasswordHash == nil && row.SSOSubjectIndex == nil {
				status = Invited
			}
		}
		if _, err := tx.Update(row).Set("status = ?", status).Set("updated_at = ?", u.now()).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if disabled {
			if _, err := tx.Delete((*userSessionRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return u.rec.Record(ctx, tx, Event{Actor: actor, Action: action, Target: "user:" + userID, Outcome: "success", Meta: meta})
	})
}

// Unlock clears a user's lockout.
func (u *Users) Unlock(ctx context.Context, tenantID, actor, userID string, meta RequestMeta) error {
	if _, err := u.Get(ctx, tenantID, userID); err != nil {
		return err
	}
	if err := u.limiter.Unlock(ctx, tenantID, userID); err != nil {
		return err
	}
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		return u.rec.Record(ctx, tx, Event{Actor: actor, Action: "user.unlock", Target: "user:" + userID, Outcome: "success", Meta: meta})
	})
}

// Locks lists the tenant's locked accounts.
func (u *Users) Locks(ctx context.Context, tenantID string) ([]Lock, error) {
	return u.limiter.Locks(ctx, tenantID)
}

// passwordContext builds what the password policy needs to know.
func (u *Users) checkPassword(ctx context.Context, tenantID string, settings Settings, user *User, pw string, singleFactor bool) error {
	name, slug, err := u.names.Names(ctx, tenantID)
	if err != nil {
		return err
	}
	pol := password.DefaultPolicy()
	pol.MinLength = settings.MinPasswordLength
	pol.MinLengthSingleFactor = max(settings.MinPasswordLength, pol.MinLengthSingleFactor)
	return pol.Check(ctx, pw, password.Context{Email: user.Email, TenantName: name, TenantSlug: slug, UserName: user.Name,
		SingleFactor: singleFactor, Breached: u.opts.Breached})
}

// ErrNoPhone is returned when a user has no phone number for SMS codes.
var ErrNoPhone = errors.New("no phone number on the account")

func userPhoneAD(tenantID, id string) []byte { return []byte("users.phone:" + tenantID + ":" + id) }

// normalizePhone accepts an international number (E.164): "+", then 8 to
// 15 digits; spaces, dots, dashes and brackets are dropped.
func normalizePhone(s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: a phone number has digits only, in international form such as +41 44 123 45 67", ErrInvalid)
		}
	}
	p := b.String()
	if !strings.HasPrefix(p, "+") || len(p) < 9 || len(p) > 16 || p[1] == '0' {
		return "", fmt.Errorf("%w: give the phone number in international form, starting with + and the country code", ErrInvalid)
	}
	return p, nil
}

// SetPhone stores (sealed) or, with an empty number, removes the phone
// number that SMS codes go to.
func (u *Users) SetPhone(ctx context.Context, tenantID, userID, phone string, meta RequestMeta) error {
	var sealed []byte
	if strings.TrimSpace(phone) != "" {
		p, err := normalizePhone(phone)
		if err != nil {
			return err
		}
		if sealed, err = u.keys.Seal(ctx, tenantID, []byte(p), userPhoneAD(tenantID, userID)); err != nil {
			return err
		}
	}
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Update((*userRow)(nil)).Set("phone = ?", sealed).Set("updated_at = ?", u.now()).Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set phone: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		action := "user.phone.set"
		if sealed == nil {
			action = "user.phone.remove"
		}
		return u.rec.Record(ctx, tx, Event{Actor: "user:" + userID, Action: action, Target: "user:" + userID, Outcome: "success", Meta: meta})
	})
}

// Phone returns the user's phone number, ErrNoPhone when there is none.
func (u *Users) Phone(ctx context.Context, tenantID, userID string) (string, error) {
	var sealed []byte
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select((*userRow)(nil)).Column("phone").Where("id = ?", userID).Scan(ctx, &sealed)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read phone: %w", err)
	}
	if len(sealed) == 0 {
		return "", ErrNoPhone
	}
	p, err := u.keys.Open(ctx, tenantID, sealed, userPhoneAD(tenantID, userID))
	if err != nil {
		return "", fmt.Errorf("open phone: %w", err)
	}
	return string(p), nil
}

// MaskPhone shows only the last digits of a number: "+•••••••4567".
func MaskPhone(p string) string {
	if len(p) <= 4 {
		return p
	}
	return "+" + strings.Repeat("•", len(p)-5) + p[len(p)-4:]
}
