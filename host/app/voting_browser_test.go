package app_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/testkit/browser"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestBrowserMotion drives Chromium through a meeting's vote: the chair
// creates a two-thirds motion with paper-wins resolution, previews and
// opens it; three members vote online, the second owner of a unit that
// has voted is refused, a paper ballot is entered for a unit that also
// voted online; the chair closes, counts and publishes; the result page
// shows the counts and the chart, and a member finds their receipt in the
// published list.
func TestBrowserMotion(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Tally: true})
	ctx := browser.Start(t, 4*time.Minute)
	bg := context.Background()
	tn := h.CreateTenant(t, "harbour", "Harbour View Condominium")
	base := h.URL + "/t/" + tn.Slug
	const pw = "saffron gulls circle the lighthouse"
	h.CreateUser(t, tn, "chair@harbour.example", pw, "owner")
	ids := map[string]string{}
	for _, name := range []string{"ann", "ben", "cat", "dan"} {
		ids[name] = h.CreateUser(t, tn, name+"@harbour.example", pw, "member").ID
	}
	units := map[string]string{}
	for _, o := range []struct{ unit, weight string }{{"Flat 1", "1/3"}, {"Flat 2", "1/3"}, {"Flat 3", "1/3"}} {
		w, _ := voting.ParseWeight(o.weight)
		u, err := h.App.Units.Create(bg, tn.ID, "test", o.unit, w)
		if err != nil {
			t.Fatal(err)
		}
		units[o.unit] = u.ID
	}
	for _, o := range [][2]string{{"Flat 1", "ann"}, {"Flat 1", "ben"}, {"Flat 2", "cat"}, {"Flat 3", "dan"}} {
		if err := h.App.Units.AddOwner(bg, tn.ID, "test", units[o[0]], ids[o[1]]); err != nil {
			t.Fatal(err)
		}
	}

	tab := browser.NewTab(t, ctx)
	do, text, location := tab.Do, tab.Text, tab.Location
	markPage, waitNewPage := browser.MarkPage(), browser.WaitNewPage()
	signIn := func(email string) { t.Helper(); tab.SignIn(base, email, pw) }
	signOut := func() { t.Helper(); tab.SignOut(base) }
	click := func(what, sel string) {
		t.Helper()
		do(what, chromedp.WaitVisible(chromedp.CSS(sel)), markPage, chromedp.Click(chromedp.CSS(sel)), waitNewPage)
	}

	// The chair writes the motion, previews the rules and saves a draft.
	signIn("chair@harbour.example")
	do("new ballot form",
		chromedp.Navigate(base+"/admin/ballots"),
		chromedp.WaitVisible(chromedp.CSS("#ballot-form #title")),
		chromedp.SendKeys(chromedp.CSS("#title"), "Renew the harbour wall"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Shall the association renew the harbour wall for 120,000?"),
		chromedp.SetValue(chromedp.CSS("#threshold"), "two_thirds"),
		chromedp.SetValue(chromedp.CSS("#resolution"), "paper_wins"),
	)
	// The preview follows the form as it is edited ...
	do("live preview", chromedp.WaitVisible(chromedp.CSS("#live-preview #preview")))
	if got := text("#live-preview #preview"); !strings.Contains(got, "at least 2/3") {
		t.Fatalf("live preview: %q", got)
	}
	// ... and the Preview button gives the same without JavaScript.
	click("preview", `#ballot-form button[value="preview"]`)
	if got := text("#preview"); !strings.Contains(got, "at least 2/3") || !strings.Contains(got, "the paper ballot counts") {
		t.Fatalf("preview: %q", got)
	}
	click("save draft", `#ballot-form button[value="create"]`)
	m := regexp.MustCompile(`/admin/ballots/([0-9a-f-]{36})`).FindStringSubmatch(location())
	if m == nil {
		t.Fatalf("after saving: %s %q", location(), text("main"))
	}
	id := m[1]
	click("open", "#do-open")
	if got := text("#state"); !strings.EqualFold(got, "open") {
		t.Fatalf("state after opening: %q (%s)", got, text("main"))
	}
	signOut()

	// Ben opens the ballot page for Flat 1 ...
	signIn("ben@harbour.example")
	do("ben's ballot page", chromedp.Navigate(base+"/ballots/"+id), chromedp.WaitVisible(chromedp.CSS("form.vote")))
	// ... while his co-owner Ann votes from her own session.
	ann := h.NewClient()
	annTok := h.SignIn(t, ann, tn.Slug, "ann@harbour.example", pw)
	resp, body := post(t, ann, base+"/ballots/"+id+"/vote", url.Values{"csrf": {annTok}, "unit": {units["Flat 1"]}, "choice": {"yes"}})
	annReceipt := receiptRE.FindStringSubmatch(body)
	if resp.StatusCode != 200 || annReceipt == nil {
		t.Fatalf("ann's vote: %d %.600s", resp.StatusCode, body)
	}
	// Ben's vote for the same unit is refused.
	do("ben votes", chromedp.Click(chromedp.CSS(`input[name="choice"][value="no"]`)), markPage,
		chromedp.Click(chromedp.CSS(`form.vote button[type="submit"]`)), waitNewPage, chromedp.WaitVisible(chromedp.CSS(".error")))
	if got := text(".error"); !strings.Contains(got, "already voted") {
		t.Fatalf("ben's second vote for Flat 1: %q", got)
	}
	signOut()

	// Cat and Dan vote for: with Ann, three units online.
	for _, name := range []string{"cat", "dan"} {
		signIn(name + "@harbour.example")
		do(name+"'s home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#open-ballots a")))
		click(name+" opens the ballot", "#open-ballots a")
		do(name+" votes", chromedp.WaitVisible(chromedp.CSS(`input[name="choice"][value="yes"]`)),
			chromedp.Click(chromedp.CSS(`input[name="choice"][value="yes"]`)), markPage,
			chromedp.Click(chromedp.CSS(`form.vote button[type="submit"]`)), waitNewPage, chromedp.WaitVisible(chromedp.CSS("#receipt")))
		signOut()
	}

	// Dan also sent a paper ballot against; under paper-wins it counts.
	signIn("chair@harbour.example")
	do("paper ballot",
		chromedp.Navigate(base+"/admin/ballots/"+id),
		chromedp.WaitVisible(chromedp.CSS("#paper-form")),
		chromedp.SetValue(chromedp.CSS("#punit"), units["Flat 3"]),
		chromedp.Click(chromedp.CSS(`#paper-form input[name="choice"][value="no"]`)),
		markPage,
		chromedp.Click(chromedp.CSS(`#paper-form button[type="submit"]`)),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := text("#turnout"); !strings.Contains(got, "3 of 3 units") || !strings.Contains(got, "paper 1") {
		t.Fatalf("turnout: %q", got)
	}
	click("close", "#do-close")
	click("count", "#do-tally")
	if got := text("#resolutions"); !strings.Contains(got, "Flat 3") || !strings.Contains(got, "paper") {
		t.Fatalf("double-vote decisions: %q", got)
	}
	click("publish", "#do-publish")
	if got := text("#state"); !strings.EqualFold(got, "published") {
		t.Fatalf("state after publishing: %q", got)
	}
	signOut()

	// Ann reads the result and finds her receipt among the counted ones.
	signIn("ann@harbour.example")
	do("results", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#results a")))
	click("open results", "#results a")
	if got := text("#decision"); !strings.Contains(got, "carried") {
		t.Fatalf("decision: %q", got)
	}
	counts := text("#counts")
	if !strings.Contains(counts, "For\t2") && !regexp.MustCompile(`For\s+2\s`).MatchString(counts) {
		t.Fatalf("counts: %q", counts)
	}
	if !regexp.MustCompile(`Against\s+1\s`).MatchString(counts) {
		t.Fatalf("counts: %q", counts)
	}
	bars, err := chromedp.Run(tab.Context(), chromedp.Evaluate[int](`document.querySelectorAll("#result > figure svg rect").length`))
	if err != nil || bars != 3 {
		t.Fatalf("the chart has %d bars, want 3 (%v)", bars, err)
	}
	do("check receipt",
		chromedp.SendKeys(chromedp.CSS("#code"), annReceipt[1]),
		markPage,
		chromedp.Submit(chromedp.CSS("#code")),
		waitNewPage,
		chromedp.WaitVisible(chromedp.CSS("#check")),
	)
	if got := text("#check"); !strings.Contains(got, "is among the counted votes") {
		t.Fatalf("receipt check: %q", got)
	}
	if got := text("#receipts"); !strings.Contains(got, annReceipt[1]) || strings.Count(got, "-") != 3*2 {
		t.Fatalf("published receipts: %q", got)
	}
}
