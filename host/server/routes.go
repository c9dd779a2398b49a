package server

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plenum-vote/plenum/host/web"
)

// routes wires every route, in one place, one bind function per area.
func (s *Server) routes() {
	app := s.app
	app.Use(s.withRequestID, s.withSecurityHeaders, s.withAccessLog, s.withRecover, s.withBodyLimit)
	s.bindPlatform(app)
	s.bindTenant(app)
	s.bindOperator(app)
	s.bindOperatorAPI(app)
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

// bindPlatform: the start page, health, readiness, metrics, static files.
func (s *Server) bindPlatform(app *fiber.App) {
	app.Get("/", s.index)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", s.ready)
	metricsHandler := adaptor.HTTPHandler(promhttp.HandlerFor(s.deps.Metrics, promhttp.HandlerOpts{}))
	app.Get("/metrics", func(c *fiber.Ctx) error {
		ip, err := netip.ParseAddr(c.Context().RemoteIP().String())
		if err != nil || !s.metricsAllowed(ip.Unmap()) {
			return fiber.ErrNotFound
		}
		return metricsHandler(c)
	})
	app.Use("/static", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		return c.Next()
	}, filesystem.New(filesystem.Config{Root: http.FS(web.Static())}))
}

func (s *Server) metricsAllowed(ip netip.Addr) bool {
	for _, p := range s.opts.MetricsFrom {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) index(c *fiber.Ctx) error {
	if s.opts.HostTenants {
		if t, err := s.deps.Tenants.ByHost(c.UserContext(), c.Hostname()); err == nil {
			return s.serveTenantLanding(c, t)
		}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.pages.Render(c, web.PageIndex, nil)
}

// ready answers 200 when every dependency answers, 503 naming the failed
// check otherwise.
func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := s.deps.DB.Ping(ctx); err != nil {
		s.deps.Logger.Warn("readiness check failed", "check", "database", "error", err.Error())
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "failed": []string{"database"}})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
