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
	operatorCookie = "plenum_op"
	signinCSRF     = "plenum_signin_csrf"
	localSession   = "plenum.operator_session"
)

// bindOperator: the operator console and its sign-in.
func (s *Server) bindOperator(app *fiber.App) {
	g := app.Group("/operator", noStore)
	if s.deps.Operators == nil {
		g.Use(func(c *fiber.Ctx) error {
			return errorf(fiber.StatusServiceUnavailable, "The operator console is not configured on this host.")
		})
		return
	}
	g.Get("/signin", s.signinForm)
	g.Post("/signin", s.signin)
	g.Post("/signout", s.withOperator, s.signout)
	g.Get("/", s.withOperator, s.console)
}

func (s *Server) meta(c *fiber.Ctx) identity.RequestMeta {
	return identity.RequestMeta{IP: clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent), RequestID: requestIDOf(c)}
}

func randomString() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) cookie(name, value string, maxAge time.Duration, sameSite string) *fiber.Cookie {
	return &fiber.Cookie{
		Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: s.secure, SameSite: sameSite,
		MaxAge: int(maxAge.Seconds()),
	}
}

// signinForm shows the form with a double-submit CSRF token: the same
// random value in a cookie and in a hidden field.
func (s *Server) signinForm(c *fiber.Ctx) error {
	return s.renderSignin(c, fiber.StatusOK, "", "")
}

func (s *Server) renderSignin(c *fiber.Ctx, status int, msg, email string) error {
	tok, err := randomString()
	if err != nil {
		return err
	}
	c.Cookie(s.cookie(signinCSRF, tok, 30*time.Minute, fiber.CookieSameSiteStrictMode))
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.pages.Render(c, web.PageSignIn, map[string]any{"CSRF": tok, "Error": msg, "Email": email})
}

func (s *Server) signin(c *fiber.Ctx) error {
	if !equalTokens(c.Cookies(signinCSRF), c.FormValue("csrf")) {
		return errorf(fiber.StatusForbidden, "The form expired or did not come from this site. Reload the page and try again.")
	}
	email, password := c.FormValue("email"), c.FormValue("password")
	if len(email) > 254 || len(password) > 512 {
		return s.renderSignin(c, fiber.StatusUnauthorized, "E-mail or password is wrong.", "")
	}
	token, sess, err := s.deps.Operators.SignIn(c.UserContext(), email, password, s.meta(c))
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return s.renderSignin(c, fiber.StatusUnauthorized, "E-mail or password is wrong.", email)
	}
	if err != nil {
		return err
	}
	c.Cookie(s.cookie(operatorCookie, token, time.Until(sess.ExpiresAt), fiber.CookieSameSiteLaxMode))
	c.ClearCookie(signinCSRF)
	return c.Redirect("/operator/", fiber.StatusSeeOther)
}

// withOperator requires a live operator session.
func (s *Server) withOperator(c *fiber.Ctx) error {
	sess, err := s.deps.Operators.Session(c.UserContext(), c.Cookies(operatorCookie))
	if errors.Is(err, identity.ErrNoSession) {
		if c.Method() == fiber.MethodGet {
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

func (s *Server) signout(c *fiber.Ctx) error {
	sess := sessionOf(c)
	if !equalTokens(sess.CSRFToken, c.FormValue("csrf")) {
		return errorf(fiber.StatusForbidden, "The form expired or did not come from this site. Reload the page and try again.")
	}
	if err := s.deps.Operators.SignOut(c.UserContext(), c.Cookies(operatorCookie), s.meta(c)); err != nil {
		return err
	}
	c.Cookie(s.cookie(operatorCookie, "", -time.Second, fiber.CookieSameSiteLaxMode))
	return c.Redirect("/operator/signin", fiber.StatusSeeOther)
}

func (s *Server) console(c *fiber.Ctx) error {
	sess := sessionOf(c)
	ts, err := s.deps.Tenants.List(c.UserContext(), true)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.pages.Render(c, web.PageConsole, map[string]any{"CSRF": sess.CSRFToken, "Email": sess.Email, "Tenants": ts})
}
