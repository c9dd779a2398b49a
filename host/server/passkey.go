package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/mfa"
)

// bindPasskeys: registering passkeys from the account page and using one
// as the second step of sign-in. The ceremonies are JSON calls made by
// static/passkey.js with the session's CSRF token in X-CSRF-Token; the
// browser talks to the authenticator.
func (s *Server) bindPasskeys(g fiber.Router) {
	if s.deps.Passkeys == nil {
		return
	}
	s.tenantRoute(g, fiber.MethodPost, "/account/passkeys/begin", enrolling(), s.passkeyRegisterBegin)
	s.tenantRoute(g, fiber.MethodPost, "/account/passkeys/finish", enrolling(), s.passkeyRegisterFinish)
	s.tenantRoute(g, fiber.MethodPost, "/account/passkeys/remove", signedIn(), s.passkeyRemove)
	s.tenantRoute(g, fiber.MethodPost, "/mfa/passkey/begin", pending(), s.passkeyLoginBegin)
	s.tenantRoute(g, fiber.MethodPost, "/mfa/passkey/finish", pending(), s.passkeyLoginFinish)
}

// ceremonyRequest turns the JSON body into the net/http request that
// go-webauthn parses.
func ceremonyRequest(c *fiber.Ctx) (*http.Request, error) {
	if len(c.Body()) > 64<<10 {
		return nil, errorf(fiber.StatusRequestEntityTooLarge, "The passkey response is too large.")
	}
	r, err := http.NewRequestWithContext(c.UserContext(), http.MethodPost, "/", bytes.NewReader(c.Body()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	return r, nil
}

func (s *Server) passkeyRegisterBegin(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !freshFor(c) {
		return errorf(fiber.StatusForbidden, "Adding a passkey needs a recent sign-in: confirm your password on the account page first.")
	}
	opts, err := s.deps.Passkeys.BeginRegistration(c.UserContext(), t.ID, u.ID, u.Email)
	if err != nil {
		return err
	}
	return c.JSON(opts)
}

func (s *Server) passkeyRegisterFinish(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !freshFor(c) {
		return errorf(fiber.StatusForbidden, "Adding a passkey needs a recent sign-in: confirm your password on the account page first.")
	}
	label := strings.TrimSpace(c.Query("label"))
	if label == "" {
		label = "Passkey"
	}
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > 60 {
		return errorf(fiber.StatusUnprocessableEntity, "Give the passkey a name of at most 60 characters.")
	}
	r, err := ceremonyRequest(c)
	if err != nil {
		return err
	}
	if _, err := s.deps.Passkeys.FinishRegistration(c.UserContext(), t.ID, u.ID, "user:"+u.ID, label, r); err != nil {
		if isMFARefusal(err) || errors.Is(err, mfa.ErrNoCeremony) || errors.Is(err, mfa.ErrBadRequest) {
			return errorf(fiber.StatusUnprocessableEntity, "The passkey could not be registered. Try again.")
		}
		return err
	}
	s.deps.Users.Inform(c.UserContext(), identity.Notice{Kind: identity.NoticeFactorAdded, TenantID: t.ID, UserID: u.ID, Email: u.Email, Name: u.Name,
		Detail: "a passkey", Meta: s.meta(c)})
	// A new factor is a change of privilege: new token, and a session that
	// owed enrolment is complete now.
	tok, sess, err := s.deps.Users.Renew(c.UserContext(), t.ID, c.Cookies(userCookie), identity.StageFull, "", true, false, s.meta(c))
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, sess)
	return c.JSON(fiber.Map{"next": "/t/" + t.Slug + "/account?done=passkey"})
}

func (s *Server) passkeyRemove(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !freshFor(c) {
		return s.needReauth(c, "/account")
	}
	id, err := base64.RawURLEncoding.DecodeString(c.FormValue("credential"))
	if err != nil || len(id) == 0 || len(id) > 1024 {
		return errorf(fiber.StatusBadRequest, "No such passkey.")
	}
	if err := s.deps.Passkeys.RemoveCredential(c.UserContext(), t.ID, u.ID, "user:"+u.ID, id); err != nil {
		if errors.Is(err, mfa.ErrNotEnrolled) {
			return errorf(fiber.StatusNotFound, "No such passkey.")
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/account?done=passkey-removed", fiber.StatusSeeOther)
}

func (s *Server) passkeyLoginBegin(c *fiber.Ctx) error {
	t, sess := tenantOf(c), userSessionOf(c)
	opts, err := s.deps.Passkeys.BeginLogin(c.UserContext(), t.ID, sess.UserID)
	if errors.Is(err, mfa.ErrNotEnrolled) {
		return errorf(fiber.StatusNotFound, "You have no passkey here.")
	}
	if err != nil {
		return err
	}
	return c.JSON(opts)
}

func (s *Server) passkeyLoginFinish(c *fiber.Ctx) error {
	t, sess := tenantOf(c), userSessionOf(c)
	r, err := ceremonyRequest(c)
	if err != nil {
		return err
	}
	if err := s.deps.Passkeys.FinishLogin(c.UserContext(), t.ID, sess.UserID, r); err != nil {
		if isMFARefusal(err) || errors.Is(err, mfa.ErrNoCeremony) || errors.Is(err, mfa.ErrSignCount) || errors.Is(err, mfa.ErrBadRequest) {
			return errorf(fiber.StatusUnauthorized, "The passkey was not accepted. Try again or use another way.")
		}
		return err
	}
	tok, full, err := s.deps.Users.Renew(c.UserContext(), t.ID, c.Cookies(userCookie), identity.StageFull, "password+passkey", true, true, s.meta(c))
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, full)
	return c.JSON(fiber.Map{"next": "/t/" + t.Slug + "/"})
}
