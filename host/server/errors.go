package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/host/web"
)

// HTTPError is an error with a status and a message that is safe to show.
type HTTPError struct {
	Status  int
	Message string
}

func (e *HTTPError) Error() string { return http.StatusText(e.Status) + ": " + e.Message }

// errorf returns an HTTPError.
func errorf(status int, msg string) error { return &HTTPError{Status: status, Message: msg} }

// handleError is the one place where errors become responses: an
// HTTPError or fiber.Error keeps its status and message; anything else is
// a 500 whose cause is logged with the request id and never shown.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, msg := fiber.StatusInternalServerError, "Something went wrong on our side."
	var he *HTTPError
	var fe *fiber.Error
	switch {
	case errors.As(err, &he):
		status, msg = he.Status, he.Message
	case errors.As(err, &fe):
		status = fe.Code
		msg = publicMessage(status)
	}
	if status >= 500 {
		s.deps.Logger.Error("request failed", "request_id", requestIDOf(c), "status", status, "error", err.Error())
	}
	c.Status(status)
	if wantsJSON(c) {
		return c.JSON(fiber.Map{"error": msg, "status": status, "request_id": requestIDOf(c)})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.pages.Render(c, web.PageError, map[string]any{
		"Status": status, "Title": http.StatusText(status), "Message": msg, "RequestID": requestIDOf(c),
	})
}

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
	case fiber.StatusBadRequest:
		return "The request could not be understood."
	}
	if status >= 500 {
		return "Something went wrong on our side."
	}
	return http.StatusText(status) + "."
}

func wantsJSON(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/") || c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON
}
