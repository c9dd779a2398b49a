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

// Link-token purposes.
const (
	purposeInvite = "invite"
	purposeReset  = "reset"
)

type tokenRow struct {
	bun.BaseModel `bun:"table:user_tokens"`
	store.Owned
	ID        string     `bun:"id,pk"`
	UserID    string     `bun:"user_id,notnull"`
	Purpose   string     `bun:"purpose,notnull"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
}

// issueToken creates a single-use link token for userID, ending the
// user's earlier unused tokens of the same purpose. Only its SHA-256 is
// stored.
func (u *Users) issueToken(ctx context.Context, tx *store.Tx, userID, purpose string, expires time.Time) (string, error) {
	tok, err := randomToken(32)
	if err != nil {
		return "", err
	}
	now := u.now()
	if _, err := tx.Update((*tokenRow)(nil)).Set("used_at = ?", now).
		Where("user_id = ?", userID).Where("purpose = ?", purpose).Where("used_at IS NULL").Exec(ctx); err != nil {
		return "", fmt.Errorf("end earlier links: %w", err)
	}
	row := &tokenRow{ID: sessionID(tok), UserID: userID, Purpose: purpose, CreatedAt: now, ExpiresAt: expires}
	if err := tx.Insert(ctx, row); err != nil {
		return "", fmt.Errorf("store link token: %w", err)
	}
	return tok, nil
}

// LinkInfo describes a valid link token, for the page that asks for the
// new password.
type LinkInfo struct {
	User    *User
	Purpose string
	Expires time.Time
}

// Link checks a link token without using it.
func (u *Users) Link(ctx context.Context, tenantID, token string) (*LinkInfo, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrTokenInvalid
	}
	tr, ur := new(tokenRow), new(userRow)
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Select(tr).Where("id = ?", sessionID(token)).Scan(ctx); err != nil {
			return err
		}
		return tx.Select(ur).Where("id = ?", tr.UserID).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("read link token: %w", err)
	}
	if tr.UsedAt != nil || !u.now().Before(tr.ExpiresAt) || ur.Status == Disabled {
		return nil, ErrTokenInvalid
	}
	usr, err := u.open(ctx, ur)
	if err != nil {
		return nil, err
	}
	return &LinkInfo{User: usr, Purpose: tr.Purpose, Expires: tr.ExpiresAt}, nil
}

// SetPasswordWithLink uses an invitation or reset token once to set the
// user's password, activates an invited user, and ends every session of
// the user. A password the policy refuses leaves the token usable.
func (u *Users) SetPasswordWithLink(ctx context.Context, tenantID, token, pw string, secondFactor bool, meta RequestMeta) (*User, error) {
	info, err := u.Link(ctx, tenantID, token)
	if err != nil {
		return nil, err
	}
	settings, err := u.Settings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	single := !secondFactor && settings.MFA != MFAEveryone
	if err := u.checkPassword(ctx, tenantID, settings, info.User, pw, single); err != nil {
		return nil, err
	}
	hash, err := u.opts.Hasher.Hash(pw)
	if err != nil {
		return nil, err
	}
	now := u.now()
	err = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Update((*tokenRow)(nil)).Set("used_at = ?", now).
			Where("id = ?", sessionID(token)).Where("used_at IS NULL").Where("expires_at > ?", now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use link token: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid
		}
		res, err = tx.Update((*userRow)(nil)).Set("password_hash = ?", hash).Set("password_changed_at = ?", now).
			Set("updated_at = ?", now).Set("status = ?", Active).
			Where("id = ?", info.User.ID).Where("status <> ?", Disabled).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTokenInvalid
		}
		if _, err := tx.Delete((*userSessionRow)(nil)).Where("user_id = ?", info.User.ID).Exec(ctx); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		action := "user.password.reset"
		if info.Purpose == purposeInvite {
			action = "user.invitation.accept"
		}
		return u.rec.Record(ctx, tx, Event{Actor: "user:" + info.User.ID, Action: action, Target: "user:" + info.User.ID, Outcome: "success", Meta: meta})
	})
	if err != nil {
		return nil, err
	}
	if err := u.limiter.Unlock(ctx, tenantID, info.User.ID); err != nil {
		return nil, err
	}
	info.User.Status, info.User.HasPassword = Active, true
	if info.Purpose == purposeReset {
		u.inform(ctx, Notice{Kind: NoticePasswordChanged, TenantID: tenantID, UserID: info.User.ID, Email: info.User.Email, Name: info.User.Name, Meta: meta})
	}
	return info.User, nil
}

// RequestReset sends a password-reset link when email belongs to an
// active account. It answers the same whatever the address, so that it
// cannot be used to learn which addresses have accounts.
func (u *Users) RequestReset(ctx context.Context, tenantID, email string, meta RequestMeta) error {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil
	}
	idx, err := u.emailIndex(ctx, tenantID, email)
	if err != nil {
		return err
	}
	// Counted per address, known or not, before anything else: the answer
	// is the same either way.
	if ok, err := u.AllowSend(ctx, tenantID, fmt.Sprintf("%x", idx[:16]), "reset"); err != nil || !ok {
		if err != nil {
			return err
		}
		u.record(ctx, tenantID, Event{Actor: "anonymous", Action: "user.password.reset_request", Target: "user:unknown", Outcome: "failure", Meta: meta,
			Details: map[string]string{"reason": "too_many"}})
		return nil
	}
	var (
		row     = new(userRow)
		token   string
		expires = u.now().Add(time.Hour)
	)
	err = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		err := tx.Select(row).Where("email_index = ?", idx).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return u.rec.Record(ctx, tx, Event{Actor: "anonymous", Action: "user.password.reset_request", Target: "user:unknown", Outcome: "failure", Meta: meta})
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		if row.Status != Active {
			return u.rec.Record(ctx, tx, Event{Actor: "anonymous", Action: "user.password.reset_request", Target: "user:" + row.ID, Outcome: "failure", Meta: meta,
				Details: map[string]string{"reason": string(row.Status)}})
		}
		if token, err = u.issueToken(ctx, tx, row.ID, purposeReset, expires); err != nil {
			return err
		}
		return u.rec.Record(ctx, tx, Event{Actor: "anonymous", Action: "user.password.reset_request", Target: "user:" + row.ID, Outcome: "success", Meta: meta})
	})
	if err != nil || token == "" {
		return err
	}
	usr, err := u.open(ctx, row)
	if err != nil {
		return err
	}
	return u.notify.Notify(ctx, Notice{Kind: NoticePasswordReset, TenantID: tenantID, UserID: usr.ID, Email: usr.Email, Name: usr.Name, Token: token, Expires: expires, Meta: meta})
}

// Inform sends an informational notice (a new factor, a password
// change); a failure is logged, not returned, because the change it
// reports has already happened.
func (u *Users) Inform(ctx context.Context, n Notice) { u.inform(ctx, n) }

func (u *Users) inform(ctx context.Context, n Notice) {
	if err := u.notify.Notify(ctx, n); err != nil {
		u.opts.Logger.Warn("user notice not sent", "kind", string(n.Kind), "tenant", n.TenantID, "user", n.UserID, "error", err.Error())
	}
}

// Authenticate checks a user's e-mail address and password under the
// tenant's brute-force limits. Every refusal — unknown address, wrong
// password, locked account or source, disabled account — is
// ErrInvalidCredentials, after about the same time: the password hash
// (or a dummy one) is always verified, and delays grow with failures for
// known and unknown addresses alike.
func (u *Users) Authenticate(ctx context.Context, tenantID, email, pw string, meta RequestMeta) (*User, error) {
	settings, err := u.Settings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	e, emailErr := normalizeEmail(email)
	if emailErr != nil || len(pw) > 4*128 {
		_, _, _ = u.opts.Hasher.Verify(u.dummy, pw)
		return nil, ErrInvalidCredentials
	}
	idx, err := u.emailIndex(ctx, tenantID, e)
	if err != nil {
		return nil, err
	}
	row := new(userRow)
	found := true
	err = u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(row).Where("email_index = ?", idx).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		found = false
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	userID := ""
	if found {
		userID = row.ID
	}
	acctKey := accountKey(idx)
	ipKey := ""
	if meta.IP != "" {
		if ipKey, err = u.ipKey(ctx, tenantID, meta.IP); err != nil {
			return nil, err
		}
	}
	target := "user:unknown"
	if found {
		target = "user:" + row.ID
	}
	var ipV Verdict
	if ipKey != "" {
		if ipV, err = u.limiter.Reserve(ctx, tenantID, ipKey, "", settings.Lockout); err != nil {
			return nil, err
		}
	}
	acctV, err := u.limiter.Reserve(ctx, tenantID, acctKey, userID, settings.Lockout)
	if err != nil {
		return nil, err
	}
	if (ipKey != "" && !ipV.Allowed) || !acctV.Allowed {
		_, _, _ = u.opts.Hasher.Verify(u.dummy, pw)
		reason := "account_locked"
		if ipKey != "" && !ipV.Allowed {
			reason = "source_locked"
		}
		u.record(ctx, tenantID, Event{Actor: "anonymous", Action: "user.signin", Target: target, Outcome: "failure", Meta: meta,
			Details: map[string]string{"reason": reason}})
		return nil, ErrInvalidCredentials
	}
	hash := u.dummy
	if found && row.PasswordHash != nil {
		hash = *row.PasswordHash
	}
	ok, rehash, verr := u.opts.Hasher.Verify(hash, pw)
	if verr != nil && found && row.PasswordHash != nil {
		return nil, fmt.Errorf("user %s: %w", row.ID, verr)
	}
	if !found || row.PasswordHash == nil || !ok || row.Status != Active {
		reason := "wrong_password"
		switch {
		case !found:
			reason = "unknown_account"
		case row.Status != Active:
			reason = string(row.Status)
		}
		return nil, u.failed(ctx, tenantID, settings, found, row, acctKey, ipKey, acctV, ipV, target, reason, meta)
	}
	if err := u.limiter.Succeed(ctx, tenantID, acctKey, true); err != nil {
		return nil, err
	}
	if ipKey != "" {
		if err := u.limiter.Succeed(ctx, tenantID, ipKey, false); err != nil {
			return nil, err
		}
	}
	if rehash {
		if h, err := u.opts.Hasher.Hash(pw); err == nil {
			_ = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.Update((*userRow)(nil)).Set("password_hash = ?", h).Where("id = ?", row.ID).Exec(ctx)
				return err
			})
		}
	}
	return u.open(ctx, row)
}

// failed records a failed attempt: the audit event, a lockout when the
// threshold is reached (with a notice to the owner), and the delay.
func (u *Users) failed(ctx context.Context, tenantID string, settings Settings, found bool, row *userRow, acctKey, ipKey string, acctV, ipV Verdict, target, reason string, meta RequestMeta) error {
	locked, err := u.limiter.Fail(ctx, tenantID, acctKey, acctV.Count, settings.Lockout.AccountThreshold, settings.Lockout)
	if err != nil {
		return err
	}
	if ipKey != "" {
		if _, err := u.limiter.Fail(ctx, tenantID, ipKey, ipV.Count, settings.Lockout.IPThreshold, settings.Lockout); err != nil {
			return err
		}
	}
	u.record(ctx, tenantID, Event{Actor: "anonymous", Action: "user.signin", Target: target, Outcome: "failure", Meta: meta,
		Details: map[string]string{"reason": reason}})
	if !locked.IsZero() {
		u.record(ctx, tenantID, Event{Actor: "system", Action: "user.lockout", Target: target, Outcome: "success", Meta: meta,
			Details: map[string]string{"until": locked.Format(time.RFC3339)}})
		if found {
			if usr, err := u.open(ctx, row); err == nil {
				u.inform(ctx, Notice{Kind: NoticeLockout, TenantID: tenantID, UserID: usr.ID, Email: usr.Email, Name: usr.Name, Expires: locked, Meta: meta})
			}
		}
	}
	if d := max(acctV.Delay, ipV.Delay); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return ErrInvalidCredentials
}

// record writes an audit event in a transaction of its own; a failure is
// logged (the request is refused anyway).
func (u *Users) record(ctx context.Context, tenantID string, ev Event) {
	err := u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		return u.rec.Record(ctx, tx, ev)
	})
	if err != nil {
		u.opts.Logger.Error("audit event not written", "action", ev.Action, "tenant", tenantID, "error", err.Error())
	}
}

// ChangePassword checks the current password, sets a new one and ends
// every other session of the user.
func (u *Users) ChangePassword(ctx context.Context, tenantID, userID, keepSession, current, next string, secondFactor bool, meta RequestMeta) error {
	usr, err := u.Get(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	row := new(userRow)
	if err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(row).Where("id = ?", userID).Scan(ctx)
	}); err != nil {
		return fmt.Errorf("read user: %w", err)
	}
	if row.PasswordHash == nil || len(current) > 4*128 {
		return ErrInvalidCredentials
	}
	// The current password is checked under the account's sign-in limits:
	// a borrowed session must not be a way to guess it.
	err = u.guard(ctx, tenantID, accountKey(row.EmailIndex), userID, "password_check", meta, func() error {
		if ok, _, err := u.opts.Hasher.Verify(*row.PasswordHash, current); err != nil || !ok {
			u.record(ctx, tenantID, Event{Actor: "user:" + userID, Action: "user.password.change", Target: "user:" + userID, Outcome: "failure", Meta: meta,
				Details: map[string]string{"reason": "wrong_password"}})
			return ErrInvalidCredentials
		}
		return nil
	})
	if errors.Is(err, ErrLocked) {
		return ErrInvalidCredentials
	}
	if err != nil {
		return err
	}
	settings, err := u.Settings(ctx, tenantID)
	if err != nil {
		return err
	}
	if err := u.checkPassword(ctx, tenantID, settings, usr, next, !secondFactor); err != nil {
		return err
	}
	hash, err := u.opts.Hasher.Hash(next)
	if err != nil {
		return err
	}
	now := u.now()
	err = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Update((*userRow)(nil)).Set("password_hash = ?", hash).Set("password_changed_at = ?", now).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.Delete((*userSessionRow)(nil)).Where("user_id = ?", userID).Where("id <> ?", keepSession).Exec(ctx); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		return u.rec.Record(ctx, tx, Event{Actor: "user:" + userID, Action: "user.password.change", Target: "user:" + userID, Outcome: "success", Meta: meta})
	})
	if err != nil {
		return err
	}
	u.inform(ctx, Notice{Kind: NoticePasswordChanged, TenantID: tenantID, UserID: userID, Email: usr.Email, Name: usr.Name, Meta: meta})
	return nil
}

// GuardFactor runs verify, a check of a second factor (a TOTP, recovery
// or e-mail code), under the account's brute-force limits: the attempt is
// reserved first, so parallel guesses cannot pass the threshold, and
// failures lock the user's second step like wrong passwords lock
// sign-in. A refusal while locked wraps ErrLocked; verify's own error is
// returned otherwise.
func (u *Users) GuardFactor(ctx context.Context, tenantID, userID string, meta RequestMeta, verify func() error) error {
	return u.guard(ctx, tenantID, "factor:"+userID, userID, "second_factor", meta, verify)
}

// guard runs verify under the limits of key (see GuardFactor).
func (u *Users) guard(ctx context.Context, tenantID, key, userID, step string, meta RequestMeta, verify func() error) error {
	settings, err := u.Settings(ctx, tenantID)
	if err != nil {
		return err
	}
	v, err := u.limiter.Reserve(ctx, tenantID, key, userID, settings.Lockout)
	if err != nil {
		return err
	}
	if !v.Allowed {
		u.record(ctx, tenantID, Event{Actor: "user:" + userID, Action: "user." + step, Target: "user:" + userID, Outcome: "failure", Meta: meta,
			Details: map[string]string{"reason": "locked"}})
		return fmt.Errorf("%w until %s", ErrLocked, v.LockedUntil.UTC().Format(time.RFC3339))
	}
	if verr := verify(); verr != nil {
		locked, err := u.limiter.Fail(ctx, tenantID, key, v.Count, settings.Lockout.AccountThreshold, settings.Lockout)
		if err != nil {
			return err
		}
		if !locked.IsZero() {
			u.record(ctx, tenantID, Event{Actor: "system", Action: "user.lockout", Target: "user:" + userID, Outcome: "success", Meta: meta,
				Details: map[string]string{"until": locked.Format(time.RFC3339), "step": step}})
			if usr, err := u.Get(ctx, tenantID, userID); err == nil {
				u.inform(ctx, Notice{Kind: NoticeLockout, TenantID: tenantID, UserID: userID, Email: usr.Email, Name: usr.Name, Expires: locked, Meta: meta})
			}
		}
		return verr
	}
	return u.limiter.Succeed(ctx, tenantID, key, true)
}

// sendLimit bounds the messages (codes, reset links) one account can
// cause: five per quarter of an hour, then a pause of at least a quarter.
func sendLimit() Lockout {
	return Lockout{AccountThreshold: 5, IPThreshold: 5, Window: Duration(15 * time.Minute),
		LockFor: Duration(15 * time.Minute), MaxLockFor: Duration(time.Hour), DelayAfter: 5}
}

// AllowSend counts one message of kind (e.g. "mfa-email", "mfa-sms")
// caused for userID and reports whether it may go out: sending codes on
// request must not become a way to flood a mailbox or run up SMS costs.
func (u *Users) AllowSend(ctx context.Context, tenantID, userID, kind string) (bool, error) {
	v, err := u.limiter.Reserve(ctx, tenantID, "send:"+kind+":"+userID, "", sendLimit())
	if err != nil {
		return false, err
	}
	return v.Allowed, nil
}
