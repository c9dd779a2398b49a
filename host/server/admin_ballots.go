package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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

const formTime = "2006-01-02T15:04"

// defaultForm is a new ballot's form: a simple-majority motion open now
// for a week.
func defaultForm() web.BallotForm {
	now := time.Now().UTC().Truncate(time.Minute)
	return web.BallotForm{Kind: voting.Motion, Method: "majority", Threshold: "simple", Basis: sdk.BasisVotesCast, Counting: sdk.CountHead,
		Seats: "1", Opens: now.Format(formTime), Closes: now.Add(7 * 24 * time.Hour).Format(formTime), Secret: true, Resolution: voting.FirstWins}
}

// formOf reads the ballot form as typed.
func formOf(c *fiber.Ctx) web.BallotForm {
	on := func(k string) bool { return c.FormValue(k) != "" }
	return web.BallotForm{
		Title: c.FormValue("title"), Description: c.FormValue("description"), Meeting: c.FormValue("meeting"),
		Kind: c.FormValue("kind"), Method: c.FormValue("method"), Config: strings.TrimSpace(c.FormValue("config")),
		Threshold: c.FormValue("threshold"), Num: c.FormValue("num"), Den: c.FormValue("den"), Strict: on("strict"),
		Basis: c.FormValue("basis"), Counting: c.FormValue("counting"), QuorumHead: strings.TrimSpace(c.FormValue("quorum_head")),
		QuorumWeight: strings.TrimSpace(c.FormValue("quorum_weight")), Seats: c.FormValue("seats"), MaxMarks: c.FormValue("max_marks"),
		Candidates: c.FormValue("candidates"), Opens: c.FormValue("opens"), Closes: c.FormValue("closes"),
		Secret: on("secret"), Changeable: on("changeable"), Eligibility: strings.TrimSpace(c.FormValue("eligibility")),
		Resolution: c.FormValue("resolution"), ResolutionExpr: strings.TrimSpace(c.FormValue("resolution_expr")),
	}
}

// rulesOf turns the form into rules; the voting service checks them.
func rulesOf(f web.BallotForm) (voting.Rules, error) {
	r := voting.Rules{Kind: f.Kind, Description: f.Description, Meeting: f.Meeting, Method: f.Method, Basis: f.Basis, Counting: f.Counting,
		QuorumHead: f.QuorumHead, QuorumWeight: f.QuorumWeight, Secret: f.Secret, Changeable: f.Changeable,
		Eligibility: f.Eligibility, Resolution: f.Resolution, ResolutionExpr: f.ResolutionExpr}
	if f.Config != "" {
		if !json.Valid([]byte(f.Config)) {
			return r, fmt.Errorf("%w: the method configuration is not valid JSON", voting.ErrInvalid)
		}
		r.Config = json.RawMessage(f.Config)
	}
	var err error
	if r.OpensAt, err = time.Parse(formTime, f.Opens); err != nil {
		return r, fmt.Errorf("%w: the opening time is a date and time", voting.ErrInvalid)
	}
	if r.ClosesAt, err = time.Parse(formTime, f.Closes); err != nil {
		return r, fmt.Errorf("%w: the closing time is a date and time", voting.ErrInvalid)
	}
	if f.MaxMarks != "" {
		if r.MaxMarks, err = strconv.Atoi(f.MaxMarks); err != nil {
			return r, fmt.Errorf("%w: the number of marks is a number", voting.ErrInvalid)
		}
	}
	switch f.Kind {
	case voting.Motion:
		switch f.Threshold {
		case "custom":
			num, e1 := strconv.ParseInt(f.Num, 10, 64)
			den, e2 := strconv.ParseInt(f.Den, 10, 64)
			if e1 != nil || e2 != nil {
				return r, fmt.Errorf("%w: a custom threshold is a fraction of two whole numbers", voting.ErrInvalid)
			}
			r.Threshold = sdk.Threshold{Num: num, Den: den, Strict: f.Strict}
			r.Rule = "qualified"
		case "absolute":
			r.Threshold, r.Rule = sdk.Threshold{Num: 1, Den: 2, Strict: true}, "absolute_majority"
		default:
			t, ok := voting.ThresholdPreset(f.Threshold)
			if !ok {
				return r, fmt.Errorf("%w: choose a threshold", voting.ErrInvalid)
			}
			r.Threshold, r.Rule = t, "qualified"
		}
		if r.Method == "" {
			r.Method = "majority"
		}
	case voting.Election:
		if r.Seats, err = strconv.ParseInt(f.Seats, 10, 64); err != nil {
			return r, fmt.Errorf("%w: the number of seats is a number", voting.ErrInvalid)
		}
		for _, line := range strings.Split(f.Candidates, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				r.Options = append(r.Options, sdk.Option{Label: line})
			}
		}
	}
	return r, nil
}

