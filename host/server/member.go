package server

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/identity/password"
	"github.com/plenum-vote/plenum/host/web"
)

const (
	msgMemberCredentials = "The e-mail address or password is wrong, or the account is locked for a while after too many attempts. Try again later, or reset your password."
	msgBadCode           = "That code did not work. Codes work once and only for a short time; try the newest one."
	msgLinkInvalid       = "This link is not valid any more: it was used already or it expired. Ask for a new one."
	emailCodePurpose     = "signin"
	smsCodePurpose       = "signin-sms"
	// smsAccess is how long a session that passed with an SMS code lasts.
	smsAccess = time.Hour
)

// bindMember: sign-in, the second step, links from e-mails and the
// member's own account pages.
func (s *Server) bindMember(g fiber.Router) {
	s.tenantRoute(g, fiber.MethodGet, "/signin", public(), s.memberSigninForm)
	s.tenantRoute(g, fiber.MethodPost, "/signin", public(), s.memberSignin)
	s.tenantRoute(g, fiber.MethodPost, "/signout", anyStage(), s.memberSignout)
	s.bindPasskeys(g)
	s.tenantRoute(g, fiber.MethodGet, "/reset", public(), s.resetForm)
	s.tenantRoute(g, fiber.MethodPost, "/reset", public(), s.reset)
	s.tenantRoute(g, fiber.MethodGet, "/link/:token", public(), s.linkForm)
	s.tenantRoute(g, fiber.MethodPost, "/link", public(), s.link)
	s.tenantRoute(g, fiber.MethodGet, "/mfa", pending(), s.mfaForm)
	s.tenantRoute(g, fiber.MethodPost, "/mfa", pending(), s.mfaVerify)
	s.tenantRoute(g, fiber.MethodPost, "/mfa/email", pending(), s.mfaEmail)
	s.tenantRoute(g, fiber.MethodPost, "/mfa/sms", pending(), s.mfaSMS)
	s.tenantRoute(g, fiber.MethodPost, "/account/phone", signedIn(), s.setPhone)
	s.tenantRoute(g, fiber.MethodGet, "/account", enrolling(), s.account)
	s.tenantRoute(g, fiber.MethodGet, "/account/export", signedIn(), s.accountExport)
	s.tenantRoute(g, fiber.MethodPost, "/account/totp", enrolling(), s.totpBegin)
	s.tenantRoute(g, fiber.MethodPost, "/account/totp/confirm", enrolling(), s.totpConfirm)
	s.tenantRoute(g, fiber.MethodGet, "/reauth", signedIn(), s.reauthForm)
	s.tenantRoute(g, fiber.MethodPost, "/reauth", signedIn(), s.reauth)
	s.tenantRoute(g, fiber.MethodPost, "/account/recovery", signedIn(), s.recoveryRenew)
	s.tenantRoute(g, fiber.MethodPost, "/account/password", signedIn(), s.changePassword)
	s.tenantRoute(g, fiber.MethodPost, "/account/sessions/revoke", signedIn(), s.revokeSession)
	s.tenantRoute(g, fiber.MethodPost, "/account/sessions/revoke-all", signedIn(), s.revokeAllSessions)
}

func (s *Server) renderMemberSignin(c *fiber.Ctx, status int, msg, email string) error {
	tok, err := s.formCSRF(c)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.CSRF, f.Error = tok, msg
	return s.render(c, status, web.PageMemberSignIn, web.MemberSignInData{Frame: f, EmailValue: email, SSO: s.ssoLinks(c)})
}

func (s *Server) memberSigninForm(c *fiber.Ctx) error {
	if sess, err := s.deps.Users.Session(c.UserContext(), tenantOf(c).ID, c.Cookies(userCookie)); err == nil && sess.Stage == identity.StageFull {
		return c.Redirect("/t/"+tenantOf(c).Slug+"/", fiber.StatusSeeOther)
	}
	return s.renderMemberSignin(c, fiber.StatusOK, "", "")
}

