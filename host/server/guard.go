package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/web"
)

const (
	// userCookie holds a tenant user's session token. Its path is the
	// tenant's, so the browser never sends one tenant's cookie to another.
	userCookie = "plenum_s"
	// formCSRFCookie holds the double-submit token of forms used before
	// sign-in (sign-in, reset, set password).
	formCSRFCookie = "plenum_f"

	localUser      = "plenum.user"
	localUserSess  = "plenum.usersession"
	localPrincipal = "plenum.principal"

	// reauthWindow is how recent a proof of identity a sensitive action
	// needs.
	reauthWindow = 10 * time.Minute
)

// access levels a tenant route may declare.
type level int

const (
	// levelPublic routes need no session (sign-in, reset, links).
	levelPublic level = iota + 1
	// levelPending routes serve a session that still owes a second factor.
	levelPending
	// levelEnrol routes serve sessions that must enrol a second factor,
	// and full ones.
	levelEnrol
	// levelSignedIn routes serve any fully signed-in user (their own
	// account).
	levelSignedIn
	// levelPermission routes need a permission of core/access.
	levelPermission
	// levelAnyStage routes serve every session, whatever step it owes
	// (sign-out).
	levelAnyStage
)

// guard is what a tenant route declares: who may call it.
type guard struct {
	level level
	perm  access.Permission
	// kind names the resource the route acts on, for CEL conditions.
	kind string
}

func public() guard    { return guard{level: levelPublic} }
func pending() guard   { return guard{level: levelPending} }
func enrolling() guard { return guard{level: levelEnrol} }
func signedIn() guard  { return guard{level: levelSignedIn} }
func anyStage() guard  { return guard{level: levelAnyStage} }
func need(p access.Permission, kind string) guard {
	return guard{level: levelPermission, perm: p, kind: kind}
}

// tenantRoute registers a route under /t/:slug with its guard. Every
// tenant route goes through here, so every one has declared who may call
// it; TestEveryTenantRouteDeclaresAccess fails otherwise.
func (s *Server) tenantRoute(g fiber.Router, method, path string, gd guard, h fiber.Handler) {
	s.guards[method+" /t/:slug"+path] = gd
	handlers := []fiber.Handler{noStore}
	switch gd.level {
	case levelPublic:
		if method != fiber.MethodGet && gd.kind != samlBinding {
			handlers = append(handlers, sameSiteOnly, s.checkFormCSRF)
		}
	default:
		handlers = append(handlers, s.withUser(gd))
		if method != fiber.MethodGet && method != fiber.MethodHead {
			handlers = append(handlers, sameSiteOnly, checkSessionCSRF)
		}
	}
	handlers = append(handlers, h)
	g.Add(method, path, handlers...)
}

// tenantCookie returns a cookie scoped to the tenant's path.
func (s *Server) tenantCookie(c *fiber.Ctx, name, value string, maxAge time.Duration, sameSite string) *fiber.Cookie {
	ck := s.cookie(name, value, maxAge, sameSite)
	ck.Path = "/t/" + tenantOf(c).Slug
	return ck
}

// formCSRF returns the double-submit token for a pre-sign-in form,
// setting its cookie.
func (s *Server) formCSRF(c *fiber.Ctx) (string, error) {
	if tok := c.Cookies(formCSRFCookie); len(tok) == 43 {
		return tok, nil
	}
	tok, err := randomToken()
	if err != nil {
		return "", err
	}
	c.Cookie(s.tenantCookie(c, formCSRFCookie, tok, time.Hour, fiber.CookieSameSiteStrictMode))
	return tok, nil
}

// checkFormCSRF compares the form's token with its cookie.
func (s *Server) checkFormCSRF(c *fiber.Ctx) error {
	if !equalTokens(c.Cookies(formCSRFCookie), c.FormValue("csrf")) {
		return errorf(fiber.StatusForbidden, msgBadForm)
	}
	return c.Next()
}

