package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/tenancy"
)

// tenantOf returns the tenant resolved for the request, or nil.
func tenantOf(c *fiber.Ctx) *tenancy.Tenant {
	t, _ := c.Locals(localTenant).(*tenancy.Tenant)
	return t
}

// withTenant resolves the tenant named in the path. Unknown and deleted
// tenants are 404 — the same answer, so a response tells nothing about
// whether a slug was ever used — and suspended ones 403. With HostTenants,
// a tenant's own host name serves that tenant only.
func (s *Server) withTenant(c *fiber.Ctx) error {
	t, err := s.deps.Tenants.BySlug(c.UserContext(), c.Params("slug"))
	if errors.Is(err, tenancy.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	if s.opts.HostTenants {
		owner, err := s.hostTenant(c)
		if err != nil {
			return err
		}
		if owner != nil && owner.ID != t.ID {
			return fiber.ErrNotFound
		}
	}
	if err := s.enterTenant(c, t); err != nil {
		return err
	}
	return c.Next()
}

// enterTenant checks that t serves requests and puts it in the request's
// context (tenancy.WithTenant) and Locals.
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
	return nil
}
