package mfa

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// ErrSignCount is returned by FinishLogin when a passkey's signature
// counter did not advance: the authenticator may have been cloned.
var ErrSignCount = errors.New("mfa: passkey signature counter did not advance")

// ErrNoCeremony is returned by FinishRegistration and FinishLogin when no
// ceremony was begun, or it expired or was already finished.
var ErrNoCeremony = errors.New("mfa: no pending passkey ceremony")

// The kinds of pending ceremony, one of each per user.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
	// CeremonyTTL is how long a begun passkey ceremony can be finished.
	CeremonyTTL = 5 * time.Minute
	maxLabel    = 64
)

// Passkeys registers and checks WebAuthn credentials (passkeys) as second
// factors of tenant users. Ceremony state is kept server-side, sealed with
// the tenant key; credential records are sealed too, except the
// credential id, the label, the AAGUID and the signature counter, which
// are needed in clear.
type Passkeys struct {
	s  *Service
	wa *webauthn.WebAuthn
}

// NewPasskeys returns the passkey side of s for the relying party
// described by cfg (RPID, RPDisplayName and RPOrigins at least).
func NewPasskeys(s *Service, cfg webauthn.Config) (*Passkeys, error) {
	wa, err := webauthn.New(&cfg)
	if err != nil {
		return nil, fmt.Errorf("configure WebAuthn: %w", err)
	}
	return &Passkeys{s: s, wa: wa}, nil
}

// User adapts a tenant user to webauthn.User. Its WebAuthn user handle is
// the user id, which carries no personal data.
type User struct {
	// TenantID and ID name the user.
	TenantID string
	ID       string
	// Name and DisplayName are shown by the authenticator while
	// registering; they are not stored.
	Name        string
	DisplayName string
	// Creds are the user's registered credentials.
	Creds []webauthn.Credential
}

var _ webauthn.User = (*User)(nil)

// WebAuthnID returns the user handle: the user id.
func (u *User) WebAuthnID() []byte { return []byte(u.ID) }

// WebAuthnName returns the account name shown by the authenticator.
func (u *User) WebAuthnName() string { return u.Name }

// WebAuthnDisplayName returns the name shown by the authenticator.
func (u *User) WebAuthnDisplayName() string { return u.DisplayName }

// WebAuthnCredentials returns the user's registered credentials.
func (u *User) WebAuthnCredentials() []webauthn.Credential { return u.Creds }

// Credential describes a registered passkey.
type Credential struct {
	// ID is the credential id chosen by the authenticator.
	ID []byte
	// Label is the user's name for the passkey ("Laptop").
	Label string
	// AAGUID names the authenticator model (zeros when not attested).
	AAGUID []byte
	// SignCount is the last signature counter seen.
	SignCount uint32
	// CreatedAt is when the passkey was registered; LastUsedAt when it
	// last passed FinishLogin (nil if never).
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func sessionAD(tenantID, userID, kind string) []byte {
	return []byte("plenum/mfa_webauthn_sessions/data/" + tenantID + "/" + userID + "/" + kind)
}

func credentialAD(tenantID, userID string, id []byte) []byte {
	return []byte("plenum/mfa_webauthn/credential/" + tenantID + "/" + userID + "/" + base64.RawURLEncoding.EncodeToString(id))
}

// loadCredentials opens userID's credential records; the signature counter
// comes from its clear column, which FinishLogin advances.
func (p *Passkeys) loadCredentials(ctx context.Context, tx *store.Tx, userID string) ([]webauthn.Credential, error) {
	var rows []webauthnRow
	if err := tx.Select(&rows).Where("user_id = ?", userID).Order("created_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load passkeys: %w", err)
	}
	tenantID := tx.TenantID()
	out := make([]webauthn.Credential, 0, len(rows))
	for _, r := range rows {
		b, err := p.s.sealer.Open(ctx, tenantID, r.Credential, credentialAD(tenantID, userID, r.CredentialID))
		if err != nil {
			return nil, fmt.Errorf("open passkey: %w", err)
		}
		var c webauthn.Credential
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("decode passkey: %w", err)
		}
		c.Authenticator.SignCount = uint32(r.SignCount)
		out = append(out, c)
	}
	return out, nil
}

// saveSession seals and stores the ceremony state of kind, replacing an
// earlier one.
func (p *Passkeys) saveSession(ctx context.Context, tx *store.Tx, userID, kind string, sd *webauthn.SessionData) error {
	b, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("encode passkey ceremony: %w", err)
	}
	sealed, err := p.s.sealer.Seal(ctx, tx.TenantID(), b, sessionAD(tx.TenantID(), userID, kind))
	if err != nil {
		return fmt.Errorf("seal passkey ceremony: %w", err)
	}
	row := &webauthnSessionRow{UserID: userID, Kind: kind, Data: sealed, ExpiresAt: p.s.now().Add(CeremonyTTL)}
	_, err = tx.NewInsert(row).
		On("CONFLICT (tenant_id, user_id, kind) DO UPDATE").
		Set("data = excluded.data").Set("expires_at = excluded.expires_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store passkey ceremony: %w", err)
	}
	return nil
}

