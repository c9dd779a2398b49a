// Package browser starts Debian's Chromium, headless, for tests that
// drive Plenum's pages the way a member does (github.com/chromedp/chromedp).
//
// The browser gets a fresh profile in a temporary directory and the flags
// that keep it from reaching out to the network on its own, which this
// project's machines do not allow. When no Chromium is installed the test
// is skipped, or fails when PLENUM_TEST_REQUIRE lists "browser".
package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plenum-vote/plenum/testkit"
)

// EnvChromium names the environment variable that points at the browser
// binary; by default chromium is looked up in PATH.
const EnvChromium = "PLENUM_TEST_CHROMIUM"

// Start launches a headless browser for t and returns a context for
// chromedp actions in its first tab, closed when t ends. timeout bounds
// the whole test's browsing.
func Start(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	bin := os.Getenv(EnvChromium)
	if bin == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		testkit.Unavailable(t, "browser", "no chromium in PATH (install Debian's chromium package or set "+EnvChromium+")")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		testkit.Unavailable(t, "browser", "start "+bin+": "+err.Error())
	}
	return bctx
}

// Tab wraps a browser context with the helpers every page test needs:
// each step fails the test with the page's location and main content.
type Tab struct {
	t   testing.TB
	ctx context.Context
	// Step bounds each Do.
	Step time.Duration
}

// NewTab returns a Tab over ctx (from Start) with 20-second steps.
func NewTab(t testing.TB, ctx context.Context) *Tab {
	return &Tab{t: t, ctx: ctx, Step: 20 * time.Second}
}

// Context returns the chromedp context, for protocol calls.
func (b *Tab) Context() context.Context { return b.ctx }

// Do runs actions as one step named what.
func (b *Tab) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		b.t.Fatalf("%s: %v (at %s)\n%.1500s", what, err, loc, html)
	}
}

// Text returns the text of the first element matching the CSS selector.
func (b *Tab) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Location returns the tab's URL.
func (b *Tab) Location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// MarkPage tags the current document, so that WaitNewPage can tell when
// a form's answer has replaced it: put it before the click or submit.
func MarkPage() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`document.body.dataset.stale = "1"; true`)(ctx, tgt)
		return chromedp.Void{}, err
	}
}

// WaitNewPage waits until a document without MarkPage's tag is shown.
func WaitNewPage() chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS("body:not([data-stale]) footer"))
}

// SignIn signs in to the tenant at base (".../t/SLUG") through its
// sign-in form, as a member types it.
func (b *Tab) SignIn(base, email, pw string) {
	b.t.Helper()
	b.Do("sign in as "+email,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		MarkPage(),
		chromedp.Submit(chromedp.CSS("#password")),
		WaitNewPage(),
	)
}

// SignOut signs out of the tenant at base with the button of its pages.
func (b *Tab) SignOut(base string) {
	b.t.Helper()
	b.Do("sign out",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/signout"] button`)),
		MarkPage(),
		chromedp.Click(chromedp.CSS(`form[action$="/signout"] button`)),
		WaitNewPage(),
	)
}
