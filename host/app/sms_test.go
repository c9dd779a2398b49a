package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/host/sms"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestSMSFallback: in a tenant that requires a second factor, a member
// without an authenticator app may confirm with a code instead; with the
// tenant's SMS fallback on and a phone number on the account, the code
// can come by text message, and the session lasts one hour at most. A
// member with an authenticator is never offered codes by e-mail or SMS.
func TestSMSFallback(t *testing.T) {
	var mu sync.Mutex
	var texts []sms.Message
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if sms.Sign([]byte(testhost.SMSSecret), r.Header.Get(sms.HeaderTimestamp), body) != r.Header.Get(sms.HeaderSignature) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m sms.Message
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		texts = append(texts, m)
		mu.Unlock()
	}))
	defer gw.Close()
	h := testhost.Start(t, testhost.Options{SMSWebhook: gw.URL})
	ctx := context.Background()
	tn := h.CreateTenant(t, "zeta", "Zeta Housing")
	const email, pw = "kim@zeta.example", "indigo trams cross the river"
	u := h.CreateUser(t, tn, email, pw, "member")
	set := identity.DefaultSettings()
	set.MFA = identity.MFAEveryone
	if err := h.App.Users.SaveSettings(ctx, tn.ID, "test", set, identity.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	if err := h.App.Users.SetPhone(ctx, tn.ID, u.ID, "+41 44 123 45 67", identity.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	base := h.URL + "/t/" + tn.Slug
	signIn := func() string {
		resp, body := get(t, h.Client, base+"/signin")
		_ = resp
		resp, err := h.Client.PostForm(base+"/signin", url.Values{"csrf": {testhost.CSRF(t, body)}, "email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Location") != "/t/zeta/account" {
			t.Fatalf("sign-in went to %q", resp.Header.Get("Location"))
		}
		_, body = get(t, h.Client, base+"/mfa")
		return body
	}
	// Off by default: no SMS offered, and asking for one is refused.
	page := signIn()
	if strings.Contains(page, "Text me a code") {
		t.Fatal("SMS offered while the tenant has not allowed it")
	}
	if resp, _ := post(t, h.Client, base+"/mfa/sms", url.Values{"csrf": {testhost.CSRF(t, page)}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("SMS while off: %d", resp.StatusCode)
	}
	set.SMSFallback = true
	if err := h.App.Users.SaveSettings(ctx, tn.ID, "test", set, identity.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	page = signIn()
	if !strings.Contains(page, "Text me a code") {
		t.Fatal("SMS not offered")
	}
	csrf := testhost.CSRF(t, page)
	if resp, _ := post(t, h.Client, base+"/mfa/sms", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("send SMS: %d", resp.StatusCode)
	}
	mu.Lock()
	if len(texts) != 1 || texts[0].To != "+41441234567" {
		t.Fatalf("texts: %+v", texts)
	}
	m := regexp.MustCompile(`code is (\d{6,8})`).FindStringSubmatch(texts[0].Text)
	mu.Unlock()
	if m == nil {
		t.Fatal("no code in the text")
	}
	resp, _ := post(t, h.Client, base+"/mfa", url.Values{"csrf": {csrf}, "method": {"sms"}, "code": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/zeta/" {
		t.Fatalf("SMS code: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	sessions, err := h.App.Users.Sessions(ctx, tn.ID, u.ID)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions: %v %v", sessions, err)
	}
	if left := time.Until(sessions[0].ExpiresAt); left > time.Hour || left < 50*time.Minute {
		t.Fatalf("an SMS session lasts %s", left)
	}

	// Once the member has an authenticator, codes by SMS or e-mail are no
	// longer a way in: only the app, a passkey or a recovery code.
	enrol, err := h.App.MFA.BeginTOTP(ctx, tn.ID, u.ID, email)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(enrol.Secret, time.Now())
	if err := h.App.MFA.ConfirmTOTP(ctx, tn.ID, u.ID, "test", code); err != nil {
		t.Fatal(err)
	}
	h.Client.Jar, _ = cookiejar.New(nil)
	resp, _ = get(t, h.Client, base+"/signin")
	_, body := get(t, h.Client, base+"/signin")
	resp, err = h.Client.PostForm(base+"/signin", url.Values{"csrf": {testhost.CSRF(t, body)}, "email": {email}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, page = get(t, h.Client, base+"/mfa")
	if strings.Contains(page, "Text me a code") || strings.Contains(page, "by e-mail") {
		t.Fatal("codes offered to a member with an authenticator")
	}
	for _, path := range []string{"/mfa/sms", "/mfa/email"} {
		if resp, _ := post(t, h.Client, base+path, url.Values{"csrf": {testhost.CSRF(t, page)}}); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with an authenticator: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := post(t, h.Client, base+"/mfa", url.Values{"csrf": {testhost.CSRF(t, page)}, "method": {"email"}, "code": {"123456"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("e-mail code with an authenticator: %d", resp.StatusCode)
	}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}