// formFrom shows stored rules in the form.
func formFrom(b *voting.Ballot) web.BallotForm {
	r := &b.Rules
	f := web.BallotForm{Title: b.Title, Description: r.Description, Meeting: r.Meeting, Kind: r.Kind, Method: r.Method, Config: string(r.Config),
		Basis: r.Basis, Counting: r.Counting, QuorumHead: r.QuorumHead, QuorumWeight: r.QuorumWeight, Seats: strconv.FormatInt(r.Seats, 10),
		Opens: r.OpensAt.Format(formTime), Closes: r.ClosesAt.Format(formTime), Secret: r.Secret, Changeable: r.Changeable,
		Eligibility: r.Eligibility, Resolution: r.Resolution, ResolutionExpr: r.ResolutionExpr, Threshold: "custom",
		Num: strconv.FormatInt(r.Threshold.Num, 10), Den: strconv.FormatInt(r.Threshold.Den, 10), Strict: r.Threshold.Strict}
	if r.MaxMarks > 0 {
		f.MaxMarks = strconv.Itoa(r.MaxMarks)
	}
	for name := range map[string]bool{"simple": true, "two_thirds": true, "three_quarters": true} {
		if t, _ := voting.ThresholdPreset(name); t == r.Threshold && r.Rule != "absolute_majority" {
			f.Threshold = name
		}
	}
	if r.Rule == "absolute_majority" {
		f.Threshold = "absolute"
	}
	var names []string
	for _, o := range r.Options {
		names = append(names, o.Label)
	}
	if r.Kind == voting.Election {
		f.Candidates = strings.Join(names, "\n")
	}
	return f
}