func (s *Server) memberSignin(c *fiber.Ctx) error {
	t := tenantOf(c)
	email, pw := c.FormValue("email"), c.FormValue("password")
	if len(email) > 254 || len(pw) > 512 {
		return s.renderMemberSignin(c, fiber.StatusUnauthorized, msgMemberCredentials, "")
	}
	meta := s.meta(c)
	u, err := s.deps.Users.Authenticate(c.UserContext(), t.ID, email, pw, meta)
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return s.renderMemberSignin(c, fiber.StatusUnauthorized, msgMemberCredentials, email)
	}
	if err != nil {
		return err
	}
	stage, err := s.stageAfterPassword(c, u)
	if err != nil {
		return err
	}
	// Any session this browser had ends: the new one gets a new token.
	_ = s.deps.Users.SignOut(c.UserContext(), t.ID, c.Cookies(userCookie), meta)
	tok, sess, err := s.deps.Users.StartSession(c.UserContext(), u, stage, "password", meta)
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, sess)
	c.Cookie(s.tenantCookie(c, formCSRFCookie, "", -1, fiber.CookieSameSiteStrictMode))
	switch stage {
	case identity.StageMFA:
		return c.Redirect("/t/"+t.Slug+"/mfa", fiber.StatusSeeOther)
	case identity.StageEnrol:
		return c.Redirect("/t/"+t.Slug+"/account", fiber.StatusSeeOther)
	}
	return c.Redirect("/t/"+t.Slug+"/", fiber.StatusSeeOther)
}

func (s *Server) setUserCookie(c *fiber.Ctx, tok string, sess *identity.UserSession) {
	c.Cookie(s.tenantCookie(c, userCookie, tok, time.Until(sess.ExpiresAt), fiber.CookieSameSiteLaxMode))
}

// stageAfterPassword decides what a user who gave the right password
// still owes: a second factor when they have one, enrolment when the
// tenant requires one of them, nothing otherwise.
func (s *Server) stageAfterPassword(c *fiber.Ctx, u *identity.User) (identity.Stage, error) {
	ctx := c.UserContext()
	st, err := s.deps.MFA.Factors(ctx, u.TenantID, u.ID)
	if err != nil {
		return "", err
	}
	if st.TOTP || st.WebAuthn > 0 {
		return identity.StageMFA, nil
	}
	required, err := s.mfaRequired(c, u)
	if err != nil {
		return "", err
	}
	if required {
		return identity.StageEnrol, nil
	}
	return identity.StageFull, nil
}

// mfaRequired reports whether the tenant requires a second factor of u:
// of everyone, or of users holding a role that manages something.
func (s *Server) mfaRequired(c *fiber.Ctx, u *identity.User) (bool, error) {
	ctx := c.UserContext()
	set, err := s.deps.Users.Settings(ctx, u.TenantID)
	if err != nil {
		return false, err
	}
	switch set.MFA {
	case identity.MFAEveryone:
		return true, nil
	case identity.MFAAdmins:
		return s.holdsAdminRole(c, u.TenantID, u.ID)
	}
	return false, nil
}

func (s *Server) holdsAdminRole(c *fiber.Ctx, tenantID, userID string) (bool, error) {
	ctx := c.UserContext()
	held, err := s.deps.Access.RolesOf(ctx, tenantID, userID)
	if err != nil || len(held) == 0 {
		return false, err
	}
	roles, err := s.deps.Access.Roles(ctx, tenantID)
	if err != nil {
		return false, err
	}
	has := map[string]bool{}
	for _, r := range held {
		has[r] = true
	}
	for _, r := range roles {
		if !has[r.Name] {
			continue
		}
		for _, p := range r.Permissions {
			if strings.HasSuffix(string(p), ".manage") || p == access.DataExport || p == access.AuditRead {
				return true, nil
			}
		}
	}
	return false, nil
}

func (s *Server) memberSignout(c *fiber.Ctx) error {
	if err := s.deps.Users.SignOut(c.UserContext(), tenantOf(c).ID, c.Cookies(userCookie), s.meta(c)); err != nil {
		return err
	}
	c.Cookie(s.tenantCookie(c, userCookie, "", -1, fiber.CookieSameSiteLaxMode))
	return c.Redirect("/t/"+tenantOf(c).Slug+"/signin", fiber.StatusSeeOther)
}

func (s *Server) resetForm(c *fiber.Ctx) error {
	tok, err := s.formCSRF(c)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.CSRF = tok
	return s.render(c, fiber.StatusOK, web.PageReset, web.ResetData{Frame: f})
}

