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
