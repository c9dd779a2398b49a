// Package registry installs plugins for the operator and binds them to
// tenants' hooks: it checks each module and manifest (schema, ABI,
// signature by a trusted key), keeps the modules in the database, records
// which plugin decides which hook for a tenant with the tenant's config
// (validated against the plugin's config schema), and audits every change.
package registry

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/schemas"
	"github.com/plenum-vote/plenum/sdk"
)

// Errors of the registry.
var (
	ErrNotFound = errors.New("plugin not found")
	ErrExists   = errors.New("plugin version already installed with other content")
	ErrRefused  = errors.New("plugin refused")
)

// Installed is an installed plugin version.
type Installed struct {
	bun.BaseModel `bun:"table:plugins"`
	Name          string    `bun:"name,pk"`
	Version       string    `bun:"version,pk"`
	SHA256        string    `bun:"sha256,notnull"`
	Manifest      string    `bun:"manifest,notnull"`
	Module        []byte    `bun:"module,notnull"`
	SignedBy      *string   `bun:"signed_by"`
	OwnerTenantID *string   `bun:"owner_tenant_id"`
	InstalledAt   time.Time `bun:"installed_at,notnull"`
	InstalledBy   string    `bun:"installed_by,notnull"`
}

// Binding says which plugin decides a hook for a tenant.
type Binding struct {
	bun.BaseModel `bun:"table:tenant_plugins"`
	store.Owned
	Hook          string    `bun:"hook,pk"`
	PluginName    string    `bun:"plugin_name,notnull"`
	PluginVersion string    `bun:"plugin_version,notnull"`
	Config        string    `bun:"config,notnull"`
	EnabledAt     time.Time `bun:"enabled_at,notnull"`
	EnabledBy     string    `bun:"enabled_by,notnull"`
}

// Options configure a Registry.
type Options struct {
	// Trusted are the public keys whose signatures the operator accepts.
	Trusted []ed25519.PublicKey
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Registry installs plugins and binds them to tenants.
type Registry struct {
	db      *store.DB
	log     *audit.Log
	schemas *schemas.Set
	opts    Options
}

// New returns a registry.
func New(db *store.DB, log *audit.Log, opts Options) (*Registry, error) {
	s, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Registry{db: db, log: log, schemas: s, opts: opts}, nil
}

// InstallRequest is an operator's install.
type InstallRequest struct {
	Module   []byte
	Manifest []byte
	// AllowUnsigned accepts a plugin without a trusted signature.
	AllowUnsigned bool
	// OwnerTenantID makes the plugin private to that tenant: uploaded by
	// its admins, it may be unsigned, is visible to it alone and always
	// runs under the strictest limits.
	OwnerTenantID string
	Actor         string
}

// Install checks and stores a plugin version. Installing the same bytes
// again is a no-op; other bytes under an installed name and version are
// refused.
func (r *Registry) Install(ctx context.Context, req InstallRequest) (*Installed, error) {
	if err := r.schemas.Validate(schemas.Plugin, req.Manifest); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrRefused, err)
	}
	m, err := sdk.ParseManifest(req.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	info, err := wasm.Inspect(ctx, req.Module)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if !info.Plugin || info.ABI != m.ABI {
		return nil, fmt.Errorf("%w: the module is not a Plenum plugin of ABI v%d", ErrRefused, m.ABI)
	}
	var signedBy *string
	keyID, verr := sdk.Verify(m, req.Module, r.opts.Trusted)
	switch {
	case verr == nil:
		signedBy = &keyID
	case req.AllowUnsigned, req.OwnerTenantID != "":
	default:
		return nil, fmt.Errorf("%w: %v (install unsigned plugins only with explicit permission)", ErrRefused, verr)
	}
	sum := sha256.Sum256(req.Module)
	rec := &Installed{
		Name: m.Name, Version: m.Version, SHA256: hex.EncodeToString(sum[:]), Manifest: string(req.Manifest),
		Module: req.Module, SignedBy: signedBy,
		InstalledAt: r.opts.Now().UTC().Truncate(time.Microsecond), InstalledBy: actorOr(req.Actor),
	}
	chain := audit.PlatformChain
	if req.OwnerTenantID != "" {
		if !store.ValidTenantID(req.OwnerTenantID) {
			return nil, store.ErrNoTenant
		}
		rec.OwnerTenantID = &req.OwnerTenantID
		chain = req.OwnerTenantID
	}
	err = r.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var prev Installed
		err := tx.NewSelect().Model(&prev).Column("sha256", "manifest").Where("name = ? AND version = ?", m.Name, m.Version).Scan(ctx)
		switch {
		case err == nil && prev.SHA256 == rec.SHA256 && prev.Manifest == rec.Manifest:
			return nil
		case err == nil:
			return fmt.Errorf("%w: %s %s", ErrExists, m.Name, m.Version)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read plugins: %w", err)
		}
		if _, err := tx.NewInsert().Model(rec).Exec(ctx); err != nil {
			return fmt.Errorf("store plugin: %w", err)
		}
		details := map[string]string{"plugin": m.Name, "version": m.Version, "sha256": rec.SHA256, "hooks": strings.Join(m.Hooks, ",")}
		if signedBy != nil {
			details["signed_by"] = *signedBy
		} else {
			details["unsigned"] = "true"
		}
		return r.audit(ctx, tx, chain, audit.Event{Actor: rec.InstalledBy, Action: "plugin.install", Target: "plugin:" + m.Name + "@" + m.Version, Details: details})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (r *Registry) audit(ctx context.Context, tx bun.Tx, chain string, ev audit.Event) error {
	stx, err := r.db.System().Scope(tx, chain)
	if err != nil {
		return err
	}
	_, err = r.log.Append(ctx, stx, ev)
	return err
}

// List returns the installed plugins (without their modules).
func (r *Registry) List(ctx context.Context) ([]Installed, error) {
	var ps []Installed
	err := r.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&ps).ExcludeColumn("module").Order("name", "version").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	return ps, nil
}