func (s *Server) reset(c *fiber.Ctx) error {
	email := c.FormValue("email")
	if len(email) <= 254 {
		if err := s.deps.Users.RequestReset(c.UserContext(), tenantOf(c).ID, email, s.meta(c)); err != nil {
			// The answer stays the same; the cause goes to the log.
			s.deps.Logger.Warn("password reset not sent", "request_id", requestIDOf(c), "error", err.Error())
		}
	}
	return s.render(c, fiber.StatusOK, web.PageReset, web.ResetData{Frame: s.frame(c), Sent: true})
}

func (s *Server) renderLink(c *fiber.Ctx, status int, token, msg string) error {
	t := tenantOf(c)
	info, err := s.deps.Users.Link(c.UserContext(), t.ID, token)
	if errors.Is(err, identity.ErrTokenInvalid) {
		return errorf(fiber.StatusGone, msgLinkInvalid)
	}
	if err != nil {
		return err
	}
	csrf, err := s.formCSRF(c)
	if err != nil {
		return err
	}
	set, err := s.deps.Users.Settings(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	minLen := max(set.MinPasswordLength, password.DefaultPolicy().MinLengthSingleFactor)
	if set.MFA == identity.MFAEveryone {
		minLen = set.MinPasswordLength
	}
	f := s.frame(c)
	f.CSRF, f.Error = csrf, msg
	return s.render(c, status, web.PageLink, web.LinkData{Frame: f, Token: token, Purpose: info.Purpose, Invitee: info.User.Email,
		MinLength: minLen, Expires: info.Expires})
}

func (s *Server) linkForm(c *fiber.Ctx) error {
	return s.renderLink(c, fiber.StatusOK, c.Params("token"), "")
}

func (s *Server) link(c *fiber.Ctx) error {
	t := tenantOf(c)
	token, pw, confirm := c.FormValue("token"), c.FormValue("password"), c.FormValue("confirm")
	if len(token) > 128 {
		return errorf(fiber.StatusGone, msgLinkInvalid)
	}
	if len(pw) > 512 {
		return s.renderLink(c, fiber.StatusUnprocessableEntity, token, "Use at most 128 characters.")
	}
	if pw != confirm {
		return s.renderLink(c, fiber.StatusUnprocessableEntity, token, "The two passwords differ.")
	}
	u, err := s.deps.Users.SetPasswordWithLink(c.UserContext(), t.ID, token, pw, false, s.meta(c))
	var v *password.Violation
	switch {
	case errors.As(err, &v):
		return s.renderLink(c, fiber.StatusUnprocessableEntity, token, v.Message)
	case errors.Is(err, identity.ErrTokenInvalid):
		return errorf(fiber.StatusGone, msgLinkInvalid)
	case err != nil:
		return err
	}
	// Setting the password through the mailed link is the password step;
	// the second factor (or its enrolment) is still owed as at sign-in.
	stage, err := s.stageAfterPassword(c, u)
	if err != nil {
		return err
	}
	tok, sess, err := s.deps.Users.StartSession(c.UserContext(), u, stage, "link", s.meta(c))
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, sess)
	switch stage {
	case identity.StageMFA:
		return c.Redirect("/t/"+t.Slug+"/mfa", fiber.StatusSeeOther)
	case identity.StageEnrol:
		return c.Redirect("/t/"+t.Slug+"/account", fiber.StatusSeeOther)
	}
	return c.Redirect("/t/"+t.Slug+"/account?done=welcome", fiber.StatusSeeOther)
}

func (s *Server) renderMFA(c *fiber.Ctx, status int, msg string, sent bool) error {
	return s.renderMFAWith(c, status, msg, sent, false)
}

func (s *Server) renderMFAWith(c *fiber.Ctx, status int, msg string, sent, smsSent bool) error {
	t, sess := tenantOf(c), userSessionOf(c)
	st, err := s.deps.MFA.Factors(c.UserContext(), t.ID, sess.UserID)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.Error = msg
	smsOK, err := s.smsOffered(c, sess.UserID)
	if err != nil {
		return err
	}
	return s.render(c, status, web.PageMFA, web.MFAData{Frame: f, TOTP: st.TOTP, WebAuthn: st.WebAuthn > 0 && s.deps.Passkeys != nil, RecoveryLeft: st.RecoveryLeft,
		EmailCode: !st.Enrolled(), Sent: sent, SMS: smsOK && !st.Enrolled(), SMSSent: smsSent})
}

