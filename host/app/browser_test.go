package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/testkit/browser"
	"github.com/plenum-vote/plenum/testkit/mailtest"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestBrowserInvitationMFALockoutPolicy drives Chromium through what a
// tenant admin and a new member do: the admin invites the member; the
// member follows the link from the e-mail, sets a password, turns on an
// authenticator app, signs out and in again with a code from it, and is
// locked out after repeated wrong passwords; the admin writes a CEL
// condition with a typo, sees it refused with its line and column (live,
// and on save), fixes it and saves it.
func TestBrowserInvitationMFALockoutPolicy(t *testing.T) {
	smtp := mailtest.Start(t)
	h := testhost.Start(t, testhost.Options{SMTP: smtp.Addr()})
	ctx := browser.Start(t, 3*time.Minute)
	tn := h.CreateTenant(t, "lakeside", "Lakeside Gardens HOA")
	const (
		adminEmail  = "chair@lakeside.example"
		adminPW     = "seventeen herons guard the boathouse"
		memberEmail = "ada@lakeside.example"
		memberPW    = "cobalt lanterns over the orchard"
	)
	h.CreateUser(t, tn, adminEmail, adminPW, "owner")
	base := h.URL + "/t/" + tn.Slug

	tab := browser.NewTab(t, ctx)
	do, text, location := tab.Do, tab.Text, tab.Location
	markPage, waitNewPage := browser.MarkPage(), browser.WaitNewPage()
	signIn := func(email, pw string) { t.Helper(); tab.SignIn(base, email, pw) }
	signOut := func() {
		t.Helper()
		tab.SignOut(base)
		do("sign-in form", chromedp.WaitVisible(chromedp.CSS("#email")))
	}

	// The admin invites the member.
	signIn(adminEmail, adminPW)
	do("invite",
		chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/admin/users/invite"]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/invite"] #email`), memberEmail),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/invite"] #name`), "Ada Lovelace"),
		markPage,
		chromedp.Submit(chromedp.CSS(`form[action$="/invite"] #email`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := text(".flash"); !strings.Contains(got, "invitation was sent") {
		t.Fatalf("after inviting: %q", got)
	}
	signOut()

	// The member follows the link from the e-mail and sets a password.
	msg := smtp.WaitFor(t, memberEmail, 10*time.Second)
	link, ok := mailtest.FindLink(msg, base+"/link/")
	if !ok {
		t.Fatalf("no link in the invitation:\n%s", msg.Text)
	}
	do("set password",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), memberPW),
		chromedp.SendKeys(chromedp.CSS("#confirm"), memberPW),
		markPage,
		chromedp.Submit(chromedp.CSS("#confirm")),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if !strings.HasSuffix(location(), "/account?done=welcome") {
		t.Fatalf("after setting the password: %s", location())
	}
	// The link works once.
	do("reuse link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("footer")))
	if got := text("main"); !strings.Contains(got, "not valid any more") {
		t.Fatalf("second use of the link: %q", got)
	}

	// The member turns on an authenticator app.
	do("begin TOTP",
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/account/totp"] button`)),
		markPage,
		chromedp.Click(chromedp.CSS(`form[action$="/account/totp"] button`)),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
		chromedp.WaitVisible(chromedp.CSS("img.qr")),
	)
	secret := strings.TrimSpace(text("#totp-secret"))
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do("confirm TOTP",
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		markPage,
		chromedp.Submit(chromedp.CSS("#code")),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
	)
	if n := strings.Count(text("#recovery-codes"), "-"); n < 10 {
		t.Fatalf("recovery codes shown: %q", text("#recovery-codes"))
	}
	signOut()

	// Signing in again asks for a code. The step used to confirm is spent,
	// so the code of the next step (within the allowed skew) is given.
	signIn(memberEmail, memberPW)
	if !strings.HasSuffix(location(), "/mfa") {
		t.Fatalf("after the password with TOTP on: %s: %s", location(), text("main"))
	}
	next, err := totp.GenerateCodeCustom(secret, time.Now().Add(30*time.Second), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	do("give TOTP code",
		chromedp.SendKeys(chromedp.CSS(`form input[name="method"][value="totp"] ~ #code`), next),
		markPage,
		chromedp.Submit(chromedp.CSS("#code")),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/signout"]`)),
	)
	if loc := location(); loc != base+"/" {
		t.Fatalf("after the code: %s", loc)
	}
	if got := text("main"); !strings.Contains(got, memberEmail) {
		t.Fatalf("home page does not show the signed-in member: %q", got)
	}
	signOut()

	// Repeated wrong passwords lock the account; then even the right one
	// is refused, with the same answer as a wrong one.
	set, err := h.App.Users.Settings(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range set.Lockout.AccountThreshold {
		signIn(memberEmail, fmt.Sprintf("not the password %d at all", i))
		if got := text(".error"); !strings.Contains(got, "wrong") {
			t.Fatalf("wrong password %d: %q", i, got)
		}
	}
	signIn(memberEmail, memberPW)
	if !strings.HasSuffix(location(), "/signin") || !strings.Contains(text(".error"), "locked") {
		t.Fatalf("right password during the lockout: %s", location())
	}
	locks, err := h.App.Users.Locks(context.Background(), tn.ID)
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks: %v %v", locks, err)
	}
	notice := smtp.WaitFor(t, memberEmail, 10*time.Second)
	for _, m := range smtp.Messages() {
		if m.Header.Get("X-Plenum-Notice") == string(identity.NoticeLockout) {
			notice = m
		}
	}
	if notice.Header.Get("X-Plenum-Notice") != string(identity.NoticeLockout) {
		t.Fatal("the member was not told of the lockout")
	}

	// The admin writes a CEL condition with a typo: refused with line and
	// column, live and on save; fixed, it is saved as version 1.
	signIn(adminEmail, adminPW)
	typo := `{"rules":[{"role":"board","permissions":["ballots.manage"],"condition":"principal.mfaa && resource.status == \"draft\""}]}`
	do("type a policy with a typo",
		chromedp.Navigate(base+"/admin/policy"),
		chromedp.WaitVisible(chromedp.CSS("#policy")),
		chromedp.SetValue(chromedp.CSS("#policy"), typo),
		chromedp.SendKeys(chromedp.CSS("#policy"), " "),
		chromedp.WaitVisible(chromedp.CSS("#policy-live li")),
	)
	if live := text("#policy-live"); !strings.Contains(live, "line 1, column") || !strings.Contains(live, "mfaa") {
		t.Fatalf("live check: %q", live)
	}
	do("save the typo",
		markPage,
		chromedp.Submit(chromedp.CSS("#policy")),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS("#policy-issues")),
	)
	if got := text("#policy-issues"); !strings.Contains(got, "rule 1, line 1, column") {
		t.Fatalf("issues on save: %q", got)
	}
	fixed := strings.Replace(typo, "mfaa", "mfa", 1)
	do("save the fix",
		chromedp.SetValue(chromedp.CSS("#policy"), fixed),
		chromedp.SendKeys(chromedp.CSS("#comment"), "board needs MFA for drafts"),
		markPage,
		chromedp.Submit(chromedp.CSS("#policy")),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := text("h1"); !strings.Contains(got, "version 1") {
		t.Fatalf("after saving: %q", got)
	}
	v, err := h.App.Access.CurrentPolicy(context.Background(), tn.ID)
	if err != nil || v.Version != 1 || v.Policy.Rules[0].Condition != `principal.mfa && resource.status == "draft"` {
		t.Fatalf("stored policy: %+v %v", v, err)
	}
}
