package server

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/tenancy"
)

const localRequestID = "plenum.request_id"

// requestIDOf returns the id given to the request by withRequestID.
func requestIDOf(c *fiber.Ctx) string {
	s, _ := c.Locals(localRequestID).(string)
	return s
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// withRequestID gives every request an id: a fresh random one, or the
// X-Request-ID a trusted proxy sent. The response echoes it.
func (s *Server) withRequestID(c *fiber.Ctx) error {
	id := ""
	if in := c.Get(fiber.HeaderXRequestID); in != "" && len(in) <= 64 && c.IsProxyTrusted() && len(s.opts.TrustedProxies) > 0 && printable(in) {
		id = in
	} else {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("request id: %w", err)
		}
		id = idEncoding.EncodeToString(b[:])
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// contentSecurityPolicy allows only the host's own scripts, styles and
// images, no plugins, no framing and forms posted only to the host.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// withSecurityHeaders sets the baseline headers on every response,
// including error pages.
func (s *Server) withSecurityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderPermissionsPolicy, "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	if s.secure {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=63072000; includeSubDomains")
	}
	return c.Next()
}

// withAccessLog logs one line per request and records metrics. It turns a
// handler's error into its response here, so the status it logs is the
// one the client gets. The line holds no IP address, user agent, query
// string, cookie or token: those are personal data or secrets.
func (s *Server) withAccessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	d := time.Since(start)
	route := routeLabel(c)
	status := c.Response().StatusCode()
	s.metrics.observe(c.Method(), route, status, d)
	attrs := []any{
		"request_id", requestIDOf(c), "method", c.Method(), "route", route,
		"status", status, "duration_ms", float64(d.Microseconds()) / 1000,
	}
	if t, ok := c.Locals(localTenant).(*tenancy.Tenant); ok {
		attrs = append(attrs, "tenant", t.ID)
	}
	s.deps.Logger.Info("request", attrs...)
	return nil
}

// routeLabel returns the matched route pattern, never the raw path, so
// logs carry no identifiers from URLs and metrics stay bounded.
func routeLabel(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || r.Method == "USE" && r.Path == "/" {
		return "unmatched"
	}
	return r.Path
}

// withRecover turns a panic into a 500 with no detail for the client and
// the stack in the log.
func (s *Server) withRecover(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.deps.Logger.Error("panic", "request_id", requestIDOf(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &HTTPError{Status: fiber.StatusInternalServerError, Message: "Something went wrong on our side."}
		}
	}()
	return c.Next()
}

// withBodyLimit refuses bodies larger than the default limit; upload routes
// mark themselves with allowUpload to get the larger one.
func (s *Server) withBodyLimit(c *fiber.Ctx) error {
	if n := c.Request().Header.ContentLength(); n > s.opts.BodyLimit && !uploadRoute(c.Path()) {
		return fiber.ErrRequestEntityTooLarge
	}
	if len(c.Request().Body()) > s.opts.BodyLimit && !uploadRoute(c.Path()) {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// uploadRoute reports whether path takes large bodies.
func uploadRoute(path string) bool { return path == "/api/operator/plugins" }

// noStore marks responses as not to be cached (pages with session data).
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

func itoa(n int) string { return strconv.Itoa(n) }
