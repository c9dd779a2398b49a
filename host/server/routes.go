package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"net"
	"path"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/web"
)

// routes wires every route, in one place: the middleware chain every
// request passes, then one bind function per area, then the 404 for
// everything else.
func (s *Server) routes() {
	s.app.Use(s.withRequestID, s.withRecover, s.withSecurityHeaders, s.withAccessLog, s.withMetrics, s.withBodyLimit)
	s.bindPlatform(s.app)
	s.bindTenant(s.app)
	s.bindOperator(s.app)
	s.bindOperatorAPI(s.app)
	s.app.Use(func(c *fiber.Ctx) error {
		c.Locals(localUnmatched, true)
		return fiber.ErrNotFound
	})
}

// bindPlatform: the start page, health, readiness, metrics, static files.
func (s *Server) bindPlatform(app *fiber.App) {
	app.Get("/", s.index)
	app.Get("/healthz", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.SendString("ok")
	})
	app.Get("/readyz", s.ready)
	metricsHandler := adaptor.HTTPHandler(promhttp.HandlerFor(s.deps.Metrics, promhttp.HandlerOpts{}))
	app.Get("/metrics", func(c *fiber.Ctx) error {
		if !s.metricsAllowed(c) {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return metricsHandler(c)
	})
	app.Get("/static/*", s.static)
}

// index is the platform page, or, with HostTenants, the landing page of
// the tenant whose host name the request names.
func (s *Server) index(c *fiber.Ctx) error {
	if s.opts.HostTenants {
		t, err := s.hostTenant(c)
		if err != nil {
			return err
		}
		if t != nil {
			if err := s.enterTenant(c, t); err != nil {
				return err
			}
			return s.tenantLanding(c)
		}
	}
	return s.render(c, fiber.StatusOK, web.PageIndex, nil)
}

// ready answers 200 when every dependency answers, 503 naming the failed
// check otherwise. The cause goes to the log, not to the client.
func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := s.deps.DB.Ping(ctx); err != nil {
		s.deps.Logger.Warn("readiness check failed", "request_id", requestIDOf(c), "check", "database", "error", err.Error())
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "failed": []string{"database"}})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

func (s *Server) metricsAllowed(c *fiber.Ctx) bool {
	a := s.clientAddr(c)
	for _, p := range s.opts.MetricsFrom {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// asset is one embedded static file, read once at start.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

func loadAssets(fsys fs.FS) (map[string]asset, error) {
	out := make(map[string]asset)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(b)
		out[p] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out, err
}

// static serves the embedded assets. Their URLs carry a content version
// (web.AssetURL), so they may be cached for a year as immutable.
func (s *Server) static(c *fiber.Ctx) error {
	a, ok := s.assets[c.Params("*")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, a.etag)
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.contentType)
	return c.Send(a.body)
}

// bindTenant: everything under /t/{slug}/, behind tenant resolution.
func (s *Server) bindTenant(app *fiber.App) {
	g := app.Group("/t/:slug", s.withTenant)
	if s.deps.Users == nil {
		g.Get("/", s.tenantLanding)
		return
	}
	s.tenantRoute(g, fiber.MethodGet, "/", public(), s.tenantHome)
	s.bindMember(g)
	s.bindAdmin(g)
	s.bindUnits(g)
	s.bindBallots(g)
	if s.deps.SSO != nil {
		s.bindSSO(g)
	}
}

func (s *Server) tenantLanding(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, web.PageTenant, web.TenantData{Frame: web.Frame{Tenant: tenantOf(c).Name, Slug: tenantOf(c).Slug}, Name: tenantOf(c).Name})
}

// tenantHome is the landing page, showing the signed-in user when there
// is one.
func (s *Server) tenantHome(c *fiber.Ctx) error {
	t := tenantOf(c)
	if sess, err := s.deps.Users.Session(c.UserContext(), t.ID, c.Cookies(userCookie)); err == nil && sess.Stage == identity.StageFull {
		c.Locals(localUserSess, sess)
		if u, err := s.deps.Users.Get(c.UserContext(), t.ID, sess.UserID); err == nil {
			c.Locals(localUser, u)
			if p, err := s.principal(c.UserContext(), t, sess); err == nil {
				c.Locals(localPrincipal, p)
			}
		}
	}
	d := web.TenantData{Frame: s.frame(c), Name: t.Name}
	if userOf(c) != nil && principalOf(c) != nil {
		if err := s.memberHome(c, &d); err != nil {
			return err
		}
	}
	return s.render(c, fiber.StatusOK, web.PageTenant, d)
}

// hostTenant returns the tenant owning the request's host name, or nil.
func (s *Server) hostTenant(c *fiber.Ctx) (*tenancy.Tenant, error) {
	host := c.Hostname()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	t, err := s.deps.Tenants.ByHost(c.UserContext(), host)
	if errors.Is(err, tenancy.ErrNotFound) {
		return nil, nil
	}
	return t, err
}