// takeSession removes and returns the ceremony state of kind: a ceremony
// can be finished once. It is ErrNoCeremony when there is none or it
// expired.
func (p *Passkeys) takeSession(ctx context.Context, tx *store.Tx, userID, kind string) (*webauthn.SessionData, error) {
	row := new(webauthnSessionRow)
	if err := tx.Select(row).Where("user_id = ?", userID).Where("kind = ?", kind).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoCeremony
		}
		return nil, fmt.Errorf("load passkey ceremony: %w", err)
	}
	res, err := tx.Delete((*webauthnSessionRow)(nil)).Where("user_id = ?", userID).Where("kind = ?", kind).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("end passkey ceremony: %w", err)
	}
	if n, err := rowsAffected(res, "end passkey ceremony"); err != nil {
		return nil, err
	} else if n != 1 {
		return nil, ErrNoCeremony
	}
	if !row.ExpiresAt.After(p.s.now()) {
		return nil, ErrNoCeremony
	}
	b, err := p.s.sealer.Open(ctx, tx.TenantID(), row.Data, sessionAD(tx.TenantID(), userID, kind))
	if err != nil {
		return nil, fmt.Errorf("open passkey ceremony: %w", err)
	}
	sd := new(webauthn.SessionData)
	if err := json.Unmarshal(b, sd); err != nil {
		return nil, fmt.Errorf("decode passkey ceremony: %w", err)
	}
	return sd, nil
}

// BeginRegistration starts registering a passkey for userID, named name
// on the authenticator, and returns the options for
// navigator.credentials.create. Passkeys the user already has are
// excluded.
func (p *Passkeys) BeginRegistration(ctx context.Context, tenantID, userID, name string) (*protocol.CredentialCreation, error) {
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	if name == "" {
		name = userID
	}
	var creation *protocol.CredentialCreation
	err := p.s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		creds, err := p.loadCredentials(ctx, tx, userID)
		if err != nil {
			return err
		}
		u := &User{TenantID: tenantID, ID: userID, Name: name, DisplayName: name, Creds: creds}
		c, sd, err := p.wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(creds).CredentialDescriptors()))
		if err != nil {
			return fmt.Errorf("begin passkey registration: %w", err)
		}
		creation = c
		return p.saveSession(ctx, tx, userID, ceremonyRegister, sd)
	})
	if err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishRegistration checks the authenticator's response in r against
// the pending registration and stores the new passkey under label (1 to
// 64 characters; "Passkey" when empty). The pending ceremony is used up
// either way. A response that does not verify is ErrInvalid and is
// audited.
func (p *Passkeys) FinishRegistration(ctx context.Context, tenantID, userID, actor, label string, r *http.Request) (Credential, error) {
	if err := checkUser(userID); err != nil {
		return Credential{}, err
	}
	label = strings.TrimSpace(label)
	if label == "" {
		label = "Passkey"
	}
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > maxLabel {
		return Credential{}, fmt.Errorf("%w: label must be 1 to %d characters", ErrBadRequest, maxLabel)
	}
	var (
		out    Credential
		result error
	)
	err := p.s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		sd, err := p.takeSession(ctx, tx, userID, ceremonyRegister)
		if err != nil {
			return err
		}
		creds, err := p.loadCredentials(ctx, tx, userID)
		if err != nil {
			return err
		}
		u := &User{TenantID: tenantID, ID: userID, Creds: creds}
		cred, err := p.wa.FinishRegistration(u, *sd, r)
		if err != nil {
			result = fmt.Errorf("%w: passkey registration: %w", ErrInvalid, err)
			return p.s.failure(ctx, tx, userID, "webauthn", "registration")
		}
		b, err := json.Marshal(cred)
		if err != nil {
			return fmt.Errorf("encode passkey: %w", err)
		}
		sealed, err := p.s.sealer.Seal(ctx, tenantID, b, credentialAD(tenantID, userID, cred.ID))
		if err != nil {
			return fmt.Errorf("seal passkey: %w", err)
		}
		aaguid := cred.Authenticator.AAGUID
		if aaguid == nil {
			aaguid = []byte{}
		}
		row := &webauthnRow{
			CredentialID: cred.ID, UserID: userID, Label: label, AAGUID: aaguid,
			Credential: sealed, SignCount: int64(cred.Authenticator.SignCount), CreatedAt: p.s.now(),
		}
		if err := tx.Insert(ctx, row); err != nil {
			if store.IsUniqueViolation(err) {
				return ErrAlreadyEnrolled
			}
			return fmt.Errorf("store passkey: %w", err)
		}
		out = Credential{ID: row.CredentialID, Label: label, AAGUID: aaguid, SignCount: cred.Authenticator.SignCount, CreatedAt: row.CreatedAt}
		return p.s.record(ctx, tx, actor, "mfa.webauthn.register", userID, audit.Success,
			map[string]string{"aaguid": hex.EncodeToString(aaguid), "format": cred.AttestationFormat})
	})
	if err != nil {
		return Credential{}, err
	}
	if result != nil {
		return Credential{}, result
	}
	return out, nil
}

