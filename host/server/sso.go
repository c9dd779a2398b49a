package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/sso"
	"github.com/plenum-vote/plenum/host/web"
)

const (
	// ssoStateCookie binds an outstanding single sign-on to the browser
	// that started it: the callback's state must equal it, so a state
	// handed to someone else's browser signs no one in (login CSRF).
	ssoStateCookie = "plenum_sso"

	msgSSOState   = "This sign-in is not valid any more: it was used already, took too long or was started in another browser. Start again from the sign-in page."
	msgSSONoSuch  = "This association has no such sign-in provider, or it is turned off."
	msgSSODown    = "The identity provider could not be reached. Try again later, or sign in with your password."
	msgSSORefused = "The identity provider's answer was not accepted: "
)

// bindSSO: single sign-on with the tenant's identity providers, and the
// admin page that configures them.
func (s *Server) bindSSO(g fiber.Router) {
	s.tenantRoute(g, fiber.MethodGet, "/sso/:provider", public(), s.ssoStart)
	s.tenantRoute(g, fiber.MethodGet, "/sso/:provider/callback", public(), s.ssoCallback)
	s.tenantRoute(g, fiber.MethodPost, "/sso/:provider/saml/acs", samlACS(), s.samlACS)
	s.tenantRoute(g, fiber.MethodGet, "/sso/:provider/saml/metadata", public(), s.samlMetadata)
	s.tenantRoute(g, fiber.MethodGet, "/admin/sso", need(access.UsersRead, "settings"), s.adminSSO)
	s.tenantRoute(g, fiber.MethodPost, "/admin/sso", need(access.SettingsManage, "settings"), s.adminSaveSSO)
}

// ssoLinks returns the sign-in buttons of the tenant's enabled providers.
func (s *Server) ssoLinks(c *fiber.Ctx) []web.SSOLink {
	if s.deps.SSO == nil {
		return nil
	}
	t := tenantOf(c)
	list, err := s.deps.SSO.Enabled(c.UserContext(), t.ID)
	if err != nil {
		s.deps.Logger.Warn("list sso providers", "request_id", requestIDOf(c), "error", err.Error())
		return nil
	}
	out := make([]web.SSOLink, 0, len(list))
	for _, p := range list {
		out = append(out, web.SSOLink{Name: p.DisplayName, URL: "/t/" + t.Slug + "/sso/" + p.Name})
	}
	return out
}

// ssoCallbackURL is the absolute redirect URI of provider name.
func (s *Server) ssoCallbackURL(c *fiber.Ctx, name string) string {
	return s.ssoBase(c) + name + "/callback"
}

func (s *Server) ssoBase(c *fiber.Ctx) string {
	base := strings.TrimRight(s.opts.BaseURL, "/")
	if base == "" {
		base = c.BaseURL()
	}
	return base + "/t/" + tenantOf(c).Slug + "/sso/"
}

// localReturn returns the path to go to after sign-in: the query's
// "return" when it is a path of the tenant, else the tenant's home.
func localReturn(c *fiber.Ctx) string { return safeReturn(c, c.Query("return")) }

// safeReturn returns r when it is a path of the request's tenant, else
// the tenant's home: never another site or tenant.
func safeReturn(c *fiber.Ctx, r string) string {
	home := "/t/" + tenantOf(c).Slug + "/"
	if len(r) > 512 || !strings.HasPrefix(r, home) || strings.ContainsAny(r, "\\\r\n") || strings.Contains(r, "//") || strings.Contains(r, "/../") {
		return home
	}
	return r
}

// ssoStart sends the browser to the provider.
func (s *Server) ssoStart(c *fiber.Ctx) error {
	t, name := tenantOf(c), c.Params("provider")
	p, err := s.deps.SSO.Get(c.UserContext(), t.ID, name)
	if err != nil {
		return s.ssoFailure(c, name, err)
	}
	if p.Kind == sso.SAML {
		to, err := s.deps.SSO.BeginSAML(c.UserContext(), t.ID, name, s.samlBase(c, name), localReturn(c))
		if err != nil {
			return s.ssoFailure(c, name, err)
		}
		return c.Redirect(to, fiber.StatusSeeOther)
	}
	authURL, state, err := s.deps.SSO.BeginOIDC(c.UserContext(), t.ID, name, s.ssoCallbackURL(c, name), localReturn(c))
	if err != nil {
		return s.ssoFailure(c, name, err)
	}
	c.Cookie(s.tenantCookie(c, ssoStateCookie, state, 10*time.Minute, fiber.CookieSameSiteLaxMode))
	return c.Redirect(authURL, fiber.StatusSeeOther)
}

