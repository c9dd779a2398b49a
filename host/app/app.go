// Package app assembles a Plenum host from its configuration: it opens the
// database, the keyring and the audit log, builds the core services, runs
// the first-start set-up and serves HTTP until its context ends.
//
// Commands of host/cmd/plenum open an App, use the services they need and
// close it; `serve` also calls Serve.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/identity/sso"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/config"
	"github.com/plenum-vote/plenum/host/notify"
	"github.com/plenum-vote/plenum/host/registry"
	"github.com/plenum-vote/plenum/host/server"
	"github.com/plenum-vote/plenum/host/wasm"
)

// App is an assembled host.
type App struct {
	Config    config.Config
	Logger    *slog.Logger
	DB        *store.DB
	Keys      *crypto.Keyring
	Audit     *audit.Log
	Tenants   *tenancy.Service
	Operators *identity.Operators
	// Users, MFA and Access serve tenant users: accounts, second
	// factors, roles and CEL policies.
	Users        *identity.Users
	MFA          *mfa.Service
	Access       *access.Service
	AccessEngine *access.Engine
	// SSO keeps tenants' single sign-on providers and runs sign-ins.
	SSO *sso.Service
	// Passkeys registers and checks WebAuthn credentials (nil when the
	// base URL's host is an IP address).
	Passkeys *mfa.Passkeys
	// Units keeps tenants' units and their owners.
	Units *voting.Units
	// Ballots runs ballots, votes and tallies.
	Ballots *voting.Ballots
	// SMS sends one-time codes by text message; nil when not configured.
	SMS mfa.SMSSender
	// Mail sends e-mail: SMTP when configured, else .eml files.
	Mail notify.Sender
	// Notifier turns identity notices into e-mail.
	Notifier *notify.Mailer
	redis    redisCloser
	Metrics  *prometheus.Registry
	// Registry holds installed plugins and tenants' bindings.
	Registry *registry.Registry
	// Plugins is the wasm runtime; Runner calls tenants' plugins on it.
	Plugins *wasm.Runtime
	Runner  *registry.Runner
	// Server is the HTTP server; Serve runs it.
	Server *server.Server

	// masterKeyGenerated is set when Open generated a new master key.
	masterKeyGenerated bool
}

// Options tune Open.
type Options struct {
	// Migrate applies pending migrations; otherwise the schema must be
	// current.
	Migrate bool
}

// Open assembles the host described by cfg. Every failure is returned as
// one line that says what is wrong and how to fix it.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger, opts Options) (a *App, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a = &App{Config: cfg, Logger: logger, Metrics: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.Close()
			a = nil
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	a.DB, err = store.Open(ctx, cfg.StoreConfig())
	if err != nil {
		return nil, err
	}
	if opts.Migrate {
		applied, err := a.DB.Migrate(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate database: %w", err)
		}
		if len(applied) > 0 {
			logger.Info("database migrated", "versions", applied)
		}
	} else if err := a.DB.CheckSchema(ctx); err != nil {
		return nil, err
	}
	master, generated, err := loadMasterKey(cfg)
	if err != nil {
		return nil, err
	}
	a.masterKeyGenerated = generated
	a.Keys, err = crypto.NewKeyring(ctx, a.DB, master)
	if err != nil {
		if generated {
			// A fresh key cannot open keys stored by an earlier one: do not
			// leave the useless key behind to confuse the next start.
			_ = os.Remove(cfg.MasterKeyFile)
			return nil, fmt.Errorf("the master key file %s was missing, but the database holds data keys made with another master key: restore the original key file or set PLENUM_MASTER_KEY", cfg.MasterKeyFile)
		}
		return nil, err
	}
	signer, err := audit.LoadOrCreateSigningKey(cfg.AuditKeyFile)
	if err != nil {
		return nil, err
	}
	a.Audit, err = audit.New(ctx, a.DB, a.Keys, signer, audit.Options{})
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	rec := recorder{log: a.Audit}
	a.Tenants = tenancy.NewService(a.DB, a.Keys, rec, nil)
	a.Operators = identity.NewOperators(a.DB, a.Keys, identityRecorder{log: a.Audit}, identity.OperatorOptions{})
	if err := a.openIdentity(ctx); err != nil {
		return nil, err
	}
	a.Registry, err = registry.New(a.DB, a.Audit, registry.Options{Trusted: cfg.TrustedKeys()})
	if err != nil {
		return nil, err
	}
	a.Plugins, err = wasm.NewRuntime(ctx, wasm.RuntimeConfig{CacheDir: filepath.Join(cfg.DataDir, "plugin-cache"), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("plugin runtime: %w", err)
	}
	a.Runner = registry.NewRunner(a.Registry, a.Plugins)
	if err := a.openVoting(); err != nil {
		return nil, err
	}
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Server, err = server.New(server.Options{
		BaseURL:        cfg.BaseURL,
		TrustedProxies: cfg.TrustedProxies,
		HostTenants:    cfg.HostTenants,
	}, server.Deps{
		Logger:       logger,
		Tenants:      a.Tenants,
		DB:           a.DB,
		Metrics:      a.Metrics,
		Operators:    a.Operators,
		Plugins:      a.Registry,
		Users:        a.Users,
		MFA:          a.MFA,
		Access:       a.Access,
		AccessEngine: a.AccessEngine,
		Notifier:     a.Notifier,
		SSO:          a.SSO,
		Passkeys:     a.Passkeys,
		SMS:          a.SMS,
		Units:        a.Units,
		Ballots:      a.Ballots,
		Audit:        a.Audit,
		Eraser:       eraser{a},
	})
	if err != nil {
		return nil, fmt.Errorf("build server: %w", err)
	}
	return a, nil
}

// loadMasterKey reads the master key from PLENUM_MASTER_KEY or the key
// file, generating the file on a first start.
func loadMasterKey(cfg config.Config) (key *crypto.MasterKey, generated bool, err error) {
	if cfg.MasterKey != "" {
		k, err := crypto.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return nil, false, fmt.Errorf("PLENUM_MASTER_KEY: %w", err)
		}
		return k, false, nil
	}
	if _, err := os.Stat(cfg.MasterKeyFile); errors.Is(err, fs.ErrNotExist) {
		if err := crypto.GenerateMasterKeyFile(cfg.MasterKeyFile); err != nil {
			return nil, false, fmt.Errorf("generate master key: %w", err)
		}
		generated = true
	}
	k, err := crypto.LoadMasterKeyFile(cfg.MasterKeyFile)
	if err != nil {
		return nil, false, err
	}
	return k, generated, nil
}

// MasterKeyGenerated reports whether Open generated a new master key file.
func (a *App) MasterKeyGenerated() bool { return a.masterKeyGenerated }

// Close releases the plugin runtime and the database.
func (a *App) Close() {
	if a == nil {
		return
	}
	if a.Plugins != nil {
		_ = a.Plugins.Close(context.Background())
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.DB != nil {
		_ = a.DB.Close()
	}
}

// InitialPasswordFile is where the first operator's generated password is
// kept (0600) until the operator changes it.
func (a *App) InitialPasswordFile() string {
	return filepath.Join(a.Config.DataDir, "initial-operator-password")
}