// smsOffered reports whether codes by SMS may be offered to userID: the
// host has a gateway, the tenant allows the fallback and the user gave a
// number.
func (s *Server) smsOffered(c *fiber.Ctx, userID string) (bool, error) {
	if s.deps.SMS == nil {
		return false, nil
	}
	set, err := s.deps.Users.Settings(c.UserContext(), tenantOf(c).ID)
	if err != nil || !set.SMSFallback {
		return false, err
	}
	_, err = s.deps.Users.Phone(c.UserContext(), tenantOf(c).ID, userID)
	if errors.Is(err, identity.ErrNoPhone) {
		return false, nil
	}
	return err == nil, err
}

// mfaSMS sends a one-time code by text message, for a member who cannot
// receive e-mail; the session it leads to is temporary.
func (s *Server) mfaSMS(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	ok, err := s.smsOffered(c, u.ID)
	if err != nil {
		return err
	}
	if st, err := s.deps.MFA.Factors(c.UserContext(), t.ID, u.ID); err != nil {
		return err
	} else if st.Enrolled() {
		ok = false
	}
	if !ok {
		return errorf(fiber.StatusNotFound, "Codes by text message are not available here.")
	}
	phone, err := s.deps.Users.Phone(c.UserContext(), t.ID, u.ID)
	if err != nil {
		return err
	}
	if ok, err := s.deps.Users.AllowSend(c.UserContext(), t.ID, u.ID, "mfa-sms"); err != nil || !ok {
		if err != nil {
			return err
		}
		return s.renderMFAWith(c, fiber.StatusTooManyRequests, "Several codes were sent already. Use the newest one, or wait a quarter of an hour.", false, true)
	}
	code, err := s.deps.MFA.IssueCode(c.UserContext(), t.ID, u.ID, mfa.SMS, smsCodePurpose)
	if err != nil {
		return err
	}
	if err := s.deps.SMS.SendSMS(c.UserContext(), phone, "Your "+t.Name+" sign-in code is "+code+". It works once, for 10 minutes."); err != nil {
		s.deps.Logger.Warn("sms not sent", "request_id", requestIDOf(c), "error", err.Error())
		return s.renderMFAWith(c, fiber.StatusBadGateway, "The text message could not be sent. Try another way.", false, false)
	}
	return s.renderMFAWith(c, fiber.StatusOK, "", false, true)
}