// ssoCallback finishes the sign-in the provider sent the browser back
// from: it checks the state against the browser's cookie, lets the sso
// service verify the code and ID token, provisions the user, grants the
// mapped roles and opens the session.
func (s *Server) ssoCallback(c *fiber.Ctx) error {
	t, name := tenantOf(c), c.Params("provider")
	ctx := c.UserContext()
	state := c.Query("state")
	bound := c.Cookies(ssoStateCookie)
	c.Cookie(s.tenantCookie(c, ssoStateCookie, "", -1, fiber.CookieSameSiteLaxMode))
	if !equalTokens(bound, state) {
		return errorf(fiber.StatusBadRequest, msgSSOState)
	}
	if c.Query("error") != "" {
		return errorf(fiber.StatusUnauthorized, "The identity provider did not sign you in. Try again, or sign in with your password.")
	}
	id, err := s.deps.SSO.FinishOIDC(ctx, t.ID, name, s.ssoCallbackURL(c, name), state, c.Query("code"))
	if err != nil {
		return s.ssoFailure(c, name, err)
	}
	return s.ssoComplete(c, name, "oidc:"+name, id)
}

// ssoComplete signs in the user a provider vouched for: it provisions
// the user, grants the mapped roles the tenant has, and opens the session
// at the stage the user's factors and the tenant's settings call for.
func (s *Server) ssoComplete(c *fiber.Ctx, name, method string, id *sso.Identity) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	meta := s.meta(c)
	p, err := s.deps.SSO.Get(ctx, t.ID, name)
	if err != nil {
		return s.ssoFailure(c, name, err)
	}
	// The subject is bound to the provider's name *and* the identity
	// provider it points at: repointing a provider to another issuer does
	// not carry its users' links along.
	ip := sha256.Sum256([]byte(string(p.Kind) + "\x00" + p.Config.Issuer + "\x00" + p.Config.SAMLMetadataURL + "\x00" + p.Config.SAMLMetadataXML))
	key := name + ":" + hex.EncodeToString(ip[:8])
	// An existing account is linked by its address only when it holds no
	// more than the member role: an administrator's account is never
	// taken over by whoever controls a provider.
	mayLink := func(userID string) (bool, error) {
		roles, err := s.deps.Access.RolesOf(ctx, t.ID, userID)
		if err != nil {
			return false, err
		}
		for _, r := range roles {
			if r != access.RoleMember {
				return false, nil
			}
		}
		return true, nil
	}
	u, created, err := s.deps.Users.ProvisionSSO(ctx, t.ID, key, id.Subject, id.Email, id.Name, meta, mayLink)
	switch {
	case errors.Is(err, identity.ErrSSOLinkRefused):
		return errorf(fiber.StatusUnauthorized, "An account with this e-mail address already exists here and signs in with its password. Sign in with the password; an administrator of your association can help.")
	case errors.Is(err, identity.ErrInvalidCredentials):
		return errorf(fiber.StatusUnauthorized, "Your account cannot sign in: it was disabled. An administrator of your association can enable it.")
	case errors.Is(err, identity.ErrSSOLinked):
		return errorf(fiber.StatusUnauthorized, "The account with this e-mail address is linked to another sign-in identity. An administrator of your association can help.")
	case errors.Is(err, identity.ErrInvalid), errors.Is(err, identity.ErrExists):
		return errorf(fiber.StatusBadRequest, "The identity provider sent an e-mail address that cannot be used for an account here.")
	case err != nil:
		return err
	}
	if len(id.Roles) > 0 {
		roles, err := s.deps.Access.Roles(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, r := range id.Roles {
			if !slices.ContainsFunc(roles, func(x access.Role) bool { return x.Name == r }) {
				continue
			}
			if err := s.deps.Access.Assign(ctx, t.ID, "sso:"+name, u.ID, r); err != nil {
				return err
			}
		}
	}
	stage, err := s.stageAfterPassword(c, u)
	if err != nil {
		return err
	}
	// Any session this browser had ends: the new one gets a new token.
	_ = s.deps.Users.SignOut(ctx, t.ID, c.Cookies(userCookie), meta)
	tok, sess, err := s.deps.Users.StartSession(ctx, u, stage, method, meta)
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, sess)
	s.deps.Logger.Info("sso sign-in", "request_id", requestIDOf(c), "tenant", t.ID, "provider", name, "user", u.ID, "created", created)
	switch stage {
	case identity.StageMFA:
		return c.Redirect("/t/"+t.Slug+"/mfa", fiber.StatusSeeOther)
	case identity.StageEnrol:
		return c.Redirect("/t/"+t.Slug+"/account", fiber.StatusSeeOther)
	}
	return c.Redirect(id.ReturnTo, fiber.StatusSeeOther)
}

