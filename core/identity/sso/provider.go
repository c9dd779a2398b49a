// Package sso signs tenant users in through their association's identity
// provider: OpenID Connect (authorization code flow with PKCE S256, a
// nonce and a single-use state) and the provider settings each tenant
// keeps.
//
// Providers and outstanding sign-ins live in tenant-scoped tables
// (row-level security on PostgreSQL). Client secrets and PKCE verifiers
// are sealed with the tenant's data key; a state is stored only as its
// SHA-256, is single use and lasts ten minutes. Every change to a
// provider is recorded in the audit log in the transaction of the change.
//
// The package verifies what the provider says and maps its claims to
// roles; finding or creating the user (identity.Users.ProvisionSSO),
// granting roles and opening the session are the caller's.
package sso

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
)

// Kind is the protocol a provider speaks.
type Kind string

// The protocols.
const (
	OIDC Kind = "oidc"
	SAML Kind = "saml"
)

// Errors of the package. Callers show one message per error and log
// nothing the provider sent.
var (
	// ErrNotFound is returned for a provider the tenant does not have.
	ErrNotFound = errors.New("sso: no such provider")
	// ErrDisabled is returned for a provider the tenant turned off.
	ErrDisabled = errors.New("sso: provider disabled")
	// ErrInvalid is wrapped by validation errors of provider settings.
	ErrInvalid = errors.New("sso: invalid provider settings")
	// ErrState is returned for an unknown, used or expired state.
	ErrState = errors.New("sso: sign-in state unknown, used or expired")
	// ErrRejected is wrapped by refusals of what the provider answered:
	// a bad token, a wrong nonce or audience, an unverified or
	// disallowed e-mail address.
	ErrRejected = errors.New("sso: identity rejected")
	// ErrUnreachable is wrapped when the provider cannot be reached or
	// its discovery document is unusable.
	ErrUnreachable = errors.New("sso: provider unreachable")
	// ErrUnsupported is returned for a flow this package does not
	// implement for the provider's kind.
	ErrUnsupported = errors.New("sso: unsupported for this provider kind")
)

// Config is a provider's settings, stored as JSON.
type Config struct {
	// Issuer is the OpenID Connect issuer URL (discovery is read from
	// Issuer + "/.well-known/openid-configuration").
	Issuer string `json:"issuer,omitempty"`
	// ClientID is the client registered with the provider; it is the
	// audience ID tokens must name.
	ClientID string `json:"client_id,omitempty"`
	// Scopes are requested besides "openid"; default "email profile".
	Scopes []string `json:"scopes,omitempty"`
	// RoleClaim names the claim (OIDC) or attribute (SAML) whose values
	// map to roles, e.g. "groups".
	RoleClaim string `json:"role_claim,omitempty"`
	// RoleMapping maps a value of RoleClaim to a role of the tenant.
	RoleMapping map[string]string `json:"role_mapping,omitempty"`
	// AllowedDomains, when not empty, lists the only e-mail domains
	// accepted.
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// SAMLMetadataURL or SAMLMetadataXML describe a SAML identity
	// provider.
	SAMLMetadataURL string `json:"saml_metadata_url,omitempty"`
	SAMLMetadataXML string `json:"saml_metadata_xml,omitempty"`
	// EmailAttribute and NameAttribute name the SAML attributes holding
	// the address and the display name.
	EmailAttribute string `json:"email_attribute,omitempty"`
	NameAttribute  string `json:"name_attribute,omitempty"`
}

