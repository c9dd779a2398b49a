package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/plenum-vote/plenum/core/store"
)

// ErrSSOLinked is returned by ProvisionSSO when the account with the
// identity's e-mail address is already linked to another single sign-on
// identity: the address alone never moves an account to a new identity.
var ErrSSOLinked = errors.New("the account is linked to another single sign-on identity")

// ErrSSOLinkRefused is returned when a provider vouches for the address
// of an existing account that may not be linked to it by address alone.
var ErrSSOLinkRefused = errors.New("this account cannot be linked to single sign-on by its address")

// ssoSubjectIndex is the blind index of a provider's subject, stored in
// users.sso_subject_index.
func (u *Users) ssoSubjectIndex(ctx context.Context, tenantID, provider, subject string) ([]byte, error) {
	idx, err := u.keys.BlindIndex(ctx, tenantID, "user.sso", []byte(provider+"\x00"+subject))
	if err != nil {
		return nil, fmt.Errorf("index sso subject: %w", err)
	}
	return idx, nil
}

// ProvisionSSO returns the user a single sign-on provider vouched for:
// the user already linked to (provider, subject); else the user with the
// e-mail address, whom it links (activating an invited one); else a new
// active user without a password (just-in-time provisioning), reported
// by created. Disabled users are refused with ErrInvalidCredentials. The
// caller must have checked that the provider verified the address.
// Links and creations are audited in the transaction that makes them.
//
// Linking by address is how a rogue or repointed provider would take over
// an account, so it is narrow: an account that has signed in with a
// password is never linked (ErrSSOLinkRefused: its owner signs in with
// the password), and mayLink, when not nil, must approve every other
// link (the host refuses accounts holding more than the member role).
func (u *Users) ProvisionSSO(ctx context.Context, tenantID, provider, subject, email, name string, meta RequestMeta, mayLink func(userID string) (bool, error)) (*User, bool, error) {
	if provider == "" || subject == "" || len(subject) > 1024 || len(provider) > 64 {
		return nil, false, fmt.Errorf("%w: single sign-on identity without provider or subject", ErrInvalid)
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, false, err
	}
	if name, err = cleanName(name); err != nil {
		name = "" // an unusable name from the provider is dropped, not fatal
	}
	subIdx, err := u.ssoSubjectIndex(ctx, tenantID, provider, subject)
	if err != nil {
		return nil, false, err
	}
	emailIdx, err := u.emailIndex(ctx, tenantID, email)
	if err != nil {
		return nil, false, err
	}
	var (
		row     *userRow
		created bool
	)
	err = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		row = new(userRow)
		err := tx.Select(row).Where("sso_subject_index = ?", subIdx).Scan(ctx)
		if err == nil {
			if row.Status == Disabled {
				return ErrInvalidCredentials
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find user by sso subject: %w", err)
		}
		row = new(userRow)
		err = tx.Select(row).Where("email_index = ?", emailIdx).Scan(ctx)
		switch {
		case err == nil:
			if row.PasswordHash != nil {
				return ErrSSOLinkRefused
			}
			if mayLink != nil {
				ok, err := mayLink(row.ID)
				if err != nil {
					return err
				}
				if !ok {
					return ErrSSOLinkRefused
				}
			}
			return u.linkSSO(ctx, tx, row, subIdx, provider, meta)
		case errors.Is(err, sql.ErrNoRows):
			created = true
			row, err = u.createSSO(ctx, tx, tenantID, email, name, emailIdx, subIdx, provider, meta)
			return err
		default:
			return fmt.Errorf("find user by e-mail: %w", err)
		}
	})
	if err != nil {
		return nil, false, err
	}
	usr, err := u.open(ctx, row)
	if err != nil {
		return nil, false, err
	}
	return usr, created, nil
}

// linkSSO links an existing user to the subject index, activating an
// invited user and ending their outstanding invitation.
func (u *Users) linkSSO(ctx context.Context, tx *store.Tx, row *userRow, subIdx []byte, provider string, meta RequestMeta) error {
	switch {
	case row.Status == Disabled:
		return ErrInvalidCredentials
	case row.SSOSubjectIndex != nil:
		return ErrSSOLinked
	}
	was := row.Status
	now := u.now()
	row.SSOSubjectIndex, row.Status, row.UpdatedAt = subIdx, Active, now
	if _, err := tx.Update((*userRow)(nil)).Set("sso_subject_index = ?", subIdx).Set("status = ?", Active).Set("updated_at = ?", now).
		Where("id = ?", row.ID).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("link sso subject: %w", ErrSSOLinked)
		}
		return fmt.Errorf("link sso subject: %w", err)
	}
	if was == Invited {
		if _, err := tx.Update((*tokenRow)(nil)).Set("used_at = ?", now).Where("user_id = ?", row.ID).Where("purpose = ?", purposeInvite).
			Where("used_at IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("end invitation: %w", err)
		}
	}
	return u.rec.Record(ctx, tx, Event{Actor: "user:" + row.ID, Action: "user.sso.link", Target: "user:" + row.ID, Outcome: "success", Meta: meta,
		Details: map[string]string{"provider": provider, "status": string(was) + " -> " + string(Active)}})
}

// createSSO inserts an active user without a password, linked to the
// subject index.
func (u *Users) createSSO(ctx context.Context, tx *store.Tx, tenantID, email, name string, emailIdx, subIdx []byte, provider string, meta RequestMeta) (*userRow, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("user id: %w", err)
	}
	now := u.now()
	row := &userRow{ID: id.String(), EmailIndex: emailIdx, Status: Active, CreatedAt: now, UpdatedAt: now, SSOSubjectIndex: subIdx}
	row.TenantID = tenantID
	if row.Email, err = u.keys.Seal(ctx, tenantID, []byte(email), userEmailAD(tenantID, row.ID)); err != nil {
		return nil, fmt.Errorf("seal e-mail: %w", err)
	}
	if name != "" {
		if row.Name, err = u.keys.Seal(ctx, tenantID, []byte(name), userNameAD(tenantID, row.ID)); err != nil {
			return nil, fmt.Errorf("seal name: %w", err)
		}
	}
	if err := tx.Insert(ctx, row); err != nil {
		if store.IsUniqueViolation(err) {
			return nil, fmt.Errorf("%w: this address or identity already has an account", ErrExists)
		}
		return nil, fmt.Errorf("insert user: %w", err)
	}
	if err := u.rec.Record(ctx, tx, Event{Actor: "user:" + row.ID, Action: "user.sso.create", Target: "user:" + row.ID, Outcome: "success", Meta: meta,
		Details: map[string]string{"provider": provider}}); err != nil {
		return nil, err
	}
	return row, nil
}