// ssoFailure turns an error of the sso service into a page. Refusals
// say why in the service's own words, which hold nothing the provider
// sent but an OAuth error code; nothing secret or personal is logged.
func (s *Server) ssoFailure(c *fiber.Ctx, name string, err error) error {
	switch {
	case errors.Is(err, sso.ErrNotFound), errors.Is(err, sso.ErrDisabled), errors.Is(err, sso.ErrUnsupported):
		return errorf(fiber.StatusNotFound, msgSSONoSuch)
	case errors.Is(err, sso.ErrState):
		return errorf(fiber.StatusBadRequest, msgSSOState)
	case errors.Is(err, sso.ErrRejected):
		reason := strings.TrimPrefix(err.Error(), sso.ErrRejected.Error()+": ")
		s.deps.Logger.Info("sso sign-in refused", "request_id", requestIDOf(c), "tenant", tenantOf(c).ID, "provider", name, "reason", reason)
		return errorf(fiber.StatusUnauthorized, msgSSORefused+reason+".")
	case errors.Is(err, sso.ErrUnreachable):
		s.deps.Logger.Warn("sso provider unreachable", "request_id", requestIDOf(c), "tenant", tenantOf(c).ID, "provider", name, "error", err.Error())
		return errorf(fiber.StatusBadGateway, msgSSODown)
	}
	return err
}

// samlBinding marks the guard of the SAML assertion consumer service.
const samlBinding = "saml-acs"

// samlACS is the guard of the SAML assertion consumer service: public,
// and without the form CSRF check, because the identity provider's page
// posts to it from another site and can carry neither our token nor our
// SameSite cookies. The single-use relay state and the signed response
// naming our request id stand in for both.
func samlACS() guard { return guard{level: levelPublic, kind: samlBinding} }

// samlBase is the absolute URL of provider name's SAML endpoints.
func (s *Server) samlBase(c *fiber.Ctx, name string) string { return s.ssoBase(c) + name + "/saml/" }

// samlMetadata serves the service-provider metadata of a SAML provider.
func (s *Server) samlMetadata(c *fiber.Ctx) error {
	name := c.Params("provider")
	md, err := s.deps.SSO.SAMLMetadata(c.UserContext(), tenantOf(c).ID, name, s.samlBase(c, name))
	if err != nil {
		return s.ssoFailure(c, name, err)
	}
	c.Set(fiber.HeaderContentType, "application/samlmetadata+xml")
	return c.Send(md)
}

// samlACS receives the identity provider's response (HTTP-POST binding).
func (s *Server) samlACS(c *fiber.Ctx) error {
	t, name := tenantOf(c), c.Params("provider")
	resp, relay := c.FormValue("SAMLResponse"), c.FormValue("RelayState")
	if len(resp) > 512<<10 {
		return errorf(fiber.StatusBadRequest, msgSSOState)
	}
	id, err := s.deps.SSO.FinishSAML(c.UserContext(), t.ID, name, s.samlBase(c, name), relay, resp)
	if err != nil {
		return s.ssoFailure(c, name, err)
	}
	return s.ssoComplete(c, name, "saml:"+name, id)
}

func (s *Server) adminSSOData(c *fiber.Ctx, msg string, form web.SSOProviderRow) (web.AdminSSOData, error) {
	list, err := s.deps.SSO.List(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return web.AdminSSOData{}, err
	}
	f := s.frame(c)
	f.Error = msg
	if c.Query("done") == "sso" {
		f.Flash = "The sign-in provider was saved."
	}
	d := web.AdminSSOData{Frame: f, CanManage: s.can(c, access.SettingsManage, "settings"), CallbackBase: s.ssoBase(c), Form: form}
	for _, p := range list {
		d.Providers = append(d.Providers, providerRow(p))
	}
	return d, nil
}

func providerRow(p sso.Provider) web.SSOProviderRow {
	var mapping []string
	for k, v := range p.Config.RoleMapping {
		mapping = append(mapping, k+" = "+v)
	}
	slices.Sort(mapping)
	return web.SSOProviderRow{Name: p.Name, Kind: string(p.Kind), DisplayName: p.DisplayName, Issuer: p.Config.Issuer, ClientID: p.Config.ClientID,
		Scopes: strings.Join(p.Config.Scopes, " "), RoleClaim: p.Config.RoleClaim, RoleMapping: strings.Join(mapping, "\n"),
		AllowedDomains: strings.Join(p.Config.AllowedDomains, " "), MetadataURL: p.Config.SAMLMetadataURL, MetadataXML: p.Config.SAMLMetadataXML,
		EmailAttribute: p.Config.EmailAttribute, NameAttribute: p.Config.NameAttribute, Enabled: p.Enabled, HasSecret: p.HasSecret}
}

func (s *Server) adminSSO(c *fiber.Ctx) error {
	d, err := s.adminSSOData(c, "", web.SSOProviderRow{Enabled: true})
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, web.PageAdminSSO, d)
}

