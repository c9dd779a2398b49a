package server

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/web"
	"github.com/plenum-vote/plenum/sdk"
)

// bindBallots: the member's vote pages, results and proxies, and the
// officers' ballot administration.
func (s *Server) bindBallots(g fiber.Router) {
	if s.deps.Ballots == nil || s.deps.Units == nil {
		return
	}
	s.tenantRoute(g, fiber.MethodGet, "/ballots/:id", need(access.VotesCast, "ballot"), s.ballotPage)
	s.tenantRoute(g, fiber.MethodPost, "/ballots/:id/vote", need(access.VotesCast, "ballot"), s.castVote)
	s.tenantRoute(g, fiber.MethodPost, "/ballots/:id/proxy", need(access.VotesCast, "ballot"), s.appointProxy)
	s.tenantRoute(g, fiber.MethodGet, "/ballots/:id/results", need(access.ResultsRead, "ballot"), s.resultsPage)
	s.tenantRoute(g, fiber.MethodPost, "/proxies/:id/revoke", signedIn(), s.revokeProxy)

	s.tenantRoute(g, fiber.MethodGet, "/admin/ballots", need(access.BallotsCreate, "ballot"), s.adminBallots)
	s.tenantRoute(g, fiber.MethodPost, "/admin/ballots", need(access.BallotsCreate, "ballot"), s.adminCreateBallot)
	s.tenantRoute(g, fiber.MethodGet, "/admin/ballots/:id", need(access.VotesReadParticipation, "ballot"), s.adminBallot)
	s.tenantRoute(g, fiber.MethodPost, "/admin/ballots/:id", need(access.BallotsManage, "ballot"), s.adminBallotAction)
	s.tenantRoute(g, fiber.MethodPost, "/admin/ballots/:id/paper", need(access.VotesEnterPaper, "ballot"), s.adminPaper)
	s.tenantRoute(g, fiber.MethodGet, "/admin/ballots/:id/scan/:vote", need(access.VotesEnterPaper, "ballot"), s.adminScan)
	s.tenantRoute(g, fiber.MethodGet, "/admin/ballots/:id/results.csv", need(access.VotesReadParticipation, "ballot"), s.adminExportCSV)
	s.tenantRoute(g, fiber.MethodGet, "/admin/ballots/:id/results.json", need(access.VotesReadParticipation, "ballot"), s.adminExportJSON)
}

