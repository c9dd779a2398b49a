package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/web"
)

const localTenant = "plenum.tenant"

// tenantOf returns the tenant resolved for the request.
func tenantOf(c *fiber.Ctx) *tenancy.Tenant {
	t, _ := c.Locals(localTenant).(*tenancy.Tenant)
	return t
}

// bindTenant: everything under /t/{slug}/, behind tenant resolution.
func (s *Server) bindTenant(app *fiber.App) {
	g := app.Group("/t/:slug", s.withTenant)
	g.Get("/", func(c *fiber.Ctx) error { return s.serveTenantLanding(c, tenantOf(c)) })
}

// withTenant resolves the tenant named in the path and puts it in the
// request's context. Unknown and deleted tenants are 404 — the same answer,
// so the response tells nothing about whether a slug was ever used — and
// suspended ones 403.
func (s *Server) withTenant(c *fiber.Ctx) error {
	t, err := s.deps.Tenants.BySlug(c.UserContext(), c.Params("slug"))
	switch {
	case errors.Is(err, tenancy.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return err
	}
	return s.enterTenant(c, t)
}

func (s *Server) enterTenant(c *fiber.Ctx, t *tenancy.Tenant) error {
	switch t.Status {
	case tenancy.Active:
	case tenancy.Suspended:
		return errorf(fiber.StatusForbidden, "This association's space is suspended. Its board can tell you more.")
	default:
		return fiber.ErrNotFound
	}
	c.Locals(localTenant, t)
	c.SetUserContext(tenancy.WithTenant(c.UserContext(), t))
	return c.Next()
}

func (s *Server) serveTenantLanding(c *fiber.Ctx, t *tenancy.Tenant) error {
	if t.Status != tenancy.Active {
		return s.enterTenant(c, t) // answers 403 or 404
	}
	c.Locals(localTenant, t)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.pages.Render(c, web.PageTenant, map[string]any{"Tenant": t})
}