// checkSessionCSRF compares the form's (or the X-CSRF-Token header's)
// token with the session's.
func checkSessionCSRF(c *fiber.Ctx) error {
	sess := userSessionOf(c)
	tok := c.Get("X-CSRF-Token")
	if tok == "" {
		tok = c.FormValue("csrf")
	}
	if sess == nil || !equalTokens(sess.CSRFToken, tok) {
		return errorf(fiber.StatusForbidden, msgBadForm)
	}
	return c.Next()
}

func userSessionOf(c *fiber.Ctx) *identity.UserSession {
	s, _ := c.Locals(localUserSess).(*identity.UserSession)
	return s
}

func userOf(c *fiber.Ctx) *identity.User {
	u, _ := c.Locals(localUser).(*identity.User)
	return u
}

func principalOf(c *fiber.Ctx) *access.Principal {
	p, _ := c.Locals(localPrincipal).(*access.Principal)
	return p
}

// withUser loads the session and user, sends sessions that owe a step
// to that step, and checks the route's permission. Refusals are 403 with
// a page that says which permission is missing, never which data exist.
func (s *Server) withUser(gd guard) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t := tenantOf(c)
		sess, err := s.deps.Users.Session(c.UserContext(), t.ID, c.Cookies(userCookie))
		if errors.Is(err, identity.ErrNoSession) {
			if (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) && !wantsJSON(c) {
				return c.Redirect("/t/"+t.Slug+"/signin", fiber.StatusSeeOther)
			}
			return errorf(fiber.StatusUnauthorized, "Your session has ended. Sign in again.")
		}
		if err != nil {
			return err
		}
		c.Locals(localUserSess, sess)
		switch {
		case gd.level == levelAnyStage:
		case sess.Stage == identity.StageMFA && gd.level != levelPending:
			return s.owe(c, "/t/"+t.Slug+"/mfa")
		case sess.Stage == identity.StageEnrol && gd.level != levelEnrol && gd.level != levelPending:
			// A member who must enrol may instead confirm with a code by
			// e-mail (or SMS) on the second-step page: the weaker
			// fallback for those who cannot use an app or passkey.
			return s.owe(c, "/t/"+t.Slug+"/account")
		case sess.Stage == identity.StageFull && gd.level == levelPending:
			return c.Redirect("/t/"+t.Slug+"/", fiber.StatusSeeOther)
		}
		u, err := s.deps.Users.Get(c.UserContext(), t.ID, sess.UserID)
		if err != nil {
			return err
		}
		c.Locals(localUser, u)
		p, err := s.principal(c.UserContext(), t, sess)
		if err != nil {
			return err
		}
		c.Locals(localPrincipal, p)
		if gd.level != levelPermission {
			return c.Next()
		}
		d, err := s.deps.Access.Authorize(c.UserContext(), t.ID, *p, gd.perm, s.resource(c, gd), s.request(c))
		if err != nil {
			return err
		}
		if !d.Allow {
			return errorf(fiber.StatusForbidden, "You do not have the permission "+string(gd.perm)+" for this. An administrator of your association can grant it.")
		}
		return c.Next()
	}
}

// owe sends a session to the step it still owes.
func (s *Server) owe(c *fiber.Ctx, to string) error {
	if c.Method() == fiber.MethodGet && !wantsJSON(c) {
		return c.Redirect(to, fiber.StatusSeeOther)
	}
	return errorf(fiber.StatusForbidden, "Finish signing in first.")
}

func (s *Server) principal(ctx context.Context, t *tenancy.Tenant, sess *identity.UserSession) (*access.Principal, error) {
	roles, err := s.deps.Access.RolesOf(ctx, t.ID, sess.UserID)
	if err != nil {
		return nil, err
	}
	return &access.Principal{ID: sess.UserID, Roles: roles, MFA: sess.MFAAt != nil}, nil
}

func (s *Server) resource(c *fiber.Ctx, gd guard) access.Resource {
	r := access.Resource{Kind: gd.kind}
	if id := c.Params("id"); id != "" {
		r.ID = id
	}
	if r.Kind == "user" && r.ID != "" {
		r.OwnerID = r.ID
	}
	return r
}