// ballotError maps the voting service's refusals to a status and a
// message for the user; other errors are internal.
func ballotError(err error) (int, string, bool) {
	switch {
	case errors.Is(err, voting.ErrNoBallot), errors.Is(err, voting.ErrNotFound):
		return fiber.StatusNotFound, "There is no such ballot or record.", true
	case errors.Is(err, voting.ErrAlreadyVoted):
		return fiber.StatusConflict, "This unit has already voted; one vote per unit.", true
	case errors.Is(err, voting.ErrNotEligible):
		return fiber.StatusForbidden, "You may not vote for this unit on this ballot.", true
	case errors.Is(err, voting.ErrState), errors.Is(err, voting.ErrReview), errors.Is(err, voting.ErrInvalid):
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && !errors.Is(err, voting.ErrReview) {
			msg = msg[i+2:]
		}
		return fiber.StatusUnprocessableEntity, capitalize(msg) + ".", true
	}
	return 0, "", false
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func when(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

// timeLeft says how long until t, roughly.
func timeLeft(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "closed " + when(t)
	case d < time.Hour:
		return fmt.Sprintf("closes in %d minutes", int(d.Minutes())+1)
	case d < 48*time.Hour:
		return fmt.Sprintf("closes in %d hours", int(d.Hours()))
	}
	return fmt.Sprintf("closes in %d days (%s)", int(d.Hours()/24), when(t))
}

func ballotView(b *voting.Ballot, now time.Time) web.BallotView {
	r := &b.Rules
	return web.BallotView{
		ID: b.ID, Title: b.Title, Description: r.Description, Kind: r.Kind, State: b.State, Method: r.Method,
		Rules: r.Describe(), Opens: when(b.OpensAt), Closes: when(b.ClosesAt), Accepting: b.Accepting(now),
		Ranked: r.Ranked, Secret: r.Secret, Changeable: r.Changeable, Marks: r.Marks(), RulesHash: b.RulesHash,
	}
}

// memberHome fills the signed-in member's home: units, open ballots with
// time left, published results, proxies.
func (s *Server) memberHome(c *fiber.Ctx, d *web.TenantData) error {
	if s.deps.Ballots == nil || s.deps.Units == nil {
		return nil
	}
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	units, err := s.deps.Units.UnitsOf(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	for _, un := range units {
		d.Units = append(d.Units, web.UnitLine{Label: un.Label, Weight: un.Weight.String()})
	}
	d.Officer = s.can(c, access.BallotsCreate, "ballot") || s.can(c, access.VotesReadParticipation, "ballot")
	now := time.Now()
	if s.can(c, access.VotesCast, "ballot") {
		open, err := s.deps.Ballots.List(ctx, t.ID, voting.StateOpen)
		if err != nil {
			return err
		}
		for _, b := range open {
			ents, err := s.deps.Ballots.Entitlements(ctx, t.ID, b.ID, u.ID)
			if err != nil {
				return err
			}
			if len(ents) == 0 {
				continue
			}
			line := web.BallotLine{ID: b.ID, Title: b.Title, State: b.State, When: timeLeft(now, b.ClosesAt), Units: len(ents)}
			if now.Before(b.OpensAt) {
				line.When = "opens " + when(b.OpensAt)
			}
			for _, e := range ents {
				if e.Voted {
					line.Voted++
				}
			}
			d.Open = append(d.Open, line)
		}
	}
	if s.can(c, access.ResultsRead, "ballot") {
		pub, err := s.deps.Ballots.List(ctx, t.ID, voting.StatePublished)
		if err != nil {
			return err
		}
		for _, b := range pub {
			d.Results = append(d.Results, web.BallotLine{ID: b.ID, Title: b.Title, State: b.State, When: "published " + when(b.PublishedAt)})
		}
	}
	proxies, err := s.deps.Ballots.Proxies(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	labels := map[string]string{}
	if all, err := s.deps.Units.List(ctx, t.ID); err == nil {
		for _, un := range all {
			labels[un.ID] = un.Label
		}
	}
	for _, p := range proxies {
		other := p.Holder
		if p.Holder == u.ID {
			other = p.Grantor
		}
		name := "another member"
		if ou, err := s.deps.Users.Get(ctx, t.ID, other); err == nil {
			name = ou.Email
		}
		scope := "the meeting " + p.Meeting
		if p.BallotID != "" {
			scope = "one ballot"
			if b, err := s.deps.Ballots.Get(ctx, t.ID, p.BallotID); err == nil {
				scope = "“" + b.Title + "”"
			}
		}
		d.Proxies = append(d.Proxies, web.ProxyLine{ID: p.ID, Unit: labels[p.UnitID], Scope: scope, Other: name, Holder: p.Holder == u.ID})
	}
	return nil
}

func (s *Server) renderBallot(c *fiber.Ctx, status int, b *voting.Ballot, receipt, msg string) error {
	t, u := tenantOf(c), userOf(c)
	ents, err := s.deps.Ballots.Entitlements(c.UserContext(), t.ID, b.ID, u.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	f := s.frame(c)
	f.Error = msg
	d := web.BallotData{Frame: f, Ballot: ballotView(b, now), Receipt: receipt, Published: b.State == voting.StatePublished, Meeting: b.Rules.Meeting}
	for _, o := range b.Rules.Options {
		d.Options = append(d.Options, web.OptionView{ID: o.ID, Label: o.Label})
	}
	for i := 1; i <= b.Rules.Marks() && b.Rules.Ranked; i++ {
		d.Ranks = append(d.Ranks, i)
	}
	for _, e := range ents {
		vu := web.VoteUnit{ID: e.Unit.ID, Label: e.Unit.Label, Weight: e.Unit.Weight.String(), Proxy: e.Proxy, Voted: e.Voted, Mine: e.Mine,
			Receipt: e.Receipt, CanVote: !e.Voted || (e.Mine && b.Rules.Changeable)}
		if e.Voted {
			vu.CastAt = when(e.CastAt)
		}
		d.Units = append(d.Units, vu)
	}
	return s.render(c, status, web.PageBallot, d)
}

func (s *Server) ballotPage(c *fiber.Ctx) error {
	b, err := s.deps.Ballots.Get(c.UserContext(), tenantOf(c).ID, c.Params("id"))
	if err != nil {
		if st, msg, ok := ballotError(err); ok {
			return errorf(st, msg)
		}
		return err
	}
	if b.State == voting.StateDraft {
		return errorf(fiber.StatusNotFound, "There is no such ballot or record.")
	}
	return s.renderBallot(c, fiber.StatusOK, b, "", "")
}

// choiceFromForm reads a vote form: a motion's choice, an election's
// marks, or a ranking from the rank selects (each rank used once).
func choiceFromForm(c *fiber.Ctx, r *voting.Rules) (voting.Choice, error) {
	var ch voting.Choice
	switch {
	case r.Kind == voting.Motion:
		ch.Choice = c.FormValue("choice")
	case r.Ranked:
		type mark struct {
			rank int
			id   string
		}
		var marks []mark
		seen := map[int]bool{}
		for _, o := range r.Options {
			v := strings.TrimSpace(c.FormValue("rank-" + o.ID))
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > len(r.Options) {
				return ch, fmt.Errorf("%w: a rank is a number from 1 to %d", voting.ErrInvalid, len(r.Options))
			}
			if seen[n] {
				return ch, fmt.Errorf("%w: each rank is given to one candidate only", voting.ErrInvalid)
			}
			seen[n] = true
			marks = append(marks, mark{n, o.ID})
		}
		sort.Slice(marks, func(i, j int) bool { return marks[i].rank < marks[j].rank })
		for i, m := range marks {
			if m.rank != i+1 {
				return ch, fmt.Errorf("%w: ranks start at 1 and skip none", voting.ErrInvalid)
			}
			ch.Ranking = append(ch.Ranking, m.id)
		}
	default:
		args := c.Request().PostArgs()
		for _, v := range args.PeekMulti("mark") {
			ch.Ranking = append(ch.Ranking, string(v))
		}
	}
	return ch, ch.Check(r)
}

func (s *Server) castVote(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	b, err := s.deps.Ballots.Frozen(ctx, t.ID, c.Params("id"))
	if err != nil || b.State == voting.StateDraft {
		s.deps.Ballots.Refused(ctx, t.ID, u.ID, "vote.refused", "ballot:"+c.Params("id"), voting.ErrNoBallot)
		return errorf(fiber.StatusNotFound, "There is no such ballot or record.")
	}
	choice, err := choiceFromForm(c, &b.Rules)
	if err == nil {
		var rc *voting.Receipt
		rc, err = s.deps.Ballots.Cast(ctx, t.ID, voting.CastRequest{BallotID: b.ID, UnitID: c.FormValue("unit"), UserID: u.ID, Choice: choice,
			Source: c.IP() + " " + truncate(c.Get(fiber.HeaderUserAgent), 200)})
		if err == nil {
			return s.renderReceipt(c, b, rc)
		}
	}
	s.deps.Ballots.Refused(ctx, t.ID, u.ID, "vote.refused", "ballot:"+b.ID, err)
	if st, msg, ok := ballotError(err); ok {
		if fresh, gerr := s.deps.Ballots.Get(ctx, t.ID, b.ID); gerr == nil {
			b = fresh // the cached copy's state may be old
		}
		return s.renderBallot(c, st, b, "", msg)
	}
	return err
}

// renderReceipt confirms a vote with its receipt, from what the request
// already knows: the ballot page is a click away.
func (s *Server) renderReceipt(c *fiber.Ctx, b *voting.Ballot, rc *voting.Receipt) error {
	return s.render(c, fiber.StatusOK, web.PageReceipt, web.ReceiptData{Frame: s.frame(c), Ballot: ballotView(b, time.Now()),
		Unit: rc.Unit, Receipt: rc.Code, CastAt: when(rc.CastAt), Channel: rc.Channel, Revision: rc.Revision})
}

func (s *Server) appointProxy(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	b, err := s.deps.Ballots.Get(ctx, t.ID, c.Params("id"))
	if err != nil || b.State == voting.StateDraft {
		return errorf(fiber.StatusNotFound, "There is no such ballot or record.")
	}
	holder, err := s.deps.Users.ByEmail(ctx, t.ID, c.FormValue("email"))
	if err != nil || holder.Status != identity.Active {
		return s.renderBallot(c, fiber.StatusUnprocessableEntity, b, "", "There is no active member with this address.")
	}
	ballotID, meeting := b.ID, ""
	if c.FormValue("scope") == "meeting" && b.Rules.Meeting != "" {
		ballotID, meeting = "", b.Rules.Meeting
	}
	if _, err := s.deps.Ballots.Appoint(ctx, t.ID, u.ID, c.FormValue("unit"), holder.ID, ballotID, meeting); err != nil {
		if st, msg, ok := ballotError(err); ok {
			return s.renderBallot(c, st, b, "", msg)
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/ballots/"+b.ID+"?done=proxy", fiber.StatusSeeOther)
}

func (s *Server) revokeProxy(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	if err := s.deps.Ballots.Revoke(c.UserContext(), t.ID, u.ID, c.Params("id")); err != nil {
		if st, msg, ok := ballotError(err); ok {
			return errorf(st, msg)
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/?done=proxy-ended", fiber.StatusSeeOther)
}

// resultsPage shows a published result with the counted receipts and
// checks a receipt code.
func (s *Server) resultsPage(c *fiber.Ctx) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	b, err := s.deps.Ballots.Get(ctx, t.ID, c.Params("id"))
	if err != nil || b.State != voting.StatePublished {
		return errorf(fiber.StatusNotFound, "There is no published result for this ballot.")
	}
	d := web.ResultsData{Frame: s.frame(c), Ballot: ballotView(b, time.Now())}
	if d.Result, err = resultView(b); err != nil {
		return err
	}
	tu, err := s.deps.Ballots.Turnout(ctx, t.ID, b.ID)
	if err != nil {
		return err
	}
	d.Turnout = turnoutView(tu)
	if d.Receipts, err = s.deps.Ballots.Receipts(ctx, t.ID, b.ID); err != nil {
		return err
	}
	if q := c.Query("code"); q != "" {
		d.Checked = true
		d.Check = voting.NormalizeReceipt(q)
		if d.Check == "" {
			d.Check = truncate(q, 24)
		}
		for _, r := range d.Receipts {
			d.Found = d.Found || r == d.Check
		}
	}
	return s.render(c, fiber.StatusOK, web.PageResults, d)
}

// chart lays out a horizontal bar chart of values (exact rationals).
func chart(title string, labels []string, values []*big.Rat, texts []string, mark []bool) web.Chart {
	const rowH, maxW = 30, 300
	ch := web.Chart{Title: title, Width: 640, Height: rowH*len(labels) + 8}
	max := new(big.Rat)
	for _, v := range values {
		if v.Cmp(max) > 0 {
			max = v
		}
	}
	for i, l := range labels {
		w := 0
		if max.Sign() > 0 {
			q := new(big.Rat).Quo(values[i], max)
			q.Mul(q, big.NewRat(maxW, 1))
			f, _ := q.Float64() // drawing only; figures are shown exactly beside
			w = int(f + 0.5)
		}
		if w < 1 && values[i].Sign() > 0 {
			w = 1
		}
		ch.Bars = append(ch.Bars, web.Bar{Label: truncate(l, 28), Value: texts[i], Y: 4 + i*rowH, W: w, Mark: mark != nil && mark[i]})
	}
	return ch
}

func ratOf(r sdk.Rational) *big.Rat {
	if r.Den == 0 {
		return new(big.Rat)
	}
	return big.NewRat(r.Num, r.Den)
}

func labelOf(b *voting.Ballot, id string) string {
	if o, ok := b.Rules.Option(id); ok {
		return o.Label
	}
	return id
}

// resultView turns the stored tally into tables, charts and words.
func resultView(b *voting.Ballot) (*web.ResultView, error) {
	out, err := b.Result()
	if err != nil || out == nil {
		return nil, err
	}
	names := namer(b)
	v := &web.ResultView{}
	for _, e := range out.Explanation {
		v.Explanation = append(v.Explanation, names(e))
	}
	switch out.Decision {
	case sdk.DecisionPass:
		v.Decision, v.Passed = "The motion is carried.", true
	case sdk.DecisionFail:
		v.Decision = "The motion is rejected."
	case sdk.DecisionNoQuorum:
		v.Decision = "No result: the quorum was not reached."
	case sdk.DecisionElected:
		v.Decision, v.Passed = "The election is decided.", true
	case sdk.DecisionTie:
		v.Decision = "Tie: the rules leave the decision to the association."
	default:
		v.Decision = "The votes could not be counted as the ballot is defined."
	}
	elected := map[string]bool{}
	for _, id := range out.Elected {
		elected[id] = true
		v.Elected = append(v.Elected, labelOf(b, id))
	}
	byWeight := b.Rules.Counting == sdk.CountWeight
	total := new(big.Rat)
	for _, c := range out.Counts {
		if byWeight {
			total.Add(total, ratOf(c.Weight))
		} else {
			total.Add(total, big.NewRat(c.Votes, 1))
		}
	}
	var labels, texts []string
	var values []*big.Rat
	var marks []bool
	for _, c := range out.Counts {
		val := big.NewRat(c.Votes, 1)
		if byWeight {
			val = ratOf(c.Weight)
		}
		mark := elected[c.Choice] || (v.Passed && c.Choice == sdk.ChoiceYes)
		v.Counts = append(v.Counts, web.CountRow{Label: labelOf(b, c.Choice), Votes: strconv.FormatInt(c.Votes, 10), Weight: ratOf(c.Weight).RatString(),
			Share: voting.Share(val, total) + "%", Mark: mark})
		labels, values, marks = append(labels, labelOf(b, c.Choice)), append(values, val), append(marks, mark)
		texts = append(texts, fmt.Sprintf("%s (%s%%)", val.RatString(), voting.Share(val, total)))
	}
	v.Chart = chart("Votes per choice", labels, values, texts, marks)
	for _, rd := range out.Rounds {
		rv := web.RoundView{Number: rd.Number, Note: names(rd.Note)}
		var labels, texts []string
		var values []*big.Rat
		var marks []bool
		el := map[string]bool{}
		for _, id := range rd.Elected {
			el[id] = true
			rv.Elected = append(rv.Elected, labelOf(b, id))
		}
		for _, id := range rd.Eliminated {
			rv.Eliminated = append(rv.Eliminated, labelOf(b, id))
		}
		for _, c := range rd.Counts {
			val := ratOf(c.Weight)
			rv.Rows = append(rv.Rows, web.CountRow{Label: labelOf(b, c.Choice), Votes: strconv.FormatInt(c.Votes, 10), Weight: decimal(val), Mark: el[c.Choice]})
			labels, values, marks, texts = append(labels, labelOf(b, c.Choice)), append(values, val), append(marks, el[c.Choice]), append(texts, decimal(val))
		}
		for _, tr := range rd.Transfers {
			to := "exhausted"
			if tr.To != "" {
				to = labelOf(b, tr.To)
			}
			rv.Transfers = append(rv.Transfers, fmt.Sprintf("%s → %s: %s", labelOf(b, tr.From), to, decimal(ratOf(tr.Value))))
		}
		rv.Chart = chart(fmt.Sprintf("Round %d", rd.Number), labels, values, texts, marks)
		v.Rounds = append(v.Rounds, rv)
	}
	return v, nil
}

// namer returns a function that puts the candidates' names for their ids
// in a plugin's explanation (plugins see ids; members know names).
func namer(b *voting.Ballot) func(string) string {
	if b.Rules.Kind != voting.Election || len(b.Rules.Options) == 0 {
		return func(s string) string { return s }
	}
	ids := make([]string, 0, len(b.Rules.Options))
	byID := map[string]string{}
	for _, o := range b.Rules.Options {
		ids = append(ids, regexp.QuoteMeta(o.ID))
		byID[o.ID] = o.Label
	}
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) > len(ids[j]) })
	re := regexp.MustCompile(`\b(` + strings.Join(ids, "|") + `)\b`)
	return func(s string) string {
		return re.ReplaceAllStringFunc(s, func(id string) string { return byID[id] })
	}
}

// decimal shows an exact value as a decimal when it has at most five
// places, else as a fraction.
func decimal(r *big.Rat) string {
	if r.IsInt() {
		return r.RatString()
	}
	for places := 1; places <= 5; places++ {
		s := r.FloatString(places)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.RatString()
}

func turnoutView(t *voting.Turnout) *web.TurnoutView {
	v := &web.TurnoutView{
		Voted: strconv.FormatInt(t.VotedUnits, 10), Eligible: strconv.FormatInt(t.EligibleUnits, 10),
		Share:       voting.Share(big.NewRat(t.VotedUnits, 1), big.NewRat(max(t.EligibleUnits, 0), 1)),
		VotedWeight: t.VotedWeight.String(), EligibleWeight: t.EligibleWeight.String(),
		WShare:    voting.Share(t.VotedWeight.Rat(), t.EligibleWeight.Rat()),
		QuorumMet: t.QuorumMet, Online: t.ByChannel[voting.ChannelOnline], Paper: t.ByChannel[voting.ChannelPaper], Proxy: t.ByChannel[voting.ChannelProxy],
	}
	if t.QuorumUnits > 0 {
		v.QuorumUnits = strconv.FormatInt(t.QuorumUnits, 10)
	}
	if t.QuorumWeight.Rat().Sign() > 0 {
		v.QuorumWeight = t.QuorumWeight.String()
	}
	voted, eligible := big.NewRat(t.VotedUnits, 1), big.NewRat(t.EligibleUnits, 1)
	v.Chart = chart("Turnout", []string{"Units voted", "Units eligible", "Weight voted", "Weight eligible"},
		[]*big.Rat{voted, eligible, t.VotedWeight.Rat(), t.EligibleWeight.Rat()},
		[]string{v.Voted, v.Eligible, v.VotedWeight, v.EligibleWeight}, []bool{true, false, true, false})
	return v
}
