package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/host/web"
)

const (
	// operatorCookie holds an operator's session token.
	operatorCookie = "plenum_op"
	// signinCSRFCookie holds the sign-in form's double-submit token.
	signinCSRFCookie = "plenum_signin_csrf"

	msgWrongCredentials = "E-mail or password is wrong."
	msgBadForm          = "The form expired or did not come from this site. Reload the page and try again."
)

// bindOperator: the operator console and its sign-in, never cached.
func (s *Server) bindOperator(app *fiber.App) {
	g := app.Group("/operator", noStore)
	if s.deps.Operators == nil {
		g.Use(func(*fiber.Ctx) error {
			return errorf(fiber.StatusServiceUnavailable, "The operator console is not configured on this host.")
		})
		return
	}
	g.Get("/signin", s.signinForm)
	g.Post("/signin", sameSiteOnly, s.signin)
	g.Post("/signout", sameSiteOnly, s.withOperator, s.signout)
	g.Get("/", s.withOperator, s.console)
}

// sameSiteOnly refuses form posts that a browser marks as coming from
// another site, before the CSRF tokens are even compared.
func sameSiteOnly(c *fiber.Ctx) error {
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return errorf(fiber.StatusForbidden, msgBadForm)
	}
	return c.Next()
}

func (s *Server) meta(c *fiber.Ctx) identity.RequestMeta {
	ip := ""
	if a := s.clientAddr(c); a.IsValid() {
		ip = a.String()
	}
	return identity.RequestMeta{IP: ip, UserAgent: c.Get(fiber.HeaderUserAgent), RequestID: requestIDOf(c)}
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// equalTokens compares in constant time; an empty token never matches.
func equalTokens(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// cookie returns an HttpOnly cookie for the whole site, Secure when the
// server is reached over HTTPS. maxAge 0 makes a browser-session cookie; a
// negative one deletes the cookie.
func (s *Server) cookie(name, value string, maxAge time.Duration, sameSite string) *fiber.Cookie {
	c := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: s.secure, SameSite: sameSite}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0)
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	}
	return c
}

// signinForm shows the form, or sends a signed-in operator to the console.
func (s *Server) signinForm(c *fiber.Ctx) error {
	if tok := c.Cookies(operatorCookie); tok != "" {
		if _, err := s.deps.Operators.Session(c.UserContext(), tok); err == nil {
			return c.Redirect("/operator/", fiber.StatusSeeOther)
		}
	}
	return s.renderSignin(c, fiber.StatusOK, "", "")
}

// renderSignin renders the form with a fresh double-submit CSRF token: the
// same random value in a cookie and in a hidden field. Another site can
// neither read the cookie nor set it, so it cannot post a matching pair.
func (s *Server) renderSignin(c *fiber.Ctx, status int, msg, email string) error {
	tok, err := randomToken()
	if err != nil {
		return err
	}
	c.Cookie(s.cookie(signinCSRFCookie, tok, 30*time.Minute, fiber.CookieSameSiteStrictMode))
	return s.render(c, status, web.PageSignIn, web.SignInData{CSRF: tok, Error: msg, Email: email})
}

func (s *Server) signin(c *fiber.Ctx) error {
	if !equalTokens(c.Cookies(signinCSRFCookie), c.FormValue("csrf")) {
		return errorf(fiber.StatusForbidden, msgBadForm)
	}
	email, password := c.FormValue("email"), c.FormValue("password")
	if len(email) > 254 || len(password) > 512 {
		return s.renderSignin(c, fiber.StatusUnauthorized, msgWrongCredentials, "")
	}
	token, sess, err := s.deps.Operators.SignIn(c.UserContext(), email, password, s.meta(c))
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return s.renderSignin(c, fiber.StatusUnauthorized, msgWrongCredentials, email)
	}
	if err != nil {
		return err
	}
	c.Cookie(s.cookie(operatorCookie, token, time.Until(sess.ExpiresAt), fiber.CookieSameSiteLaxMode))
	c.Cookie(s.cookie(signinCSRFCookie, "", -1, fiber.CookieSameSiteStrictMode))
	return c.Redirect("/operator/", fiber.StatusSeeOther)
}

// withOperator requires a live operator session: a page request without
// one goes to the sign-in form, anything else (API calls included) is 401.
func (s *Server) withOperator(c *fiber.Ctx) error {
	sess, err := s.deps.Operators.Session(c.UserContext(), c.Cookies(operatorCookie))
	if errors.Is(err, identity.ErrNoSession) {
		if (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) && !wantsJSON(c) {
			return c.Redirect("/operator/signin", fiber.StatusSeeOther)
		}
		return errorf(fiber.StatusUnauthorized, "Your session has ended. Sign in again.")
	}
	if err != nil {
		return err
	}
	c.Locals(localSession, sess)
	return c.Next()
}

func sessionOf(c *fiber.Ctx) *identity.Session {
	s, _ := c.Locals(localSession).(*identity.Session)
	return s
}

// signout ends the session; the form must carry the session's CSRF token.
func (s *Server) signout(c *fiber.Ctx) error {
	if !equalTokens(sessionOf(c).CSRFToken, c.FormValue("csrf")) {
		return errorf(fiber.StatusForbidden, msgBadForm)
	}
	if err := s.deps.Operators.SignOut(c.UserContext(), c.Cookies(operatorCookie), s.meta(c)); err != nil && !errors.Is(err, identity.ErrNoSession) {
		return err
	}
	c.Cookie(s.cookie(operatorCookie, "", -1, fiber.CookieSameSiteLaxMode))
	return c.Redirect("/operator/signin", fiber.StatusSeeOther)
}

// console lists every tenant, deleted ones included.
func (s *Server) console(c *fiber.Ctx) error {
	sess := sessionOf(c)
	ts, err := s.deps.Tenants.List(c.UserContext(), true)
	if err != nil {
		return err
	}
	rows := make([]web.TenantRow, len(ts))
	for i := range ts {
		t := &ts[i]
		rows[i] = web.TenantRow{Slug: t.Slug, Name: t.Name, Status: string(t.Status), CreatedAt: t.CreatedAt, Serving: t.Serving()}
	}
	return s.render(c, fiber.StatusOK, web.PageConsole, web.ConsoleData{CSRF: sess.CSRFToken, Email: sess.Email, Tenants: rows})
}