// setPhone stores or removes the number for SMS codes; it needs a recent
// proof of identity, since it adds a way in.
func (s *Server) setPhone(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
		return s.needReauth(c, "/account")
	}
	phone := c.FormValue("phone")
	if len(phone) > 40 {
		return s.renderAccount(c, fiber.StatusUnprocessableEntity, "That is not a phone number.", "", nil, nil)
	}
	err := s.deps.Users.SetPhone(c.UserContext(), t.ID, u.ID, phone, s.meta(c))
	if msg, ok := userError(err); ok {
		return s.renderAccount(c, fiber.StatusUnprocessableEntity, msg, "", nil, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/account?done=phone", fiber.StatusSeeOther)
}

func (s *Server) mfaForm(c *fiber.Ctx) error { return s.renderMFA(c, fiber.StatusOK, "", false) }

// mfaVerify checks the second factor and renews the session: the token
// that passed only the password is worth nothing afterwards.
func (s *Server) mfaVerify(c *fiber.Ctx) error {
	t, sess := tenantOf(c), userSessionOf(c)
	ctx := c.UserContext()
	code, method := c.FormValue("code"), c.FormValue("method")
	if len(code) > 64 {
		return s.renderMFA(c, fiber.StatusUnauthorized, msgBadCode, false)
	}
	if method == "sms" || method == "email" {
		// Codes by e-mail or SMS are for members without an authenticator
		// or passkey. For those who have one they would be a way around
		// it: the mailbox that receives a reset link would also receive
		// the code. Their fallback is the recovery codes.
		if st, err := s.deps.MFA.Factors(ctx, t.ID, sess.UserID); err != nil {
			return err
		} else if st.Enrolled() {
			return s.renderMFA(c, fiber.StatusForbidden, "Use your authenticator app, your passkey or a recovery code.", false)
		}
	}
	var verify func() error
	switch method {
	case "totp":
		verify = func() error { return s.deps.MFA.VerifyTOTP(ctx, t.ID, sess.UserID, strings.ReplaceAll(code, " ", "")) }
	case "recovery":
		verify = func() error { return s.deps.MFA.UseRecoveryCode(ctx, t.ID, sess.UserID, code) }
	case "sms":
		verify = func() error {
			return s.deps.MFA.VerifyCode(ctx, t.ID, sess.UserID, smsCodePurpose, strings.ReplaceAll(code, " ", ""))
		}
	case "email":
		verify = func() error {
			return s.deps.MFA.VerifyCode(ctx, t.ID, sess.UserID, emailCodePurpose, strings.ReplaceAll(code, " ", ""))
		}
	default:
		return errorf(fiber.StatusBadRequest, "Choose how to confirm it is you.")
	}
	err := s.deps.Users.GuardFactor(ctx, t.ID, sess.UserID, s.meta(c), verify)
	if errors.Is(err, identity.ErrLocked) {
		return s.renderMFA(c, fiber.StatusTooManyRequests, "Too many wrong codes: the second step is locked for a while. Try again later.", false)
	}
	if err != nil {
		if isMFARefusal(err) {
			return s.renderMFA(c, fiber.StatusUnauthorized, msgBadCode, method == "email")
		}
		return err
	}
	tok, full, err := s.deps.Users.Renew(ctx, t.ID, c.Cookies(userCookie), identity.StageFull, "password+"+method, true, true, s.meta(c))
	if err != nil {
		return err
	}
	if method == "sms" {
		// An SMS code is the weakest factor: it buys temporary access.
		until := time.Now().Add(smsAccess)
		if err := s.deps.Users.Shorten(ctx, t.ID, full.ID, until); err != nil {
			return err
		}
		full.ExpiresAt = until
	}
	s.setUserCookie(c, tok, full)
	return c.Redirect("/t/"+t.Slug+"/", fiber.StatusSeeOther)
}

// isMFARefusal reports whether err is a wrong, used or expired code
// rather than a failure of the system.
func isMFARefusal(err error) bool {
	for _, e := range []error{mfa.ErrInvalid, mfa.ErrReplay, mfa.ErrExpired, mfa.ErrTooManyAttempts, mfa.ErrNotEnrolled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// mfaEmail sends a one-time code by e-mail, the weaker fallback.
func (s *Server) mfaEmail(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if st, err := s.deps.MFA.Factors(c.UserContext(), t.ID, u.ID); err != nil {
		return err
	} else if st.Enrolled() {
		return s.renderMFA(c, fiber.StatusForbidden, "Use your authenticator app, your passkey or a recovery code.", false)
	}
	if ok, err := s.deps.Users.AllowSend(c.UserContext(), t.ID, u.ID, "mfa-email"); err != nil || !ok {
		if err != nil {
			return err
		}
		return s.renderMFA(c, fiber.StatusTooManyRequests, "Several codes were sent already. Use the newest one, or wait a quarter of an hour.", true)
	}
	code, err := s.deps.MFA.IssueCode(c.UserContext(), t.ID, u.ID, mfa.Email, emailCodePurpose)
	if err != nil {
		return err
	}
	err = s.deps.Notifier.Notify(c.UserContext(), identity.Notice{Kind: identity.NoticeSignInCode, TenantID: t.ID, UserID: u.ID,
		Email: u.Email, Name: u.Name, Token: code, Expires: time.Now().Add(10 * time.Minute), Meta: s.meta(c)})
	if err != nil {
		return err
	}
	return s.renderMFA(c, fiber.StatusOK, "", true)
}

func (s *Server) renderAccount(c *fiber.Ctx, status int, msg, flash string, enrol *mfa.Enrolment, codes []string) error {
	t, sess, u := tenantOf(c), userSessionOf(c), userOf(c)
	ctx := c.UserContext()
	st, err := s.deps.MFA.Factors(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	set, err := s.deps.Users.Settings(ctx, t.ID)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.Error = msg
	if flash != "" {
		f.Flash = flashText(flash)
	}
	d := web.AccountData{Frame: f, Name: u.Name, TOTP: st.TOTP, RecoveryLeft: st.RecoveryLeft, MustEnrol: sess.Stage == identity.StageEnrol,
		RecoveryCodes: codes, MinLength: set.MinPasswordLength}
	if !st.TOTP && st.WebAuthn == 0 && set.MFA != identity.MFAEveryone {
		d.MinLength = max(d.MinLength, password.DefaultPolicy().MinLengthSingleFactor)
	}
	if ok, err := s.smsAllowed(c); err != nil {
		return err
	} else if ok {
		d.SMS = true
		if p, err := s.deps.Users.Phone(ctx, t.ID, u.ID); err == nil {
			d.Phone = identity.MaskPhone(p)
		} else if !errors.Is(err, identity.ErrNoPhone) {
			return err
		}
	}
	if s.deps.Passkeys != nil {
		d.PasskeysOffered = true
		creds, err := s.deps.Passkeys.Credentials(ctx, t.ID, u.ID)
		if err != nil {
			return err
		}
		for _, cr := range creds {
			d.Passkeys = append(d.Passkeys, web.PasskeyRow{ID: base64.RawURLEncoding.EncodeToString(cr.ID), Label: cr.Label, CreatedAt: cr.CreatedAt})
		}
	}
	if enrol != nil {
		d.Enrolment = &web.TOTPEnrolment{Secret: enrol.Secret,
			// The QR code is our own PNG, base64-encoded into a data: URL.
			QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(enrol.QRPNG))}
	}
	if sess.Stage == identity.StageFull {
		list, err := s.deps.Users.Sessions(ctx, t.ID, u.ID)
		if err != nil {
			return err
		}
		for _, x := range list {
			d.Sessions = append(d.Sessions, web.SessionRow{ID: x.ID, IP: x.IP, UserAgent: truncate(x.UserAgent, 80), Method: x.Method,
				CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, Current: x.ID == sess.ID})
		}
	}
	return s.render(c, status, web.PageAccount, d)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func (s *Server) account(c *fiber.Ctx) error {
	return s.renderAccount(c, fiber.StatusOK, "", "", nil, nil)
}

// freshFor reports whether the session may change the user's factors: a
// session enrolling its first factor may, a full one needs a recent proof
// of identity (a borrowed session must not add a lasting way in).
func freshFor(c *fiber.Ctx) bool {
	sess := userSessionOf(c)
	return sess.Stage != identity.StageFull || sess.Recent(time.Now(), reauthWindow)
}

func (s *Server) totpBegin(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !freshFor(c) {
		return s.needReauth(c, "/account")
	}
	enrol, err := s.deps.MFA.BeginTOTP(c.UserContext(), t.ID, u.ID, u.Email)
	if err != nil {
		return err
	}
	return s.renderAccount(c, fiber.StatusOK, "", "", &enrol, nil)
}

// totpConfirm turns the authenticator on, makes recovery codes, and —
// since the user's privileges changed — renews the session.
func (s *Server) totpConfirm(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !freshFor(c) {
		return s.needReauth(c, "/account")
	}
	ctx := c.UserContext()
	code := strings.ReplaceAll(c.FormValue("code"), " ", "")
	if len(code) > 16 {
		return s.renderAccount(c, fiber.StatusUnprocessableEntity, msgBadCode, "", nil, nil)
	}
	if err := s.deps.MFA.ConfirmTOTP(ctx, t.ID, u.ID, "user:"+u.ID, code); err != nil {
		if isMFARefusal(err) {
			return s.renderAccount(c, fiber.StatusUnprocessableEntity, msgBadCode+" Start the set-up again if the code keeps failing.", "", nil, nil)
		}
		return err
	}
	codes, err := s.deps.MFA.GenerateRecoveryCodes(ctx, t.ID, u.ID, "user:"+u.ID)
	if err != nil {
		return err
	}
	s.deps.Users.Inform(ctx, identity.Notice{Kind: identity.NoticeFactorAdded, TenantID: t.ID, UserID: u.ID, Email: u.Email, Name: u.Name,
		Detail: "an authenticator app", Meta: s.meta(c)})
	tok, sess, err := s.deps.Users.Renew(ctx, t.ID, c.Cookies(userCookie), identity.StageFull, "", true, false, s.meta(c))
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, sess)
	c.Locals(localUserSess, sess)
	return s.renderAccount(c, fiber.StatusOK, "", "totp", nil, codes)
}

func (s *Server) recoveryRenew(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
		return s.needReauth(c, "/account")
	}
	codes, err := s.deps.MFA.GenerateRecoveryCodes(c.UserContext(), t.ID, u.ID, "user:"+u.ID)
	if err != nil {
		return err
	}
	return s.renderAccount(c, fiber.StatusOK, "", "recovery", nil, codes)
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	t, u, sess := tenantOf(c), userOf(c), userSessionOf(c)
	ctx := c.UserContext()
	cur, next := c.FormValue("current"), c.FormValue("next")
	if len(cur) > 512 || len(next) > 512 {
		return s.renderAccount(c, fiber.StatusUnprocessableEntity, "Use at most 128 characters.", "", nil, nil)
	}
	st, err := s.deps.MFA.Factors(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	err = s.deps.Users.ChangePassword(ctx, t.ID, u.ID, sess.ID, cur, next, st.TOTP || st.WebAuthn > 0, s.meta(c))
	var v *password.Violation
	switch {
	case errors.As(err, &v):
		return s.renderAccount(c, fiber.StatusUnprocessableEntity, v.Message, "", nil, nil)
	case errors.Is(err, identity.ErrInvalidCredentials):
		return s.renderAccount(c, fiber.StatusUnprocessableEntity, "The current password is wrong.", "", nil, nil)
	case err != nil:
		return err
	}
	// A privilege change: the session gets a new token.
	tok, ns, err := s.deps.Users.Renew(ctx, t.ID, c.Cookies(userCookie), identity.StageFull, "", false, true, s.meta(c))
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, ns)
	return c.Redirect("/t/"+t.Slug+"/account?done=password", fiber.StatusSeeOther)
}

func (s *Server) revokeSession(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	id := c.FormValue("session")
	if len(id) != 64 {
		return errorf(fiber.StatusBadRequest, "No such session.")
	}
	err := s.deps.Users.RevokeSession(c.UserContext(), t.ID, u.ID, id, "user:"+u.ID, s.meta(c))
	if errors.Is(err, identity.ErrNoSession) {
		return errorf(fiber.StatusNotFound, "No such session.")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/account?done=revoked", fiber.StatusSeeOther)
}

func (s *Server) revokeAllSessions(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if _, err := s.deps.Users.RevokeAll(c.UserContext(), t.ID, u.ID, userSessionOf(c).ID, "user:"+u.ID, s.meta(c)); err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/account?done=revoked-all", fiber.StatusSeeOther)
}

// needReauth sends a user whose last proof of identity is older than
// reauthWindow to confirm the password, then back to back (a tenant
// path, typically the form they came from).
func (s *Server) needReauth(c *fiber.Ctx, back string) error {
	t := tenantOf(c)
	return c.Redirect("/t/"+t.Slug+"/reauth?return="+url.QueryEscape("/t/"+t.Slug+back), fiber.StatusSeeOther)
}

func (s *Server) renderReauth(c *fiber.Ctx, status int, msg, back string) error {
	f := s.frame(c)
	f.Error = msg
	return s.render(c, status, web.PageReauth, web.ReauthData{Frame: f, Return: back})
}

func (s *Server) reauthForm(c *fiber.Ctx) error {
	return s.renderReauth(c, fiber.StatusOK, "", localReturn(c))
}

// reauth checks the password again — under the same brute-force limits as
// sign-in — and marks the session's identity as proven now, with a new
// token.
func (s *Server) reauth(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	back := safeReturn(c, c.FormValue("return"))
	pw := c.FormValue("password")
	if len(pw) > 512 {
		return s.renderReauth(c, fiber.StatusUnauthorized, "The password is wrong.", back)
	}
	if _, err := s.deps.Users.Authenticate(c.UserContext(), t.ID, u.Email, pw, s.meta(c)); err != nil {
		if errors.Is(err, identity.ErrInvalidCredentials) {
			return s.renderReauth(c, fiber.StatusUnauthorized, "The password is wrong, or too many attempts locked the account for a while.", back)
		}
		return err
	}
	tok, sess, err := s.deps.Users.Renew(c.UserContext(), t.ID, c.Cookies(userCookie), identity.StageFull, "", false, true, s.meta(c))
	if err != nil {
		return err
	}
	s.setUserCookie(c, tok, sess)
	return c.Redirect(back, fiber.StatusSeeOther)
}

// smsAllowed reports whether the host can send SMS codes and the tenant
// allows them.
func (s *Server) smsAllowed(c *fiber.Ctx) (bool, error) {
	if s.deps.SMS == nil {
		return false, nil
	}
	set, err := s.deps.Users.Settings(c.UserContext(), tenantOf(c).ID)
	return err == nil && set.SMSFallback, err
}