// BeginLogin starts a passkey check for userID and returns the options for
// navigator.credentials.get. It is ErrNotEnrolled when the user has no
// passkey.
func (p *Passkeys) BeginLogin(ctx context.Context, tenantID, userID string) (*protocol.CredentialAssertion, error) {
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	var assertion *protocol.CredentialAssertion
	err := p.s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		creds, err := p.loadCredentials(ctx, tx, userID)
		if err != nil {
			return err
		}
		if len(creds) == 0 {
			return ErrNotEnrolled
		}
		a, sd, err := p.wa.BeginLogin(&User{TenantID: tenantID, ID: userID, Creds: creds})
		if err != nil {
			return fmt.Errorf("begin passkey login: %w", err)
		}
		assertion = a
		return p.saveSession(ctx, tx, userID, ceremonyLogin, sd)
	})
	if err != nil {
		return nil, err
	}
	return assertion, nil
}

// FinishLogin checks the assertion in r against the pending login. It is
// ErrInvalid when the assertion does not verify and ErrSignCount when the
// passkey's signature counter did not advance (a counter that stays 0 is
// allowed: many authenticators do not keep one). The counter is advanced
// by a conditional UPDATE, so one assertion passes once. Failures are
// audited.
func (p *Passkeys) FinishLogin(ctx context.Context, tenantID, userID string, r *http.Request) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	var result error
	err := p.s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		sd, err := p.takeSession(ctx, tx, userID, ceremonyLogin)
		if err != nil {
			return err
		}
		creds, err := p.loadCredentials(ctx, tx, userID)
		if err != nil {
			return err
		}
		cred, err := p.wa.FinishLogin(&User{TenantID: tenantID, ID: userID, Creds: creds}, *sd, r)
		if err != nil {
			result = fmt.Errorf("%w: passkey login: %w", ErrInvalid, err)
			return p.s.failure(ctx, tx, userID, "webauthn", "invalid")
		}
		if cred.Authenticator.CloneWarning {
			result = ErrSignCount
			return p.s.failure(ctx, tx, userID, "webauthn", "signcount")
		}
		count := int64(cred.Authenticator.SignCount)
		res, err := tx.Update((*webauthnRow)(nil)).
			Set("sign_count = ?", count).Set("last_used_at = ?", p.s.now()).
			Where("user_id = ?", userID).Where("credential_id = ?", cred.ID).
			Where("(sign_count < ? OR (sign_count = 0 AND ? = 0))", count, count).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("record passkey use: %w", err)
		}
		if n, err := rowsAffected(res, "record passkey use"); err != nil {
			return err
		} else if n != 1 {
			result = ErrSignCount
			return p.s.failure(ctx, tx, userID, "webauthn", "signcount")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return result
}

// Credentials lists userID's passkeys, oldest first.
func (p *Passkeys) Credentials(ctx context.Context, tenantID, userID string) ([]Credential, error) {
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	var out []Credential
	err := p.s.readTx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var rows []webauthnRow
		if err := tx.Select(&rows).Where("user_id = ?", userID).Order("created_at").Scan(ctx); err != nil {
			return fmt.Errorf("list passkeys: %w", err)
		}
		for _, r := range rows {
			out = append(out, Credential{
				ID: r.CredentialID, Label: r.Label, AAGUID: r.AAGUID, SignCount: uint32(r.SignCount),
				CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveCredential deletes one of userID's passkeys. It is ErrNotEnrolled
// when the user has no passkey with that id.
func (p *Passkeys) RemoveCredential(ctx context.Context, tenantID, userID, actor string, credentialID []byte) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	return p.s.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*webauthnRow)(nil)).Where("user_id = ?", userID).Where("credential_id = ?", credentialID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove passkey: %w", err)
		}
		if n, err := rowsAffected(res, "remove passkey"); err != nil {
			return err
		} else if n == 0 {
			return ErrNotEnrolled
		}
		return p.s.record(ctx, tx, actor, "mfa.webauthn.remove", userID, audit.Success, nil)
	})
}
