// Package server is Plenum's HTTP server, built on Fiber: the middleware
// chain every request passes (request id, security headers, access log and
// metrics, panic recovery), the routes, and the one place where errors are
// turned into responses.
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

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/web"
)

// Options configure the server.
type Options struct {
	// BaseURL is the public URL; https:// makes cookies Secure and turns
	// on HSTS.
	BaseURL string
	// TLS reports that the server itself terminates TLS (HSTS on).
	TLS bool
	// TrustedProxies lists addresses or CIDRs whose X-Forwarded-For and
	// X-Request-ID are believed. None by default.
	TrustedProxies []string
	// HostTenants also resolves tenants by the Host header.
	HostTenants bool
	// MetricsFrom lists the networks that may read /metrics; default
	// loopback only.
	MetricsFrom []netip.Prefix
	// BodyLimit caps request bodies (default 1 MiB), except on upload
	// routes, which allow UploadLimit (default 64 MiB).
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

// Pinger checks that a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// OperatorAuth signs platform operators in and out. core/identity's
// Operators satisfies it.
type OperatorAuth interface {
	SignIn(ctx context.Context, email, password string, meta identity.RequestMeta) (string, *identity.Session, error)
	Session(ctx context.Context, token string) (*identity.Session, error)
	SignOut(ctx context.Context, token string, meta identity.RequestMeta) error
}

// Deps are the services the server calls.
type Deps struct {
	Logger    *slog.Logger
	Tenants   TenantStore
	DB        Pinger
	Metrics   *prometheus.Registry
	Operators OperatorAuth
	// Plugins serves the operator's plugin API; nil leaves it out.
	Plugins PluginRegistry
}

// Server is the HTTP server.
type Server struct {
	opts    Options
	deps    Deps
	app     *fiber.App
	pages   *web.Pages
	metrics *metrics
	secure  bool // cookies Secure, HSTS
}

// New builds the server and its routes.
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
		return nil, errors.New("server: Tenants and DB are required")
	}
	pages, err := web.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, deps: deps, pages: pages}
	if u, err := url.Parse(opts.BaseURL); err == nil && u.Scheme == "https" {
		s.secure = true
	}
	s.secure = s.secure || opts.TLS
	if s.metrics, err = newMetrics(deps.Metrics); err != nil {
		return nil, err
	}
	s.app = fiber.New(fiber.Config{
		AppName:                 "plenum",
		DisableStartupMessage:   true,
		BodyLimit:               opts.UploadLimit,
		ReadTimeout:             opts.ReadTimeout,
		WriteTimeout:            opts.WriteTimeout,
		IdleTimeout:             opts.IdleTimeout,
		ReadBufferSize:          16 << 10,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          opts.TrustedProxies,
		ProxyHeader:             fiber.HeaderXForwardedFor,
		ErrorHandler:            s.handleError,
	})
	s.routes()
	return s, nil
}

// App returns the Fiber app, for tests.
func (s *Server) App() *fiber.App { return s.app }

// Serve accepts connections on ln until Shutdown.
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

// clientIP returns the client's address, believing X-Forwarded-For only
// from trusted proxies.
func clientIP(c *fiber.Ctx) string {
	ip := c.IP()
	if i := strings.IndexByte(ip, ','); i >= 0 {
		ip = strings.TrimSpace(ip[:i])
	}
	return ip
}
