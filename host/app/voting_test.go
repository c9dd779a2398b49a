package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/lifecycle"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/testkit/mailtest"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// votingFixture is a tenant with a chair (owner role), four member-owners
// of three units (flat 1 has two owners) and one more member without a
// unit.
type votingFixture struct {
	tn       *tenancy.Tenant
	chair    *http.Client
	chairTok string
	members  []*http.Client
	tokens   []string
	units    []string // unit ids: Flat 1, Flat 2, Flat 3
}

const votePW = "orchards hum beneath quiet bridges"

func newVotingFixture(t *testing.T, h *testhost.Host, slug string) *votingFixture {
	t.Helper()
	ctx := context.Background()
	f := &votingFixture{tn: h.CreateTenant(t, slug, "Voting "+slug)}
	h.CreateUser(t, f.tn, "chair@"+slug+".example", votePW, "owner")
	f.chair = h.NewClient()
	f.chairTok = h.SignIn(t, f.chair, slug, "chair@"+slug+".example", votePW)
	var ids []string
	for i, name := range []string{"ann", "ben", "cat", "dan"} {
		u := h.CreateUser(t, f.tn, name+"@"+slug+".example", votePW, "member")
		ids = append(ids, u.ID)
		c := h.NewClient()
		f.members = append(f.members, c)
		f.tokens = append(f.tokens, h.SignIn(t, c, slug, name+"@"+slug+".example", votePW))
		_ = i
	}
	for i, label := range []string{"Flat 1", "Flat 2", "Flat 3"} {
		w, _ := voting.ParseWeight([]string{"1/2", "1/4", "1/4"}[i])
		u, err := h.App.Units.Create(ctx, f.tn.ID, "test", label, w)
		if err != nil {
			t.Fatal(err)
		}
		f.units = append(f.units, u.ID)
	}
	// ann and ben own flat 1; cat flat 2; dan flat 3.
	for _, o := range [][2]int{{0, 0}, {0, 1}, {1, 2}, {2, 3}} {
		if err := h.App.Units.AddOwner(ctx, f.tn.ID, "test", f.units[o[0]], ids[o[1]]); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

var ballotPath = regexp.MustCompile(`/admin/ballots/([0-9a-f-]{36})`)

// createBallot posts the new-ballot form and returns the draft's id.
func createBallot(t *testing.T, h *testhost.Host, f *votingFixture, form url.Values) string {
	t.Helper()
	form.Set("csrf", f.chairTok)
	form.Set("op", "create")
	now := time.Now().UTC()
	if form.Get("opens") == "" {
		form.Set("opens", now.Add(-time.Minute).Format("2006-01-02T15:04"))
		form.Set("closes", now.Add(24*time.Hour).Format("2006-01-02T15:04"))
	}
	resp, body := post(t, f.chair, h.URL+"/t/"+f.tn.Slug+"/admin/ballots", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create ballot: %d %.800s", resp.StatusCode, body)
	}
	m := ballotPath.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("create ballot: redirected to %q", resp.Header.Get("Location"))
	}
	return m[1]
}

func (f *votingFixture) act(t *testing.T, h *testhost.Host, id, op string, want int) string {
	t.Helper()
	resp, body := post(t, f.chair, h.URL+"/t/"+f.tn.Slug+"/admin/ballots/"+id, url.Values{"csrf": {f.chairTok}, "op": {op}})
	if resp.StatusCode != want {
		t.Fatalf("%s: %d, want %d: %.800s", op, resp.StatusCode, want, body)
	}
	return body
}

func (f *votingFixture) vote(t *testing.T, h *testhost.Host, member int, id string, form url.Values) (int, string) {
	t.Helper()
	form.Set("csrf", f.tokens[member])
	resp, body := post(t, f.members[member], h.URL+"/t/"+f.tn.Slug+"/ballots/"+id+"/vote", form)
	return resp.StatusCode, body
}

var receiptRE = regexp.MustCompile(`<p class="code">([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</p>`)

// TestMotionOverHTTP runs a two-thirds motion with paper-wins resolution
// through the web pages and the real majority plugin, with the refusals
// a member can run into.
func TestMotionOverHTTP(t *testing.T) {
	testhost.StartEach(t, testhost.Options{Tally: true}, func(t *testing.T, h *testhost.Host) {
		f := newVotingFixture(t, h, "motion")
		other := newVotingFixture(t, h, "other")
		base := h.URL + "/t/" + f.tn.Slug
		id := createBallot(t, h, f, url.Values{"title": {"Replace the roof"}, "kind": {"motion"}, "method": {"majority"},
			"threshold": {"two_thirds"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"paper_wins"}, "secret": {"1"}})
		// Members cannot see drafts.
		if code, _ := f.vote(t, h, 0, id, url.Values{"unit": {f.units[0]}, "choice": {"yes"}}); code != http.StatusNotFound {
			t.Fatalf("vote on draft: %d", code)
		}
		f.act(t, h, id, "open", http.StatusSeeOther)
		// Home lists the open ballot.
		if _, body := get(t, f.members[0], base+"/"); !strings.Contains(body, "Replace the roof") || !strings.Contains(body, "Flat 1") {
			t.Fatalf("home: %.1500s", body)
		}
		code, body := f.vote(t, h, 0, id, url.Values{"unit": {f.units[0]}, "choice": {"yes"}})
		m := receiptRE.FindStringSubmatch(body)
		if code != http.StatusOK || m == nil {
			t.Fatalf("vote: %d %.1500s", code, body)
		}
		receipt := m[1]
		for _, c := range []struct {
			name   string
			member int
			form   url.Values
			want   int
		}{
			{"second owner of the same unit", 1, url.Values{"unit": {f.units[0]}, "choice": {"no"}}, http.StatusConflict},
			{"replayed request", 0, url.Values{"unit": {f.units[0]}, "choice": {"yes"}}, http.StatusConflict},
			{"unit not owned", 2, url.Values{"unit": {f.units[2]}, "choice": {"yes"}}, http.StatusForbidden},
			{"unknown unit", 2, url.Values{"unit": {"not-a-unit"}, "choice": {"yes"}}, http.StatusForbidden},
			{"bad choice", 2, url.Values{"unit": {f.units[1]}, "choice": {"perhaps"}}, http.StatusUnprocessableEntity},
			{"no choice", 2, url.Values{"unit": {f.units[1]}}, http.StatusUnprocessableEntity},
		} {
			if code, body := f.vote(t, h, c.member, id, c.form); code != c.want {
				t.Errorf("%s: %d, want %d: %.600s", c.name, code, c.want, body)
			}
		}
		// Another tenant's member cannot reach this ballot under their own
		// tenant, nor under this one.
		if code, _ := other.vote(t, h, 0, id, url.Values{"unit": {other.units[0]}, "choice": {"yes"}}); code != http.StatusNotFound {
			t.Fatalf("other tenant's ballot: %d", code)
		}
		for _, c := range []struct {
			member int
			unit   string
			choice string
		}{{2, f.units[1], "yes"}, {3, f.units[2], "yes"}} {
			if code, body := f.vote(t, h, c.member, id, url.Values{"unit": {c.unit}, "choice": {c.choice}}); code != http.StatusOK {
				t.Fatalf("vote: %d %.600s", code, body)
			}
		}
		// A paper ballot against, for flat 2: paper wins, so 2 for, 1 against = 2/3 ≥ 2/3.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", f.chairTok)
		_ = mw.WriteField("unit", f.units[1])
		_ = mw.WriteField("choice", "no")
		fw, _ := mw.CreateFormFile("scan", "form.pdf")
		_, _ = fw.Write([]byte("%PDF-1.4\n1 0 obj\n"))
		_ = mw.Close()
		req, _ := http.NewRequest("POST", base+"/admin/ballots/"+id+"/paper", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := f.chair.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("paper: %d %.800s", resp.StatusCode, body)
		}
		_, page := get(t, f.chair, base+"/admin/ballots/"+id)
		if !strings.Contains(page, "3 of 3 units") || strings.Contains(page, ">yes<") {
			t.Fatalf("participation page: %.3000s", page)
		}
		f.act(t, h, id, "close", http.StatusSeeOther)
		if code, _ := f.vote(t, h, 3, id, url.Values{"unit": {f.units[2]}, "choice": {"no"}}); code != http.StatusUnprocessableEntity {
			t.Fatalf("vote after close: %d", code)
		}
		f.act(t, h, id, "tally", http.StatusSeeOther)
		// Members see no result before publication.
		if resp, _ := get(t, f.members[0], base+"/ballots/"+id+"/results"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unpublished result: %d", resp.StatusCode)
		}
		f.act(t, h, id, "publish", http.StatusSeeOther)
		resp, body = get(t, f.members[0], base+"/ballots/"+id+"/results?code="+strings.ToLower(receipt))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The motion is carried.") || !strings.Contains(body, "<svg") ||
			!strings.Contains(body, "is among the counted votes") || !strings.Contains(body, "Receipts of the counted votes (2)") {
			t.Fatalf("results: %d %.4000s", resp.StatusCode, body)
		}
		resp, body = get(t, f.chair, base+"/admin/ballots/"+id+"/results.csv")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "final,yes,For,2,2,false,false") || !strings.Contains(body, "final,no,Against,1,1") {
			t.Fatalf("csv: %d %q", resp.StatusCode, body)
		}
		resp, body = get(t, f.chair, base+"/admin/ballots/"+id+"/results.json")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"decision": "pass"`) {
			t.Fatalf("json: %d %.600s", resp.StatusCode, body)
		}
		// The other tenant's chair cannot reach this ballot's admin pages.
		if resp, _ := get(t, other.chair, h.URL+"/t/"+other.tn.Slug+"/admin/ballots/"+id); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("cross-tenant admin: %d", resp.StatusCode)
		}
	})
}

// TestBallotFormRefusesBadRules: bad rules get a clear message and create
// nothing.
func TestBallotFormRefusesBadRules(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Tally: true})
	f := newVotingFixture(t, h, "rules")
	now := time.Now().UTC()
	ok := url.Values{"csrf": {f.chairTok}, "op": {"create"}, "title": {"Board election"}, "kind": {"election"}, "method": {"irv"},
		"seats": {"1"}, "candidates": {"Ann\nBen\nCat"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"},
		"opens": {now.Format("2006-01-02T15:04")}, "closes": {now.Add(time.Hour).Format("2006-01-02T15:04")}}
	for name, c := range map[string]struct {
		key, value, want string
	}{
		"no title":         {"title", "", "title"},
		"bad time":         {"closes", "tomorrow", "closing time"},
		"closes first":     {"closes", now.Add(-time.Hour).Format("2006-01-02T15:04"), "closes after it opens"},
		"one candidate":    {"candidates", "Ann", "2 to 200 candidates"},
		"unknown method":   {"method", "sortition", "Unknown counting method"},
		"bad quorum":       {"quorum_head", "7/5", "quorum"},
		"bad eligibility":  {"eligibility", "unit.weight >", "Syntax error"},
		"bad rule":         {"resolution", "custom", "custom resolution needs an expression"},
		"bad rule expr":    {"resolution_expr", "votes.size() +", "Syntax error"},
		"bad config json":  {"config", "{", "not valid JSON"},
		"seats > options":  {"seats", "3", "more candidates"},
		"negative seats":   {"seats", "-1", "at least one seat"},
		"unknown counting": {"counting", "vibes", "Counting is by"},
	} {
		form := url.Values{}
		for k, v := range ok {
			form[k] = v
		}
		form.Set(c.key, c.value)
		if c.key == "resolution_expr" {
			form.Set("resolution", "custom")
		}
		resp, body := post(t, f.chair, h.URL+"/t/rules/admin/ballots", form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want 422 with %q: %.300s", name, resp.StatusCode, c.want, extractError(body))
		}
	}
	if list, _ := h.App.Ballots.List(context.Background(), f.tn.ID); len(list) != 0 {
		t.Fatalf("bad forms created %d ballots", len(list))
	}
}

var errorRE = regexp.MustCompile(`(?s)<p class="error" role="alert">(.*?)</p>`)

func extractError(body string) string {
	if m := errorRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return body
}

// TestRankedElectionOverHTTP: an instant-runoff election is ranked through
// the form's rank selects (no JavaScript), refused when a rank repeats or
// skips, and counted by the real irv plugin with its rounds on the result
// page.
func TestRankedElectionOverHTTP(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Tally: true})
	f := newVotingFixture(t, h, "ranked")
	base := h.URL + "/t/" + f.tn.Slug
	id := createBallot(t, h, f, url.Values{"title": {"Chair of the board"}, "kind": {"election"}, "method": {"irv"},
		"seats": {"1"}, "candidates": {"Avery\nBlake\nCasey"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"},
		"config": {`{"seed":"agm-2026"}`}})
	f.act(t, h, id, "open", http.StatusSeeOther)
	if _, page := get(t, f.members[0], base+"/ballots/"+id); !strings.Contains(page, `name="rank-c1"`) || !strings.Contains(page, "rank.js") {
		t.Fatalf("ranked vote page: %.2000s", page)
	}
	for name, form := range map[string]url.Values{
		"repeated rank":     {"rank-c1": {"1"}, "rank-c2": {"1"}},
		"skipped rank":      {"rank-c1": {"1"}, "rank-c2": {"3"}},
		"rank out of range": {"rank-c1": {"9"}},
		"no rank":           {},
		"not a number":      {"rank-c1": {"first"}},
	} {
		form.Set("unit", f.units[1])
		if code, body := f.vote(t, h, 2, id, form); code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d: %.300s", name, code, extractError(body))
		}
	}
	// Flat 1: Casey > Avery; flat 2: Avery; flat 3: Blake > Avery.
	// Round 1: Avery 1, Blake 1, Casey 1: a three-way tie for last with no
	// earlier round to look back to, broken by lots drawn from the seed the
	// rules state; whoever goes, Avery then has a majority or the tie
	// repeats between the last two.
	for _, v := range []struct {
		member int
		unit   string
		ranks  map[string]string
	}{
		{0, f.units[0], map[string]string{"rank-c3": "1", "rank-c1": "2"}},
		{2, f.units[1], map[string]string{"rank-c1": "1"}},
		{3, f.units[2], map[string]string{"rank-c2": "1", "rank-c1": "2"}},
	} {
		form := url.Values{"unit": {v.unit}}
		for k, r := range v.ranks {
			form.Set(k, r)
		}
		if code, body := f.vote(t, h, v.member, id, form); code != http.StatusOK {
			t.Fatalf("vote: %d %.600s", code, extractError(body))
		}
	}
	f.act(t, h, id, "close", http.StatusSeeOther)
	f.act(t, h, id, "tally", http.StatusSeeOther)
	f.act(t, h, id, "publish", http.StatusSeeOther)
	resp, body := get(t, f.members[0], base+"/ballots/"+id+"/results")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Round 1") || !strings.Contains(body, "<svg") {
		t.Fatalf("results: %d %.3000s", resp.StatusCode, body)
	}
	b, err := h.App.Ballots.Get(context.Background(), f.tn.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.Result()
	if err != nil || out == nil || len(out.Rounds) == 0 {
		t.Fatalf("stored result: %+v %v", out, err)
	}
	if out.Decision != "elected" || len(out.Elected) != 1 || !strings.Contains(body, "Elected:") || !strings.Contains(out.Rounds[0].Note, "agm-2026") ||
		!strings.Contains(body, "Casey is excluded") {
		t.Fatalf("elected: %+v", out)
	}
}

// TestReminderEmails: the chair reminds the units that have not voted;
// only their owners get the e-mail, with the link to the ballot.
func TestReminderEmails(t *testing.T) {
	smtp := mailtest.Start(t)
	h := testhost.Start(t, testhost.Options{Tally: true, SMTP: smtp.Addr()})
	f := newVotingFixture(t, h, "remind")
	base := h.URL + "/t/" + f.tn.Slug
	id := createBallot(t, h, f, url.Values{"title": {"Garden budget"}, "kind": {"motion"}, "method": {"majority"},
		"threshold": {"simple"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"}})
	f.act(t, h, id, "open", http.StatusSeeOther)
	if code, _ := f.vote(t, h, 0, id, url.Values{"unit": {f.units[0]}, "choice": {"yes"}}); code != http.StatusOK {
		t.Fatalf("vote: %d", code)
	}
	resp, _ := post(t, f.chair, base+"/admin/ballots/"+id, url.Values{"csrf": {f.chairTok}, "op": {"remind"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "done=ballot-remind-2") {
		t.Fatalf("remind: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The mail is sent before the redirect: look at what arrived.
	reminded := map[string]string{}
	for _, m := range smtp.Messages() {
		if strings.HasPrefix(m.Subject, "Reminder: vote on Garden budget") {
			reminded[strings.Join(m.To, ",")] = m.Text
		}
	}
	if len(reminded) != 2 || reminded["cat@remind.example"] == "" || reminded["dan@remind.example"] == "" {
		t.Fatalf("reminders went to %v", reminded)
	}
	if !strings.Contains(reminded["cat@remind.example"], base+"/ballots/"+id) {
		t.Fatalf("reminder:\n%s", reminded["cat@remind.example"])
	}
}

// TestProxyOverHTTP: an owner appoints another member as proxy from the
// ballot page; the proxy sees the unit and votes for it under their own
// name; a stranger's address is refused.
func TestProxyOverHTTP(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Tally: true})
	f := newVotingFixture(t, h, "proxy")
	base := h.URL + "/t/" + f.tn.Slug
	id := createBallot(t, h, f, url.Values{"title": {"Budget"}, "kind": {"motion"}, "method": {"majority"}, "meeting": {"AGM 2026"},
		"threshold": {"simple"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"}})
	f.act(t, h, id, "open", http.StatusSeeOther)
	// Dan (flat 3) appoints Ann for the whole meeting.
	if _, page := get(t, f.members[3], base+"/ballots/"+id); !strings.Contains(page, `/proxy"`) || !strings.Contains(page, "every ballot of AGM 2026") {
		t.Fatalf("no proxy form: %.2000s", page)
	}
	resp, body := post(t, f.members[3], base+"/ballots/"+id+"/proxy", url.Values{"csrf": {f.tokens[3]}, "unit": {f.units[2]}, "email": {"nobody@elsewhere.example"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("stranger as proxy: %d %.300s", resp.StatusCode, extractError(body))
	}
	resp, _ = post(t, f.members[3], base+"/ballots/"+id+"/proxy", url.Values{"csrf": {f.tokens[3]}, "unit": {f.units[2]}, "email": {"ann@proxy.example"}, "scope": {"meeting"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("appoint: %d", resp.StatusCode)
	}
	if _, home := get(t, f.members[0], base+"/"); !strings.Contains(home, "You vote for Flat 3 on the meeting AGM 2026") {
		t.Fatalf("proxy's home: %.2000s", home)
	}
	code, body := f.vote(t, h, 0, id, url.Values{"unit": {f.units[2]}, "choice": {"no"}})
	if code != http.StatusOK || !strings.Contains(body, "as proxy") || !strings.Contains(body, "Flat 3") {
		t.Fatalf("proxy vote: %d %.1000s", code, extractError(body))
	}
	// A member who neither owns the unit nor holds a proxy cannot.
	if code, _ := f.vote(t, h, 2, id, url.Values{"unit": {f.units[2]}, "choice": {"yes"}}); code != http.StatusForbidden {
		t.Fatalf("vote without proxy: %d", code)
	}
}

// TestMemberExport: a member downloads their own data, with the votes
// they cast (the choice of an open ballot, never of a secret one) and
// their activity; the export is audited.
func TestMemberExport(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Tally: true})
	f := newVotingFixture(t, h, "export")
	base := h.URL + "/t/" + f.tn.Slug
	open := createBallot(t, h, f, url.Values{"title": {"Open motion"}, "kind": {"motion"}, "method": {"majority"},
		"threshold": {"simple"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"}})
	secret := createBallot(t, h, f, url.Values{"title": {"Secret motion"}, "kind": {"motion"}, "method": {"majority"},
		"threshold": {"simple"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"}, "secret": {"1"}})
	for _, id := range []string{open, secret} {
		f.act(t, h, id, "open", http.StatusSeeOther)
		if code, _ := f.vote(t, h, 2, id, url.Values{"unit": {f.units[1]}, "choice": {"abstain"}}); code != http.StatusOK {
			t.Fatalf("vote: %d", code)
		}
	}
	resp, body := get(t, f.members[2], base+"/account/export")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %.300s", resp.StatusCode, body)
	}
	var doc struct {
		Account struct{ Email string }
		Units   []struct{ Label string }
		Votes   []struct {
			Title  string `json:"ballot_title"`
			Choice *struct{ Choice string }
		}
		Activity []json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Account.Email != "cat@export.example" || len(doc.Units) != 1 || len(doc.Votes) != 2 || len(doc.Activity) == 0 {
		t.Fatalf("export: %.2000s", body)
	}
	for _, v := range doc.Votes {
		if (v.Title == "Secret motion") != (v.Choice == nil) {
			t.Fatalf("vote %s: choice %+v", v.Title, v.Choice)
		}
	}
	if !strings.Contains(body, `"vote.cast"`) || strings.Contains(body, "ann@export.example") {
		t.Fatalf("activity: %.2000s", body)
	}
}

// TestEraseUser: an owner erases a disabled member who had voted: the
// member's account and sign-in data are gone, the vote still counts,
// the audit chain still verifies, and the last owner cannot be erased.
func TestEraseUser(t *testing.T) {
	testhost.StartEach(t, testhost.Options{Tally: true}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		f := newVotingFixture(t, h, "erase")
		base := h.URL + "/t/" + f.tn.Slug
		id := createBallot(t, h, f, url.Values{"title": {"Hedge"}, "kind": {"motion"}, "method": {"majority"},
			"threshold": {"simple"}, "counting": {"head"}, "basis": {"votes_cast"}, "resolution": {"first_wins"}})
		f.act(t, h, id, "open", http.StatusSeeOther)
		if code, _ := f.vote(t, h, 2, id, url.Values{"unit": {f.units[1]}, "choice": {"yes"}}); code != http.StatusOK {
			t.Fatalf("vote: %d", code)
		}
		cat, err := h.App.Users.ByEmail(ctx, f.tn.ID, "cat@erase.example")
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"disable", "erase"} {
			resp, body := post(t, f.chair, base+"/admin/users/"+cat.ID, url.Values{"csrf": {f.chairTok}, "op": {op}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d %.300s", op, resp.StatusCode, extractError(body))
			}
		}
		if _, err := h.App.Users.ByEmail(ctx, f.tn.ID, "cat@erase.example"); err == nil {
			t.Fatal("the erased user is still found by address")
		}
		if resp, _ := get(t, f.members[2], base+"/account"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("erased user's session still works: %d", resp.StatusCode)
		}
		if mine, _ := h.App.Units.UnitsOf(ctx, f.tn.ID, cat.ID); len(mine) != 0 {
			t.Fatalf("erased user still owns %d units", len(mine))
		}
		f.act(t, h, id, "close", http.StatusSeeOther)
		out, err := h.App.Ballots.Tally(ctx, f.tn.ID, "test", id)
		if err != nil || out.Counts[0].Votes != 1 {
			t.Fatalf("the erased member's vote: %+v %v", out, err)
		}
		if rep, err := h.App.Audit.Verify(ctx, audit.VerifyOptions{TenantID: f.tn.ID}); err != nil || !rep.OK() {
			t.Fatalf("audit chain after erasure: %+v %v", rep, err)
		}
		// The chair is the only owner: nobody may erase them.
		chair, _ := h.App.Users.ByEmail(ctx, f.tn.ID, "chair@erase.example")
		if _, err := lifecycle.EraseUser(ctx, h.App.DB, h.App.Audit, f.tn.ID, "test", chair.ID); !errors.Is(err, lifecycle.ErrLastOwner) {
			t.Fatalf("erasing the last owner: %v", err)
		}
	})
}