// Get returns an installed plugin version, module included.
func (r *Registry) Get(ctx context.Context, name, version string) (*Installed, error) {
	p := new(Installed)
	err := r.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(p).Where("name = ? AND version = ?", name, version).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("read plugin: %w", err)
	}
	return p, nil
}

// EnableRequest binds a plugin to one of a tenant's hooks.
type EnableRequest struct {
	TenantID string
	Hook     string
	Plugin   string
	Version  string
	// Config is the tenant's configuration, JSON, validated against the
	// plugin's config schema.
	Config []byte
	Actor  string
}

// Enable makes a plugin decide a hook for a tenant, replacing the one
// there was.
func (r *Registry) Enable(ctx context.Context, req EnableRequest) (*Binding, error) {
	p, err := r.Get(ctx, req.Plugin, req.Version)
	if err != nil {
		return nil, err
	}
	if p.OwnerTenantID != nil && *p.OwnerTenantID != req.TenantID {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, req.Plugin, req.Version)
	}
	m, err := sdk.ParseManifest([]byte(p.Manifest))
	if err != nil {
		return nil, err
	}
	if !slices.Contains(m.Hooks, req.Hook) {
		return nil, fmt.Errorf("%w: %s does not implement hook %q", ErrRefused, m.Name, req.Hook)
	}
	cfg := req.Config
	if len(strings.TrimSpace(string(cfg))) == 0 {
		cfg = []byte("{}")
	}
	if err := schemas.ValidateConfig(m.ConfigSchema, cfg); err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrRefused, err)
	}
	s, err := r.db.Scoped(req.TenantID)
	if err != nil {
		return nil, err
	}
	b := &Binding{Hook: req.Hook, PluginName: m.Name, PluginVersion: m.Version, Config: string(cfg),
		EnabledAt: r.opts.Now().UTC().Truncate(time.Microsecond), EnabledBy: actorOr(req.Actor)}
	err = s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Delete((*Binding)(nil)).Where("hook = ?", req.Hook).Exec(ctx); err != nil {
			return fmt.Errorf("replace binding: %w", err)
		}
		if err := tx.Insert(ctx, b); err != nil {
			return fmt.Errorf("store binding: %w", err)
		}
		_, err := r.log.Append(ctx, tx, audit.Event{Actor: b.EnabledBy, Action: "plugin.enable", Target: "hook:" + req.Hook,
			Details: map[string]string{"plugin": m.Name, "version": m.Version, "config_sha256": shaHex(cfg)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Disable removes the tenant's plugin for hook.
func (r *Registry) Disable(ctx context.Context, tenantID, hook, actor string) error {
	s, err := r.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return s.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*Binding)(nil)).Where("hook = ?", hook).Exec(ctx)
		if err != nil {
			return fmt.Errorf("disable: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no plugin enabled for hook %q", ErrNotFound, hook)
		}
		_, err = r.log.Append(ctx, tx, audit.Event{Actor: actorOr(actor), Action: "plugin.disable", Target: "hook:" + hook})
		return err
	})
}

// Bindings lists the tenant's enabled plugins.
func (r *Registry) Bindings(ctx context.Context, tenantID string) ([]Binding, error) {
	s, err := r.db.Scoped(tenantID)
	if err != nil {
		return nil, err
	}
	var bs []Binding
	err = s.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&bs).Order("hook").Scan(ctx)
	})
	return bs, err
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func actorOr(a string) string {
	if a == "" {
		return "system"
	}
	return a
}