// adminSaveSSO adds or changes a provider (op=save) or turns one on or
// off (op=enable, op=disable).
func (s *Server) adminSaveSSO(c *fiber.Ctx) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	name := c.FormValue("name")
	switch op := c.FormValue("op"); op {
	case "enable", "disable":
		err := s.deps.SSO.SetEnabled(ctx, t.ID, actorOf(c), name, op == "enable", s.meta(c))
		if errors.Is(err, sso.ErrNotFound) {
			return errorf(fiber.StatusNotFound, "No such provider.")
		}
		if err != nil {
			return err
		}
	case "save":
		// A provider decides who signs in: changing one needs a recent
		// proof of identity.
		if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
			return s.needReauth(c, "/admin/sso")
		}
		p, form, err := providerFromForm(c)
		if err == nil {
			err = s.mappableRoles(c, p.Config.RoleMapping)
		}
		if err == nil {
			err = s.deps.SSO.Save(ctx, t.ID, actorOf(c), p, c.FormValue("client_secret"), s.meta(c))
		}
		if errors.Is(err, sso.ErrInvalid) {
			d, derr := s.adminSSOData(c, strings.TrimPrefix(err.Error(), sso.ErrInvalid.Error()+": "), form)
			if derr != nil {
				return derr
			}
			return s.render(c, fiber.StatusUnprocessableEntity, web.PageAdminSSO, d)
		}
		if err != nil {
			return err
		}
	default:
		return errorf(fiber.StatusBadRequest, msgBadForm)
	}
	return c.Redirect("/t/"+t.Slug+"/admin/sso?done=sso", fiber.StatusSeeOther)
}

// mappableRoles refuses a mapping to a role that carries a permission the
// acting admin does not hold: signing in through the provider would
// otherwise hand it out past them.
func (s *Server) mappableRoles(c *fiber.Ctx, mapping map[string]string) error {
	if len(mapping) == 0 {
		return nil
	}
	roles, err := s.deps.Access.Roles(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	for _, role := range mapping {
		i := slices.IndexFunc(roles, func(r access.Role) bool { return r.Name == role })
		if i < 0 {
			continue // unknown roles are never granted
		}
		if missing := s.notHeld(c, roles[i].Permissions); len(missing) > 0 {
			return fmt.Errorf("%w: you cannot map to the role %s, which carries permissions you do not hold (%s)", sso.ErrInvalid, role, strings.Join(missing, ", "))
		}
	}
	return nil
}

// providerFromForm reads the provider form; the form as given comes back
// for refilling it.
func providerFromForm(c *fiber.Ctx) (sso.Provider, web.SSOProviderRow, error) {
	form := web.SSOProviderRow{Name: c.FormValue("name"), Kind: c.FormValue("kind"), DisplayName: c.FormValue("display_name"),
		Issuer: strings.TrimSpace(c.FormValue("issuer")), ClientID: strings.TrimSpace(c.FormValue("client_id")), Scopes: c.FormValue("scopes"),
		RoleClaim: strings.TrimSpace(c.FormValue("role_claim")), RoleMapping: c.FormValue("role_mapping"),
		AllowedDomains: c.FormValue("allowed_domains"), MetadataURL: strings.TrimSpace(c.FormValue("metadata_url")), MetadataXML: strings.TrimSpace(c.FormValue("metadata_xml")),
		EmailAttribute: strings.TrimSpace(c.FormValue("email_attribute")), NameAttribute: strings.TrimSpace(c.FormValue("name_attribute")),
		Enabled: c.FormValue("enabled") == "1"}
	if form.Kind == "" {
		form.Kind = string(sso.OIDC)
	}
	p := sso.Provider{Name: form.Name, Kind: sso.Kind(form.Kind), DisplayName: form.DisplayName, Enabled: form.Enabled,
		Config: sso.Config{Issuer: form.Issuer, ClientID: form.ClientID, Scopes: strings.Fields(form.Scopes), RoleClaim: form.RoleClaim,
			SAMLMetadataURL: form.MetadataURL, SAMLMetadataXML: form.MetadataXML, EmailAttribute: form.EmailAttribute, NameAttribute: form.NameAttribute,
			AllowedDomains: strings.FieldsFunc(form.AllowedDomains, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })}}
	if len(form.RoleMapping) > 10000 {
		return p, form, fmt.Errorf("%w: the role mapping is too long", sso.ErrInvalid)
	}
	for line := range strings.Lines(form.RoleMapping) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return p, form, fmt.Errorf("%w: each role mapping line is \"claim value = role\"", sso.ErrInvalid)
		}
		if p.Config.RoleMapping == nil {
			p.Config.RoleMapping = map[string]string{}
		}
		p.Config.RoleMapping[k] = v
	}
	return p, form, nil
}