func (s *Server) renderAdminBallots(c *fiber.Ctx, status int, form web.BallotForm, preview []string, msg string) error {
	list, err := s.deps.Ballots.List(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.Error = msg
	d := web.AdminBallotsData{Frame: f, Form: form, Preview: preview, CanEdit: s.can(c, access.BallotsCreate, "ballot")}
	now := time.Now()
	for _, b := range list {
		line := web.BallotLine{ID: b.ID, Title: b.Title, State: b.State, When: "opens " + when(b.OpensAt)}
		if b.State != voting.StateDraft {
			line.When = timeLeft(now, b.ClosesAt)
		}
		d.Ballots = append(d.Ballots, line)
	}
	return s.render(c, status, web.PageAdminBallots, d)
}

func (s *Server) adminBallots(c *fiber.Ctx) error {
	return s.renderAdminBallots(c, fiber.StatusOK, defaultForm(), nil, "")
}

// adminCreateBallot previews or saves a new draft.
func (s *Server) adminCreateBallot(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	form := formOf(c)
	r, err := rulesOf(form)
	if err == nil {
		err = s.deps.Ballots.Check(c.UserContext(), t.ID, &r)
	}
	if c.FormValue("op") == "preview" {
		if err != nil {
			return s.renderAdminBallots(c, fiber.StatusOK, form, nil, ruleMessage(err))
		}
		return s.renderAdminBallots(c, fiber.StatusOK, form, r.Describe(), "")
	}
	var b *voting.Ballot
	if err == nil {
		b, err = s.deps.Ballots.Create(c.UserContext(), t.ID, u.ID, form.Title, r)
	}
	if err != nil {
		if _, msg, ok := ballotError(err); ok {
			return s.renderAdminBallots(c, fiber.StatusUnprocessableEntity, form, nil, msg)
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/ballots/"+b.ID+"?done=ballot", fiber.StatusSeeOther)
}

func ruleMessage(err error) string {
	if _, msg, ok := ballotError(err); ok {
		return msg
	}
	return "The method could not check these rules: " + err.Error()
}

func (s *Server) renderAdminBallot(c *fiber.Ctx, status int, b *voting.Ballot, form *web.BallotForm, preview []string, msg string) error {
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	f := s.frame(c)
	f.Error = msg
	d := web.AdminBallotData{Frame: f, Ballot: ballotView(b, time.Now()), Preview: preview,
		CanManage: s.can(c, access.BallotsManage, "ballot"), CanPaper: s.can(c, access.VotesEnterPaper, "ballot")}
	if form != nil {
		d.Form = *form
	} else {
		d.Form = formFrom(b)
	}
	for _, o := range b.Rules.Options {
		d.Options = append(d.Options, web.OptionView{ID: o.ID, Label: o.Label})
	}
	var err error
	// A result is seen before publication by those who run ballots only.
	if b.State == voting.StatePublished || d.CanManage {
		if d.Result, err = resultView(b); err != nil {
			return err
		}
	}
	if b.State == voting.StateDraft {
		return s.render(c, status, web.PageAdminBallot, d)
	}
	tu, err := s.deps.Ballots.Turnout(ctx, t.ID, b.ID)
	if err != nil {
		return err
	}
	d.Turnout = turnoutView(tu)
	parts, err := s.deps.Ballots.Participants(ctx, t.ID, b.ID)
	if err != nil {
		return err
	}
	// Choices are shown per unit only on open ballots, to those who run
	// them, and the read is audited.
	var choices map[string]voting.Choice
	if !b.Rules.Secret && d.CanManage {
		if choices, err = s.deps.Ballots.OpenChoices(ctx, t.ID, u.ID, b.ID); err != nil {
			return err
		}
	}
	emails := map[string]string{}
	casters := func(id string) string {
		if e, ok := emails[id]; ok {
			return e
		}
		e := "—"
		if usr, err := s.deps.Users.Get(ctx, t.ID, id); err == nil {
			e = usr.Email
		}
		emails[id] = e
		return e
	}
	labels := map[string]string{}
	records := map[string][]web.RecordRow{}
	for _, p := range parts {
		labels[p.UnitID] = p.Label
		d.Units = append(d.Units, web.OptionView{ID: p.UnitID, Label: p.Label})
		row := web.ParticipantRow{UnitID: p.UnitID, Label: p.Label}
		for _, rec := range p.Records {
			rr := web.RecordRow{VoteID: rec.VoteID, Channel: rec.Channel, CastBy: casters(rec.CastBy), CastAt: when(rec.CastAt), Revision: rec.Revision, Scan: rec.HasScan}
			if ch, ok := choices[rec.VoteID]; ok {
				rr.Choice = choiceText(b, ch)
			}
			row.Records = append(row.Records, rr)
		}
		records[p.UnitID] = row.Records
		d.Participants = append(d.Participants, row)
	}
	res, err := s.deps.Ballots.Resolutions(ctx, t.ID, b.ID)
	if err != nil {
		return err
	}
	for _, r := range res {
		by := r.DecidedBy
		if by != "rule" {
			by = casters(by)
		}
		d.Resolutions = append(d.Resolutions, web.ResolutionRow{UnitID: r.UnitID, Unit: labels[r.UnitID], Status: r.Status, Reason: r.Reason, DecidedBy: by, Records: records[r.UnitID]})
	}
	return s.render(c, status, web.PageAdminBallot, d)
}

func choiceText(b *voting.Ballot, ch voting.Choice) string {
	if b.Rules.Kind == voting.Motion {
		return labelOf(b, ch.Choice)
	}
	names := make([]string, len(ch.Ranking))
	for i, id := range ch.Ranking {
		names[i] = labelOf(b, id)
	}
	return strings.Join(names, " > ")
}

func (s *Server) adminBallotOr404(c *fiber.Ctx) (*voting.Ballot, error) {
	b, err := s.deps.Ballots.Get(c.UserContext(), tenantOf(c).ID, c.Params("id"))
	if err != nil {
		if st, msg, ok := ballotError(err); ok {
			return nil, errorf(st, msg)
		}
		return nil, err
	}
	return b, nil
}

func (s *Server) adminBallot(c *fiber.Ctx) error {
	b, err := s.adminBallotOr404(c)
	if err != nil {
		return err
	}
	return s.renderAdminBallot(c, fiber.StatusOK, b, nil, nil, "")
}

// adminBallotAction runs one state change or decision on a ballot.
func (s *Server) adminBallotAction(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	b, err := s.adminBallotOr404(c)
	if err != nil {
		return err
	}
	op := c.FormValue("op")
	done := op
	switch op {
	case "preview", "update":
		form := formOf(c)
		r, err := rulesOf(form)
		if err == nil {
			err = s.deps.Ballots.Check(ctx, t.ID, &r)
		}
		if err == nil && op == "update" {
			err = s.deps.Ballots.Update(ctx, t.ID, u.ID, b.ID, form.Title, r)
		}
		if err != nil {
			return s.renderAdminBallot(c, fiber.StatusUnprocessableEntity, b, &form, nil, ruleMessage(err))
		}
		if op == "preview" {
			return s.renderAdminBallot(c, fiber.StatusOK, b, &form, r.Describe(), "")
		}
	case "open":
		err = s.deps.Ballots.Open(ctx, t.ID, u.ID, b.ID)
	case "close":
		err = s.deps.Ballots.Close(ctx, t.ID, u.ID, b.ID)
	case "tally":
		_, err = s.deps.Ballots.Tally(ctx, t.ID, u.ID, b.ID)
	case "publish":
		err = s.deps.Ballots.Publish(ctx, t.ID, u.ID, b.ID)
	case "delete":
		if err = s.deps.Ballots.Delete(ctx, t.ID, u.ID, b.ID); err == nil {
			return c.Redirect("/t/"+t.Slug+"/admin/ballots?done=ballot-deleted", fiber.StatusSeeOther)
		}
	case "decide":
		err = s.deps.Ballots.Decide(ctx, t.ID, u.ID, b.ID, c.FormValue("unit"), c.FormValue("vote"), truncate(strings.TrimSpace(c.FormValue("why")), 200))
	case "remind":
		var n int
		n, err = s.remind(c, b)
		done = "remind-" + strconv.Itoa(n)
	default:
		return errorf(fiber.StatusBadRequest, msgBadForm)
	}
	if err != nil {
		if st, msg, ok := ballotError(err); ok {
			return s.renderAdminBallot(c, st, b, nil, nil, msg)
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/ballots/"+b.ID+"?done=ballot-"+done, fiber.StatusSeeOther)
}

// remind e-mails the owners of units that have not voted.
func (s *Server) remind(c *fiber.Ctx, b *voting.Ballot) (int, error) {
	if b.State != voting.StateOpen {
		return 0, fmt.Errorf("%w: reminders are sent while the ballot is open", voting.ErrState)
	}
	return s.RemindNonVoters(c.UserContext(), tenantOf(c).ID, userOf(c).ID, b)
}

// RemindNonVoters e-mails the active owners of the ballot's units that
// have not voted yet and records how many were sent; actor is the officer,
// or the scheduler.
func (s *Server) RemindNonVoters(ctx context.Context, tenantID, actor string, b *voting.Ballot) (int, error) {
	ids, err := s.deps.Ballots.NonVoters(ctx, tenantID, b.ID)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, id := range ids {
		usr, err := s.deps.Users.Get(ctx, tenantID, id)
		if err != nil || usr.Status != identity.Active {
			continue
		}
		if err := s.deps.Notifier.Notify(ctx, identity.Notice{Kind: identity.NoticeBallotReminder, TenantID: tenantID, UserID: usr.ID,
			Email: usr.Email, Name: usr.Name, Token: b.ID, Detail: b.Title, Expires: b.ClosesAt}); err != nil {
			s.deps.Logger.Warn("ballot reminder", "tenant", tenantID, "error", err)
			continue
		}
		sent++
	}
	s.deps.Ballots.Reminded(ctx, tenantID, actor, b.ID, sent)
	return sent, nil
}

// adminPaper records (or, with op=remove, removes) a paper ballot.
func (s *Server) adminPaper(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	b, err := s.adminBallotOr404(c)
	if err != nil {
		return err
	}
	if c.FormValue("op") == "remove" {
		err = s.deps.Ballots.RemovePaper(ctx, t.ID, u.ID, b.ID, c.FormValue("vote"))
	} else {
		req := voting.PaperRequest{BallotID: b.ID, UnitID: c.FormValue("unit")}
		if b.Rules.Kind == voting.Motion {
			req.Choice.Choice = c.FormValue("choice")
		} else {
			for _, id := range strings.Split(c.FormValue("ranking"), ",") {
				if id = strings.TrimSpace(id); id != "" {
					req.Choice.Ranking = append(req.Choice.Ranking, id)
				}
			}
		}
		if fh, ferr := c.FormFile("scan"); ferr == nil && fh.Size > 0 {
			if fh.Size > voting.MaxScanBytes {
				err = fmt.Errorf("%w: a scan is at most %d MB", voting.ErrInvalid, voting.MaxScanBytes>>20)
			} else if f, oerr := fh.Open(); oerr == nil {
				req.Scan, err = io.ReadAll(io.LimitReader(f, voting.MaxScanBytes+1))
				f.Close()
			}
		}
		if err == nil {
			_, err = s.deps.Ballots.EnterPaper(ctx, t.ID, u.ID, req)
		}
	}
	if err != nil {
		s.deps.Ballots.Refused(ctx, t.ID, u.ID, "vote.paper.refused", "ballot:"+b.ID, err)
		if st, msg, ok := ballotError(err); ok {
			return s.renderAdminBallot(c, st, b, nil, nil, msg)
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/ballots/"+b.ID+"?done=paper", fiber.StatusSeeOther)
}

// adminScan serves a paper ballot's scan as a download.
func (s *Server) adminScan(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	data, typ, err := s.deps.Ballots.Scan(c.UserContext(), t.ID, u.ID, c.Params("id"), c.Params("vote"))
	if err != nil {
		if st, msg, ok := ballotError(err); ok {
			return errorf(st, msg)
		}
		return err
	}
	ext := map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}[typ]
	c.Set(fiber.HeaderContentType, typ)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="paper-ballot`+ext+`"`)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	return c.Send(data)
}

// exportable returns the ballot when its result may be exported by the
// user: published, or tallied for those who run ballots.
func (s *Server) exportable(c *fiber.Ctx) (*voting.Ballot, *sdk.TallyOutput, error) {
	b, err := s.adminBallotOr404(c)
	if err != nil {
		return nil, nil, err
	}
	if b.State != voting.StatePublished && !(b.State == voting.StateTallied && s.can(c, access.BallotsManage, "ballot")) {
		return nil, nil, errorf(fiber.StatusNotFound, "There is no result to export yet.")
	}
	out, err := b.Result()
	if err != nil || out == nil {
		return nil, nil, errorf(fiber.StatusNotFound, "There is no result to export yet.")
	}
	s.deps.Ballots.Exported(c.UserContext(), tenantOf(c).ID, userOf(c).ID, b.ID)
	return b, out, nil
}

func (s *Server) adminExportJSON(c *fiber.Ctx) error {
	b, out, err := s.exportable(c)
	if err != nil {
		return err
	}
	doc := struct {
		Ballot    string           `json:"ballot"`
		Title     string           `json:"title"`
		State     string           `json:"state"`
		RulesHash string           `json:"rules_sha256"`
		Rules     voting.Rules     `json:"rules"`
		Result    *sdk.TallyOutput `json:"result"`
	}{b.ID, b.Title, b.State, b.RulesHash, b.Rules, out}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="result-`+b.ID+`.json"`)
	return c.Send(body)
}

func (s *Server) adminExportCSV(c *fiber.Ctx) error {
	b, out, err := s.exportable(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"round", "choice", "label", "votes", "weight", "elected", "eliminated"})
	write := func(round string, cs []sdk.Count, elected, eliminated []string) {
		for _, ct := range cs {
			_ = w.Write([]string{round, safeCell(ct.Choice), safeCell(labelOf(b, ct.Choice)), strconv.FormatInt(ct.Votes, 10), ratOf(ct.Weight).RatString(),
				strconv.FormatBool(contains(elected, ct.Choice)), strconv.FormatBool(contains(eliminated, ct.Choice))})
		}
	}
	write("final", out.Counts, out.Elected, nil)
	for _, rd := range out.Rounds {
		write(strconv.FormatInt(rd.Number, 10), rd.Counts, rd.Elected, rd.Eliminated)
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="result-`+b.ID+`.csv"`)
	return c.Send(buf.Bytes())
}

// safeCell keeps a spreadsheet from reading a cell as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
