package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/identity/password"
	"github.com/plenum-vote/plenum/core/identity/sso"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/egress"
	"github.com/plenum-vote/plenum/host/mail"
	"github.com/plenum-vote/plenum/host/notify"
	"github.com/plenum-vote/plenum/host/redisstate"
	"github.com/plenum-vote/plenum/host/sms"
)

// openIdentity builds the mailer, the attempt limiter (Redis when
// configured, else the database), and the user, MFA and access services.
func (a *App) openIdentity(ctx context.Context) error {
	cfg := a.Config
	var err error
	if cfg.Mail.From == "" {
		cfg.Mail.From = "plenum@localhost"
	}
	if cfg.Mail.SMTPHost != "" {
		a.Mail, err = mail.NewSMTP(mail.SMTPConfig{Host: cfg.Mail.SMTPHost, Port: cfg.Mail.SMTPPort, Username: cfg.Mail.Username,
			Password: cfg.Mail.Password, From: cfg.Mail.From, TLS: mail.TLSMode(cfg.Mail.TLS)})
	} else {
		dir := cfg.Mail.Dir
		if dir == "" {
			dir = filepath.Join(cfg.DataDir, "mail")
		}
		a.Mail, err = mail.NewFile(dir, cfg.Mail.From, a.Logger)
	}
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	a.Notifier = notify.New(a.Mail, a.Tenants, cfg.BaseURL)

	var limiter identity.AttemptLimiter = identity.NewDBLimiter(a.DB, nil)
	if cfg.Redis.Addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr, Username: cfg.Redis.Username, Password: cfg.Redis.Password, DB: cfg.Redis.DB,
			DialTimeout: 3 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
		a.redis = rdb
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rdb.Ping(pctx).Err(); err != nil {
			return fmt.Errorf("redis %s: %w", cfg.Redis.Addr, err)
		}
		limiter = redisstate.NewLimiter(rdb, "plenum:", nil)
	}
	opts := identity.UserOptions{Logger: a.Logger}
	if cfg.BreachCheckURL != "" {
		opts.Breached = &password.HIBP{BaseURL: cfg.BreachCheckURL, Client: &http.Client{Timeout: 5 * time.Second}}
	}
	a.Users = identity.NewUsers(a.DB, a.Keys, identityRecorder{log: a.Audit}, limiter, a.Notifier, tenantNames{a.Tenants}, opts)
	a.MFA = mfa.NewService(a.DB, a.Keys, a.Audit, mfa.Options{})
	a.AccessEngine, err = access.NewEngine(access.Limits{})
	if err != nil {
		return fmt.Errorf("access engine: %w", err)
	}
	a.Access = access.NewService(a.DB, a.AccessEngine, a.Audit, nil)
	a.SSO = sso.NewService(a.DB, a.Keys, identityRecorder{log: a.Audit},
		sso.Options{HTTPClient: egress.Client(10*time.Second, cfg.SSOAllowPrivateNetworks)})
	if cfg.SMS.WebhookURL != "" {
		if a.SMS, err = sms.NewWebhook(cfg.SMS.WebhookURL, []byte(cfg.SMS.Secret), nil); err != nil {
			return err
		}
	}
	a.Units = voting.NewUnits(a.DB, a.Audit, nil)
	// Passkeys are bound to a host name (the relying party id), which an
	// IP address cannot be: a host reached as http://127.0.0.1:8080 offers
	// TOTP, recovery and e-mail codes but no passkeys.
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		a.Passkeys, err = mfa.NewPasskeys(a.MFA, webauthn.Config{RPID: u.Hostname(), RPDisplayName: "Plenum", RPOrigins: []string{u.Scheme + "://" + u.Host}})
		if err != nil {
			return fmt.Errorf("passkeys: %w", err)
		}
	}
	return nil
}

// redisCloser is the part of a Redis client Close needs.
type redisCloser interface{ Close() error }

// tenantNames gives identity the names a password must not contain.
type tenantNames struct {
	tenants interface {
		Get(ctx context.Context, id string) (*tenancy.Tenant, error)
	}
}

// Names implements identity.TenantNames.
func (n tenantNames) Names(ctx context.Context, tenantID string) (string, string, error) {
	t, err := n.tenants.Get(ctx, tenantID)
	if err != nil {
		return "", "", err
	}
	return t.Name, t.Slug, nil
}
