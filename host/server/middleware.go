package server

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Locals keys.
const (
	localRequestID = "plenum.request_id"
	localTenant    = "plenum.tenant"
	localSession   = "plenum.operator_session"
	localUnmatched = "plenum.unmatched"
)

// requestIDOf returns the id given to the request by withRequestID.
func requestIDOf(c *fiber.Ctx) string {
	s, _ := c.Locals(localRequestID).(string)
	return s
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRequestID returns 80 random bits, base32-encoded (16 characters).
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return idEncoding.EncodeToString(b[:])
}

// withRequestID gives every request an id: the X-Request-ID a trusted
// proxy sent, or else a fresh random one. An id from any other peer is
// ignored, so clients cannot plant values in the logs. The response echoes
// the id.
func (s *Server) withRequestID(c *fiber.Ctx) error {
	id := ""
	if in := c.Get(fiber.HeaderXRequestID); in != "" && validRequestID(in) && s.fromTrustedProxy(c) {
		id = strings.Clone(in) // fasthttp reuses the header's memory
	} else {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// validRequestID accepts 1–64 characters of [A-Za-z0-9._:-], enough for
// UUIDs and the ids of common proxies, and nothing that could break a log
// line or a page.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == ':' || b == '-') {
			return false
		}
	}
	return true
}

// withRecover turns a panic into a 500 with no detail for the client and
// the stack in the log.
func (s *Server) withRecover(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.deps.Logger.Error("panic", "request_id", requestIDOf(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &HTTPError{Status: fiber.StatusInternalServerError, Message: msgInternal}
		}
	}()
	return c.Next()
}

// contentSecurityPolicy allows only the host's own scripts, styles and
// images, no plugins, no framing and forms posted only to the host.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// withSecurityHeaders sets the baseline headers on every response.
func (s *Server) withSecurityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders is also called by handleError, which answers some
// requests (too large, malformed) that never reach the middleware chain.
func (s *Server) setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY") // for browsers without frame-ancestors
	h.Set(fiber.HeaderReferrerPolicy, "same-origin")
	h.Set(fiber.HeaderPermissionsPolicy, "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set(fiber.HeaderCrossOriginResourcePolicy, "same-origin")
	if s.secure {
		h.Set(fiber.HeaderStrictTransportSecurity, "max-age=63072000; includeSubDomains")
	}
}

// withAccessLog logs one line per request after it is answered. The line
// holds the request id, method, route pattern, status, duration and tenant
// id: no IP address, user agent, raw path, query string, cookie or token,
// which are personal data or secrets.
func (s *Server) withAccessLog(c *fiber.Ctx) error {
	start := time.Now()
	done := false
	defer func() {
		status := c.Response().StatusCode()
		if !done { // a panic is on its way to withRecover
			status = fiber.StatusInternalServerError
		}
		attrs := []any{
			"request_id", requestIDOf(c), "method", c.Method(), "route", routeLabel(c),
			"status", status, "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if t := tenantOf(c); t != nil {
			attrs = append(attrs, "tenant_id", t.ID)
		}
		s.deps.Logger.Info("request", attrs...)
	}()
	err := c.Next()
	if err != nil {
		s.respond(c, err)
	}
	done = true
	return nil
}

// withMetrics counts and times requests by method and route pattern.
func (s *Server) withMetrics(c *fiber.Ctx) error {
	start := time.Now()
	done := false
	defer func() {
		status := c.Response().StatusCode()
		if !done {
			status = fiber.StatusInternalServerError
		}
		s.metrics.observe(c.Method(), routeLabel(c), status, time.Since(start))
	}()
	err := c.Next()
	if err != nil {
		// Answer here so that the status recorded is the one sent.
		s.respond(c, err)
	}
	done = true
	return nil
}

// routeLabel returns the matched route pattern, never the raw path, so
// logs carry no identifiers from URLs and metric labels stay bounded.
func routeLabel(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || c.Locals(localUnmatched) != nil {
		return "unmatched"
	}
	return r.Path
}

// withBodyLimit refuses bodies larger than BodyLimit; upload routes
// (uploadRoute) get UploadLimit, which Fiber enforces for every route.
//
// Bodies are streamed (fiber's StreamRequestBody), so the check is made on
// the declared length before anything is read: a body without a declared
// length (chunked) is refused outside upload routes, since its size is only
// known after reading it.
func (s *Server) withBodyLimit(c *fiber.Ctx) error {
	if uploadRoute(c.Path()) {
		return c.Next()
	}
	switch n := c.Request().Header.ContentLength(); {
	case n > s.opts.BodyLimit:
		return fiber.ErrRequestEntityTooLarge
	case n == -1: // chunked
		return errorf(fiber.StatusLengthRequired, "Send the request with a Content-Length.")
	}
	return c.Next()
}

// uploadRoute reports whether path takes large bodies.
// The units import and the scans of paper ballots are files; the handlers
// bound them further (4 MiB of CSV, 10 MB of scan).
func uploadRoute(path string) bool {
	if path == "/api/operator/plugins" {
		return true
	}
	if !strings.HasPrefix(path, "/t/") {
		return false
	}
	return strings.HasSuffix(path, "/paper") && strings.Contains(path, "/admin/ballots/") || strings.HasSuffix(path, "/admin/units/import")
}

// noStore marks responses as not to be cached (pages with session data).
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// fromTrustedProxy reports whether the peer is one of TrustedProxies.
func (s *Server) fromTrustedProxy(c *fiber.Ctx) bool {
	return len(s.proxies) > 0 && s.trusted(peerAddr(c))
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(c *fiber.Ctx) netip.Addr {
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap()
}

// clientAddr returns the client's address: the peer's, or, when the peer
// is a trusted proxy, the right-most X-Forwarded-For entry that is not a
// trusted proxy. Unlike the left-most entry (what c.IP() returns), it
// cannot be chosen by the client, since each proxy appends what it saw.
func (s *Server) clientAddr(c *fiber.Ctx) netip.Addr {
	addr := peerAddr(c)
	if !s.fromTrustedProxy(c) {
		return addr
	}
	parts := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.TrimSpace(parts[i])
		if p == "" {
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return addr // a malformed hop: believe nothing beyond it
		}
		addr = a.Unmap()
		if !s.trusted(addr) {
			return addr
		}
	}
	return addr
}