// Provider is a tenant's identity provider.
type Provider struct {
	TenantID    string
	Name        string
	Kind        Kind
	DisplayName string
	Config      Config
	Enabled     bool
	// HasSecret reports whether a client secret is stored; the secret
	// itself never leaves the package.
	HasSecret bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

type providerRow struct {
	bun.BaseModel `bun:"table:sso_providers"`
	store.Owned
	Name         string    `bun:"name,pk"`
	Kind         Kind      `bun:"kind,notnull"`
	DisplayName  string    `bun:"display_name,notnull"`
	Config       string    `bun:"config,notnull"`
	ClientSecret []byte    `bun:"client_secret"`
	Enabled      bool      `bun:"enabled,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
}

func (r *providerRow) provider() (*Provider, error) {
	p := &Provider{TenantID: r.TenantID, Name: r.Name, Kind: r.Kind, DisplayName: r.DisplayName, Enabled: r.Enabled,
		HasSecret: len(r.ClientSecret) > 0, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Config), &p.Config); err != nil {
		return nil, fmt.Errorf("decode settings of provider %s: %w", r.Name, err)
	}
	return p, nil
}

func secretAD(tenantID, name string) []byte {
	return []byte("sso_providers.client_secret:" + tenantID + ":" + name)
}

// Options tune a Service. The zero value is ready to use.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// HTTPClient reaches identity providers; default a client with a
	// ten-second timeout.
	HTTPClient *http.Client
	// StateTTL is how long a sign-in may take; default and maximum ten
	// minutes.
	StateTTL time.Duration
}

// Service keeps tenants' providers and runs sign-ins. It is safe for
// concurrent use.
type Service struct {
	db   *store.DB
	keys identity.Keys
	rec  identity.Recorder
	opts Options
}

// NewService returns a Service storing providers in db, sealing secrets
// with keys and recording changes with rec.
func NewService(db *store.DB, keys identity.Keys, rec identity.Recorder, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.StateTTL <= 0 || opts.StateTTL > 10*time.Minute {
		opts.StateTTL = 10 * time.Minute
	}
	return &Service{db: db, keys: keys, rec: rec, opts: opts}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) scoped(ctx context.Context, tenantID string, write bool, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := s.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	if write {
		return sc.Tx(ctx, fn)
	}
	return sc.ReadTx(ctx, fn)
}

var nameRE = regexp.MustCompile(`^[a-z0-9-]{2,32}$`)

// ValidName reports whether name can name a provider: 2 to 32 lower-case
// letters, digits and hyphens.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Validate checks a provider's settings before they are stored.
func (p *Provider) Validate() error {
	bad := func(msg string) error { return fmt.Errorf("%w: %s", ErrInvalid, msg) }
	if !ValidName(p.Name) {
		return bad("a name has 2 to 32 lower-case letters, digits and hyphens")
	}
	if p.DisplayName == "" || utf8.RuneCountInString(p.DisplayName) > 100 || !utf8.ValidString(p.DisplayName) || strings.ContainsFunc(p.DisplayName, isControl) {
		return bad("a display name has 1 to 100 characters of text")
	}
	c := &p.Config
	switch p.Kind {
	case OIDC:
		if u, err := url.Parse(c.Issuer); err != nil || !secureURL(u) || u.RawQuery != "" || u.Fragment != "" {
			return bad("the issuer must be an absolute https URL")
		}
		if c.ClientID == "" || len(c.ClientID) > 256 {
			return bad("a client id is required")
		}
		for _, sc := range c.Scopes {
			if sc == "" || len(sc) > 64 || strings.ContainsAny(sc, " \t\r\n\"\\") {
				return bad("scopes are words without spaces or quotes")
			}
		}
	case SAML:
		if c.SAMLMetadataURL == "" && c.SAMLMetadataXML == "" {
			return bad("SAML needs the identity provider's metadata URL or XML")
		}
		if c.SAMLMetadataURL != "" {
			if u, err := url.Parse(c.SAMLMetadataURL); err != nil || !secureURL(u) {
				return bad("the metadata URL must be an absolute https URL")
			}
		}
		if len(c.SAMLMetadataXML) > 256<<10 {
			return bad("the metadata XML is too large")
		}
	default:
		return bad("the kind is oidc or saml")
	}
	if len(c.RoleClaim) > 128 || len(c.EmailAttribute) > 256 || len(c.NameAttribute) > 256 {
		return bad("claim and attribute names have at most 128 characters")
	}
	if len(c.RoleMapping) > 100 {
		return bad("at most 100 role mappings")
	}
	for k, v := range c.RoleMapping {
		if k == "" || len(k) > 256 || v == "" || len(v) > 64 {
			return bad("each role mapping is a claim value and a role name")
		}
	}
	if len(c.AllowedDomains) > 50 {
		return bad("at most 50 allowed domains")
	}
	for i, d := range c.AllowedDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" || len(d) > 253 || strings.ContainsAny(d, "@ /\\") {
			return bad("allowed domains are host names such as example.org")
		}
		c.AllowedDomains[i] = d
	}
	return nil
}

// secureURL reports whether u is an absolute https URL, or http to a
// loopback host (development and tests).
func secureURL(u *url.URL) bool {
	if u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if ip, err := netip.ParseAddr(h); err == nil {
			return ip.IsLoopback()
		}
		return h == "localhost"
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// List returns the tenant's providers by name.
func (s *Service) List(ctx context.Context, tenantID string) ([]Provider, error) {
	var rows []providerRow
	err := s.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&rows).OrderExpr("name").Limit(100).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list sso providers: %w", err)
	}
	out := make([]Provider, 0, len(rows))
	for i := range rows {
		p, err := rows[i].provider()
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// Enabled returns the tenant's enabled providers by name, for the
// sign-in page.
func (s *Service) Enabled(ctx context.Context, tenantID string) ([]Provider, error) {
	all, err := s.List(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(p Provider) bool { return !p.Enabled }), nil
}

// Get returns one provider of the tenant (ErrNotFound).
func (s *Service) Get(ctx context.Context, tenantID, name string) (*Provider, error) {
	row, err := s.getRow(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	return row.provider()
}

func (s *Service) getRow(ctx context.Context, tenantID, name string) (*providerRow, error) {
	if !ValidName(name) {
		return nil, ErrNotFound
	}
	row := new(providerRow)
	err := s.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(row).Where("name = ?", name).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read sso provider: %w", err)
	}
	return row, nil
}

// Save adds the provider p or replaces its settings. An empty secret
// keeps the stored client secret; the flag Enabled is stored as given. A
// SAML provider gets a service-provider key of its own instead of a
// secret.
func (s *Service) Save(ctx context.Context, tenantID, actor string, p Provider, secret string, meta identity.RequestMeta) error {
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	if err := p.Validate(); err != nil {
		return err
	}
	if len(secret) > 1024 {
		return fmt.Errorf("%w: the client secret is too long", ErrInvalid)
	}
	cfg, err := json.Marshal(p.Config)
	if err != nil {
		return fmt.Errorf("encode provider settings: %w", err)
	}
	if p.Kind == SAML {
		// A SAML provider's secret is the service provider's own key, made
		// here once; nothing typed in replaces it.
		secret = ""
		if old, err := s.getRow(ctx, tenantID, p.Name); errors.Is(err, ErrNotFound) || (err == nil && (old.Kind != SAML || len(old.ClientSecret) == 0)) {
			if secret, err = newSAMLKey(); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	var sealed []byte
	if secret != "" {
		if sealed, err = s.keys.Seal(ctx, tenantID, []byte(secret), secretAD(tenantID, p.Name)); err != nil {
			return fmt.Errorf("seal client secret: %w", err)
		}
	}
	now := s.now()
	return s.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		old := new(providerRow)
		err := tx.Select(old).Where("name = ?", p.Name).Scan(ctx)
		action := "sso.provider.update"
		switch {
		case errors.Is(err, sql.ErrNoRows):
			action = "sso.provider.create"
			row := &providerRow{Name: p.Name, Kind: p.Kind, DisplayName: p.DisplayName, Config: string(cfg), ClientSecret: sealed,
				Enabled: p.Enabled, CreatedAt: now, UpdatedAt: now}
			if err := tx.Insert(ctx, row); err != nil {
				return fmt.Errorf("insert sso provider: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read sso provider: %w", err)
		default:
			q := tx.Update((*providerRow)(nil)).Set("kind = ?", p.Kind).Set("display_name = ?", p.DisplayName).Set("config = ?", string(cfg)).
				Set("enabled = ?", p.Enabled).Set("updated_at = ?", now).Where("name = ?", p.Name)
			if sealed != nil {
				q = q.Set("client_secret = ?", sealed)
			}
			if _, err := q.Exec(ctx); err != nil {
				return fmt.Errorf("update sso provider: %w", err)
			}
		}
		return s.rec.Record(ctx, tx, identity.Event{Actor: actor, Action: action, Target: "sso:" + p.Name, Outcome: "success", Meta: meta,
			Details: map[string]string{"kind": string(p.Kind), "enabled": fmt.Sprint(p.Enabled), "secret_changed": fmt.Sprint(sealed != nil)}})
	})
}

// SetEnabled turns a provider on or off.
func (s *Service) SetEnabled(ctx context.Context, tenantID, actor, name string, enabled bool, meta identity.RequestMeta) error {
	if !ValidName(name) {
		return ErrNotFound
	}
	return s.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Update((*providerRow)(nil)).Set("enabled = ?", enabled).Set("updated_at = ?", s.now()).Where("name = ?", name).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update sso provider: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		action := "sso.provider.disable"
		if enabled {
			action = "sso.provider.enable"
		}
		return s.rec.Record(ctx, tx, identity.Event{Actor: actor, Action: action, Target: "sso:" + name, Outcome: "success", Meta: meta})
	})
}

// clientSecret opens the stored client secret of row ("" when none).
func (s *Service) clientSecret(ctx context.Context, row *providerRow) (string, error) {
	if len(row.ClientSecret) == 0 {
		return "", nil
	}
	b, err := s.keys.Open(ctx, row.TenantID, row.ClientSecret, secretAD(row.TenantID, row.Name))
	if err != nil {
		return "", fmt.Errorf("open client secret of provider %s: %w", row.Name, err)
	}
	return string(b), nil
}
