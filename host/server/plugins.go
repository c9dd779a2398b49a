package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/registry"
)

// PluginRegistry installs plugins and binds them to tenants' hooks.
// host/registry's Registry satisfies it.
type PluginRegistry interface {
	Install(ctx context.Context, req registry.InstallRequest) (*registry.Installed, error)
	List(ctx context.Context) ([]registry.Installed, error)
	Enable(ctx context.Context, req registry.EnableRequest) (*registry.Binding, error)
	Disable(ctx context.Context, tenantID, hook, actor string) error
	Bindings(ctx context.Context, tenantID string) ([]registry.Binding, error)
}

// bindOperatorAPI: the operator's JSON API. Cookie-authenticated, so every
// state-changing call must carry the session's CSRF token in X-CSRF-Token.
func (s *Server) bindOperatorAPI(app *fiber.App) {
	if s.deps.Operators == nil || s.deps.Plugins == nil {
		return
	}
	g := app.Group("/api/operator", noStore, s.withOperator, s.withAPICSRF)
	g.Get("/plugins", s.apiListPlugins)
	g.Post("/plugins", s.apiInstallPlugin)
	g.Get("/tenants/:slug/plugins", s.apiBindings)
	g.Put("/tenants/:slug/plugins/:hook", s.apiEnablePlugin)
	g.Delete("/tenants/:slug/plugins/:hook", s.apiDisablePlugin)
}

func (s *Server) withAPICSRF(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Next()
	}
	if !equalTokens(sessionOf(c).CSRFToken, c.Get("X-CSRF-Token")) {
		return errorf(fiber.StatusForbidden, "missing or wrong X-CSRF-Token")
	}
	return c.Next()
}

func operatorActor(c *fiber.Ctx) string { return "operator:" + sessionOf(c).OperatorID }

type pluginJSON struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	SHA256      string `json:"sha256"`
	SignedBy    string `json:"signed_by,omitempty"`
	Private     bool   `json:"private"`
	InstalledAt string `json:"installed_at"`
}

func toJSON(p *registry.Installed) pluginJSON {
	j := pluginJSON{Name: p.Name, Version: p.Version, SHA256: p.SHA256, Private: p.OwnerTenantID != nil, InstalledAt: p.InstalledAt.Format("2006-01-02T15:04:05Z")}
	if p.SignedBy != nil {
		j.SignedBy = *p.SignedBy
	}
	return j
}

func (s *Server) apiListPlugins(c *fiber.Ctx) error {
	ps, err := s.deps.Plugins.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]pluginJSON, 0, len(ps))
	for i := range ps {
		out = append(out, toJSON(&ps[i]))
	}
	return c.JSON(out)
}

// apiInstallPlugin takes a multipart form: module (the .wasm), manifest
// (plugin.json) and allow_unsigned ("true" to accept an unsigned plugin).
func (s *Server) apiInstallPlugin(c *fiber.Ctx) error {
	module, err := formFile(c, "module", 64<<20)
	if err != nil {
		return err
	}
	manifest, err := formFile(c, "manifest", 1<<20)
	if err != nil {
		return err
	}
	p, err := s.deps.Plugins.Install(c.UserContext(), registry.InstallRequest{
		Module: module, Manifest: manifest, AllowUnsigned: c.FormValue("allow_unsigned") == "true", Actor: operatorActor(c),
	})
	if err != nil {
		return registryError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(toJSON(p))
}

func formFile(c *fiber.Ctx, field string, max int64) ([]byte, error) {
	fh, err := c.FormFile(field)
	if err != nil {
		return nil, errorf(fiber.StatusBadRequest, "the form needs a file field "+field)
	}
	if fh.Size > max {
		return nil, errorf(fiber.StatusRequestEntityTooLarge, field+" is too large")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

func registryError(err error) error {
	switch {
	case errors.Is(err, registry.ErrRefused):
		return errorf(fiber.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, registry.ErrExists):
		return errorf(fiber.StatusConflict, err.Error())
	case errors.Is(err, registry.ErrNotFound):
		return errorf(fiber.StatusNotFound, "no such plugin or binding")
	}
	return err
}

func (s *Server) apiTenant(c *fiber.Ctx) (*tenancy.Tenant, error) {
	t, err := s.deps.Tenants.BySlug(c.UserContext(), c.Params("slug"))
	if errors.Is(err, tenancy.ErrNotFound) || err == nil && t.Status == tenancy.Deleted {
		return nil, fiber.ErrNotFound
	}
	return t, err
}

func (s *Server) apiBindings(c *fiber.Ctx) error {
	t, err := s.apiTenant(c)
	if err != nil {
		return err
	}
	bs, err := s.deps.Plugins.Bindings(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	type binding struct {
		Hook    string          `json:"hook"`
		Plugin  string          `json:"plugin"`
		Version string          `json:"version"`
		Config  json.RawMessage `json:"config"`
	}
	out := make([]binding, 0, len(bs))
	for _, b := range bs {
		out = append(out, binding{Hook: b.Hook, Plugin: b.PluginName, Version: b.PluginVersion, Config: json.RawMessage(b.Config)})
	}
	return c.JSON(out)
}

// apiEnablePlugin takes {"plugin": "name@version", "config": {...}}.
func (s *Server) apiEnablePlugin(c *fiber.Ctx) error {
	t, err := s.apiTenant(c)
	if err != nil {
		return err
	}
	var body struct {
		Plugin string          `json:"plugin"`
		Config json.RawMessage `json:"config"`
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return errorf(fiber.StatusBadRequest, "body must be {\"plugin\": \"name@version\", \"config\": {…}}")
	}
	name, version, ok := strings.Cut(body.Plugin, "@")
	if !ok {
		return errorf(fiber.StatusBadRequest, "plugin must be name@version")
	}
	b, err := s.deps.Plugins.Enable(c.UserContext(), registry.EnableRequest{
		TenantID: t.ID, Hook: c.Params("hook"), Plugin: name, Version: version, Config: body.Config, Actor: operatorActor(c),
	})
	if err != nil {
		return registryError(err)
	}
	return c.JSON(fiber.Map{"hook": b.Hook, "plugin": b.PluginName, "version": b.PluginVersion})
}

func (s *Server) apiDisablePlugin(c *fiber.Ctx) error {
	t, err := s.apiTenant(c)
	if err != nil {
		return err
	}
	if err := s.deps.Plugins.Disable(c.UserContext(), t.ID, c.Params("hook"), operatorActor(c)); err != nil {
		return registryError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
