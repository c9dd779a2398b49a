// Package server is Plenum's HTTP server, built on Fiber: the middleware
// chain every request passes (request id, panic recovery, security
// headers, access log, metrics), the routes, and the one place where
// errors are turned into responses.
//
// # Notes
//
// Handlers return errors; handleError maps an *HTTPError (safe message) or
// a *fiber.Error to an HTML error page, or JSON for /api/ paths and JSON
// clients. Any other error is a 500 whose cause is logged with the request
// id and never shown.
//
// Nothing personal or secret is logged: the access log holds the request
// id, method, route pattern, status, duration and tenant id only.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/identity/sso"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/web"
)

// Options configure the server. The zero value serves plain HTTP with the
// defaults below.
type Options struct {
	// BaseURL is the public URL, e.g. http://127.0.0.1:8080; https://
	// makes cookies Secure and turns on HSTS.
	BaseURL string
	// TLS reports that the server itself terminates TLS (HSTS on).
	TLS bool
	// TrustedProxies lists addresses or CIDRs whose X-Forwarded-For,
	// X-Forwarded-Host and X-Request-ID are believed. None by default.
	TrustedProxies []string
	// HostTenants also resolves tenants by the Host header: a tenant's own
	// host name serves its landing page at / and serves no other tenant.
	HostTenants bool
	// MetricsFrom lists the networks that may read /metrics, matched
	// against the client address (see TrustedProxies); default loopback
	// only. A reverse proxy on the same machine must be listed in
	// TrustedProxies, or else every request it forwards looks local.
	MetricsFrom []netip.Prefix
	// BodyLimit caps request bodies in bytes (default 1 MiB), except on
	// upload routes, which allow UploadLimit (default 64 MiB).
	BodyLimit   int
	UploadLimit int
	// ReadTimeout, WriteTimeout and IdleTimeout bound connections
	// (defaults 10 s, 30 s, 120 s).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// TenantStore finds tenants. core/tenancy's Service satisfies it.
type TenantStore interface {
	BySlug(ctx context.Context, slug string) (*tenancy.Tenant, error)
	ByHost(ctx context.Context, host string) (*tenancy.Tenant, error)
	List(ctx context.Context, withDeleted bool) ([]tenancy.Tenant, error)
}

// Pinger checks that a dependency answers. core/store's DB satisfies it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// OperatorAuth signs platform operators in and out. core/identity's
// Operators satisfies it.
type OperatorAuth interface {
	// SignIn returns identity.ErrInvalidCredentials for any failure.
	SignIn(ctx context.Context, email, password string, meta identity.RequestMeta) (token string, s *identity.Session, err error)
	// Session returns identity.ErrNoSession for an unknown, expired or
	// ended session.
	Session(ctx context.Context, token string) (*identity.Session, error)
	SignOut(ctx context.Context, token string, meta identity.RequestMeta) error
}

// Eraser erases a user's personal data while the association's records
// stay whole (core/lifecycle.EraseUser).
type Eraser interface {
	EraseUser(ctx context.Context, tenantID, actor, userID string) error
}

// Deps are the services the server calls.
type Deps struct {
	// Logger receives the access log and errors (default: discard).
	Logger *slog.Logger
	// Tenants is required.
	Tenants TenantStore
	// DB is required; /readyz pings it.
	DB Pinger
	// Metrics receives the server's collectors and is what /metrics
	// serves (default: a fresh registry).
	Metrics *prometheus.Registry
	// Operators may be nil: the operator pages then answer 503.
	Operators OperatorAuth
	// Plugins serves the operator's plugin API; nil leaves it out.
	Plugins PluginRegistry
	// Users, MFA, Access, AccessEngine and Notifier serve tenant users:
	// sign-in, accounts and the admin pages. When Users is nil, tenants
	// show their landing page only.
	Users        *identity.Users
	MFA          *mfa.Service
	Access       *access.Service
	AccessEngine *access.Engine
	Notifier     identity.Notifier
	// SSO serves single sign-on with tenants' identity providers; nil
	// leaves its routes out.
	SSO *sso.Service
	// Passkeys registers and checks WebAuthn credentials; nil when the
	// base URL has no host name a relying party id can be made of.
	Passkeys *mfa.Passkeys
	// Units keeps the tenant's units and owners; nil leaves the units
	// pages out.
	Units *voting.Units
	// Ballots runs the tenant's ballots; nil leaves the voting pages out.
	Ballots *voting.Ballots
	// Audit is the audit log, for a member's export of their own activity.
	Audit *audit.Log
	// Eraser erases a member's personal data (admin users page); nil
	// leaves the action out.
	Eraser Eraser
	// SMS sends sign-in codes by text message, the weakest fallback,
	// offered only where a tenant allows it; nil when not configured.
	SMS mfa.SMSSender
}

// Server is the HTTP server.
type Server struct {
	opts    Options
	deps    Deps
	app     *fiber.App
	pages   *web.Pages
	assets  map[string]asset
	metrics *metrics
	proxies []netip.Prefix
	secure  bool // cookies Secure, HSTS
	// guards holds what each tenant route declared ("METHOD /t/:slug/…").
	guards map[string]guard
}

// New checks opts and deps and builds the server and its routes.
func New(opts Options, deps Deps) (*Server, error) {
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = 1 << 20
	}
	if opts.UploadLimit < opts.BodyLimit {
		opts.UploadLimit = max(opts.BodyLimit, 64<<20)
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 10 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 120 * time.Second
	}
	if len(opts.MetricsFrom) == 0 {
		opts.MetricsFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = prometheus.NewRegistry()
	}
	if deps.Tenants == nil || deps.DB == nil {
		return nil, errors.New("server: Deps.Tenants and Deps.DB are required")
	}
	s := &Server{opts: opts, deps: deps, guards: map[string]guard{}}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("server: base URL %q is not an absolute http(s) URL", opts.BaseURL)
		}
		s.secure = u.Scheme == "https"
	}
	s.secure = s.secure || opts.TLS
	var err error
	if s.proxies, err = parseProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	if s.pages, err = web.Load(); err != nil {
		return nil, err
	}
	if s.assets, err = loadAssets(web.Static()); err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(deps.Metrics); err != nil {
		return nil, err
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "plenum",
		DisableStartupMessage: true,
		BodyLimit:             opts.UploadLimit, // withBodyLimit holds other routes to BodyLimit
		// Bodies are read when a handler asks for them, not before routing,
		// so withBodyLimit can refuse a large one from its Content-Length
		// before any of it is buffered.
		StreamRequestBody:       true,
		ReadTimeout:             opts.ReadTimeout,
		WriteTimeout:            opts.WriteTimeout,
		IdleTimeout:             opts.IdleTimeout,
		ReadBufferSize:          16 << 10, // also the limit on request headers
		EnableTrustedProxyCheck: true,
		TrustedProxies:          opts.TrustedProxies,
		ProxyHeader:             fiber.HeaderXForwardedFor,
		EnableIPValidation:      true,
		ErrorHandler:            s.handleError,
	})
	s.routes()
	return s, nil
}

// parseProxies parses addresses and CIDRs the way Fiber does, so that the
// server's own client-address logic agrees with c.IP().
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		p = strings.TrimSpace(p)
		if strings.Contains(p, "/") {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				return nil, fmt.Errorf("server: trusted proxy %q: %w", p, err)
			}
			out = append(out, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("server: trusted proxy %q: %w", p, err)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// App returns the Fiber app, for tests (app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Serve accepts connections on ln until Shutdown, then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// The services the host wires in satisfy the server's interfaces.
var (
	_ TenantStore  = (*tenancy.Service)(nil)
	_ Pinger       = (*store.DB)(nil)
	_ OperatorAuth = (*identity.Operators)(nil)
)
