package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/plenum-vote/plenum/testkit/browser"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestBrowserPasskey registers a passkey from the account page with
// Chromium's virtual authenticator, signs out, and signs in with the
// password and the passkey as second step.
func TestBrowserPasskey(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Localhost: true})
	ctx := browser.Start(t, 2*time.Minute)
	tn := h.CreateTenant(t, "harbour", "Harbour View Co-op")
	const email, pw = "pat@harbour.example", "amber foghorns sing to the pier"
	h.CreateUser(t, tn, email, pw, "member")
	base := h.URL + "/t/" + tn.Slug

	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}}); err != nil {
		t.Fatal(err)
	}
	do := browser.NewTab(t, ctx).Do
	signIn := chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Submit(chromedp.CSS("#password")),
	)
	do("sign in", signIn, chromedp.WaitVisible(chromedp.CSS(`form[action$="/signout"]`)))
	do("register a passkey",
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-register")),
		chromedp.SetValue(chromedp.CSS("#passkey-label"), "Laptop"),
		chromedp.Click(chromedp.CSS("#passkey-register")),
		chromedp.WaitVisible(chromedp.CSS("#passkeys li")),
	)
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#passkeys")))
	if err != nil || !strings.Contains(list, "Laptop") {
		t.Fatalf("passkey list: %q %v", list, err)
	}
	do("sign out",
		chromedp.Click(chromedp.CSS(`form[action$="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	do("password, then passkey", signIn,
		chromedp.WaitVisible(chromedp.CSS("#passkey-login")),
		chromedp.Click(chromedp.CSS("#passkey-login")),
		chromedp.WaitVisible(chromedp.CSS(`body:not(:has(#passkey-login)) form[action$="/signout"]`)),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/" {
		t.Fatalf("after the passkey: %s %v", loc, err)
	}
}
