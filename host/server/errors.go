package server

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/host/web"
)

// HTTPError is an error with a status and a message that is safe to show
// to the client. Handlers return it for expected failures.
type HTTPError struct {
	Status  int
	Message string
}

func (e *HTTPError) Error() string { return http.StatusText(e.Status) + ": " + e.Message }

// errorf returns an HTTPError.
func errorf(status int, msg string) error { return &HTTPError{Status: status, Message: msg} }

const msgInternal = "Something went wrong on our side. Please try again later."

// handleError is Fiber's ErrorHandler: the one place where errors become
// responses. It is called for errors that no middleware answered, and by
// Fiber itself for requests it rejects before routing (too large,
// malformed, timed out).
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	s.respond(c, err)
	return nil
}

// respond writes the response for err: an HTTPError keeps its status and
// message, a fiber.Error its status with a standard message, and anything
// else is a 500 whose cause is logged with the request id and never shown.
func (s *Server) respond(c *fiber.Ctx, err error) {
	if requestIDOf(c) == "" { // rejected before the middleware chain ran
		id := newRequestID()
		c.Locals(localRequestID, id)
		c.Set(fiber.HeaderXRequestID, id)
	}
	s.setSecurityHeaders(c)

	status, msg := fiber.StatusInternalServerError, msgInternal
	var he *HTTPError
	var fe *fiber.Error
	switch {
	case errors.As(err, &he):
		status, msg = he.Status, he.Message
	case errors.As(err, &fe):
		status, msg = fe.Code, publicMessage(fe.Code)
	default:
		// The cause is hidden from the client, so it goes to the log.
		s.deps.Logger.Error("request failed", "request_id", requestIDOf(c), "route", routeLabel(c), "error", err.Error())
	}
	if status < 400 || status > 599 {
		status, msg = fiber.StatusInternalServerError, msgInternal
	}

	resp := c.Response()
	resp.ResetBody()
	c.Status(status)
	if wantsJSON(c) {
		if err := c.JSON(fiber.Map{"error": msg, "status": status, "request_id": requestIDOf(c)}); err != nil {
			resp.SetBodyString(`{"error":"internal error"}`)
		}
		return
	}
	var buf bytes.Buffer
	if err := s.pages.Render(&buf, web.PageError, web.ErrorData{
		Status: status, Title: http.StatusText(status), Message: msg, RequestID: requestIDOf(c),
	}); err != nil {
		s.deps.Logger.Error("render error page", "request_id", requestIDOf(c), "error", err.Error())
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		resp.SetBodyString(http.StatusText(status) + "\nReference: " + requestIDOf(c) + "\n")
		return
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	resp.SetBodyRaw(buf.Bytes())
}

// publicMessage is the message shown for a fiber.Error, whose own message
// may carry internal detail.
func publicMessage(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return "There is nothing at this address."
	case fiber.StatusMethodNotAllowed:
		return "This address does not take that kind of request."
	case fiber.StatusRequestEntityTooLarge:
		return "The request is too large."
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return "The request headers are too large."
	case fiber.StatusRequestTimeout:
		return "The request took too long to arrive."
	case fiber.StatusBadRequest:
		return "The request could not be understood."
	case fiber.StatusForbidden:
		return "You may not open this address."
	}
	if status >= 500 {
		return msgInternal
	}
	return http.StatusText(status) + "."
}

// wantsJSON reports whether the client reads JSON rather than pages.
func wantsJSON(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/") ||
		c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON
}

// render writes a page with status, buffering it so that a failing
// template becomes a clean 500 rather than half a page.
func (s *Server) render(c *fiber.Ctx, status int, page string, data any) error {
	var buf bytes.Buffer
	if err := s.pages.Render(&buf, page, data); err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}