func (s *Server) request(c *fiber.Ctx) access.Request {
	ip := ""
	if a := s.clientAddr(c); a.IsValid() {
		ip = a.String()
	}
	return access.Request{Method: c.Method(), Path: routeLabel(c), IP: ip, Channel: "web"}
}

// can reports whether the signed-in user holds perm, for showing or
// hiding controls (the routes check again).
func (s *Server) can(c *fiber.Ctx, perm access.Permission, kind string) bool {
	p := principalOf(c)
	if p == nil {
		return false
	}
	d, err := s.deps.Access.Authorize(c.UserContext(), tenantOf(c).ID, *p, perm, access.Resource{Kind: kind}, s.request(c))
	return err == nil && d.Allow
}

// frame fills what every tenant page shows.
func (s *Server) frame(c *fiber.Ctx) web.Frame {
	t := tenantOf(c)
	f := web.Frame{Tenant: t.Name, Slug: t.Slug}
	if sess := userSessionOf(c); sess != nil {
		f.CSRF = sess.CSRFToken
	}
	if u := userOf(c); u != nil {
		f.Email = u.Email
		f.Admin = s.can(c, access.UsersRead, "user")
	}
	f.Flash = flashText(c.Query("done"))
	return f
}

// flashText returns the confirmation a redirect names. It is a fixed
// list, so that no text from the URL is ever shown.
func flashText(key string) string {
	if n, ok := strings.CutPrefix(key, "ballot-remind-"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return "Reminders were sent to " + n + " owner(s) of units that have not voted."
		}
	}
	switch key {
	case "password":
		return "Your password was changed. Other sessions were signed out."
	case "totp":
		return "Your authenticator app is on. Keep the recovery codes below safe."
	case "recovery":
		return "New recovery codes were made; the old ones no longer work."
	case "revoked":
		return "The session was signed out."
	case "revoked-all":
		return "Every other session was signed out."
	case "erased":
		return "The user's personal data was erased; their votes stay counted, without their name."
	case "ballot":
		return "The ballot was saved as a draft. Check the rules, then open it."
	case "ballot-open":
		return "The ballot is open: its rules are frozen and every eligible unit has its vote."
	case "ballot-close":
		return "The ballot is closed."
	case "ballot-tally":
		return "The votes are counted. Check the result, then publish it."
	case "ballot-publish":
		return "The result is published to the members, with the receipts counted."
	case "ballot-update":
		return "The draft was saved."
	case "ballot-decide":
		return "The decision was recorded."
	case "ballot-deleted":
		return "The draft was deleted."
	case "paper":
		return "The paper ballot was recorded."
	case "proxy":
		return "The proxy was recorded."
	case "proxy-ended":
		return "The proxy was ended."
	case "invited":
		return "The invitation was sent."
	case "user":
		return "The user was updated."
	case "role":
		return "The role was saved."
	case "policy":
		return "The policy was saved."
	case "rollback":
		return "The policy was rolled back."
	case "security":
		return "The security settings were saved."
	case "passkey":
		return "Your passkey was added."
	case "passkey-removed":
		return "The passkey was removed."
	case "unit":
		return "The units were updated."
	case "phone":
		return "Your phone number was saved."
	case "welcome":
		return "Your password is set. Welcome!"
	}
	return ""
}

// RouteAccess lists what each tenant route ("METHOD /t/:slug/…")
// declared: "public", "pending" (second step of sign-in), "enrol",
// "signed-in" or "permission:<name>". Tests check that every route is in
// it; operators can read it to review least privilege.
func (s *Server) RouteAccess() map[string]string {
	out := make(map[string]string, len(s.guards))
	for k, g := range s.guards {
		switch g.level {
		case levelPublic:
			out[k] = "public"
		case levelPending:
			out[k] = "pending"
		case levelEnrol:
			out[k] = "enrol"
		case levelSignedIn:
			out[k] = "signed-in"
		case levelPermission:
			out[k] = "permission:" + string(g.perm)
		case levelAnyStage:
			out[k] = "any-stage"
		}
	}
	return out
}
