package voting_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit"
)

// countingTallier counts motions by head, the way the majority plugin
// does for a simple majority; the real plugins are exercised through the
// wasm runtime in host tests.
type countingTallier struct {
	mu   sync.Mutex
	last *sdk.TallyInput
}

func (c *countingTallier) Version(context.Context, string, string) (string, error) {
	return "1.0.0", nil
}

func (c *countingTallier) Tally(_ context.Context, _, method, version string, in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	c.mu.Lock()
	c.last = in
	c.mu.Unlock()
	counts := map[string]int64{}
	for _, v := range in.Votes {
		counts[v.Choice]++
	}
	out := &sdk.TallyOutput{Decision: sdk.DecisionFail, QuorumMet: int64(len(in.Votes)) >= in.Quorum}
	for _, ch := range []string{sdk.ChoiceYes, sdk.ChoiceNo, sdk.ChoiceAbstain} {
		out.Counts = append(out.Counts, sdk.Count{Choice: ch, Votes: counts[ch], Weight: sdk.Int(counts[ch])})
	}
	if counts[sdk.ChoiceYes] > counts[sdk.ChoiceNo] {
		out.Decision = sdk.DecisionPass
	}
	return out, nil
}

func (c *countingTallier) Validate(context.Context, string, string, *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error) {
	return &sdk.ValidateBallotOutput{Valid: true}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type ballotFixture struct {
	db      *store.DB
	log     *audit.Log
	units   *voting.Units
	ballots *voting.Ballots
	tallier *countingTallier
	clock   *clock
	a, b    string
	owners  []string // users of tenant a
	unitIDs []string // units of tenant a: unit i is owned by owners[i], unit 0 also by owners[1]
	other   string   // a user of tenant b
}

func newBallotFixture(t *testing.T, db *store.DB) *ballotFixture {
	t.Helper()
	ctx := context.Background()
	master, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := crypto.NewKeyring(ctx, db, master)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(ctx, db, keys, nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &ballotFixture{db: db, log: log, tallier: &countingTallier{}, clock: &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}}
	ten := tenancy.NewService(db, keys, auditRecorder{log}, nil)
	for i, id := range []*string{&f.a, &f.b} {
		tn, err := ten.Create(ctx, tenancy.CreateRequest{Slug: fmt.Sprintf("hoa-%d", i), Name: "Association", Actor: "system"})
		if err != nil {
			t.Fatal(err)
		}
		*id = tn.ID
	}
	f.units = voting.NewUnits(db, log, f.clock.Now)
	if f.ballots, err = voting.NewBallots(db, log, keys, f.tallier, f.clock.Now); err != nil {
		t.Fatal(err)
	}
	addUser := func(tenant, id string) {
		sc, _ := db.Scoped(tenant)
		now := f.clock.Now()
		u := &userStub{ID: id, EmailIndex: []byte(id), Email: []byte{1}, Status: "active", CreatedAt: now, UpdatedAt: now}
		if err := sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.Insert(ctx, u) }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		id := fmt.Sprintf("owner-%d", i)
		addUser(f.a, id)
		f.owners = append(f.owners, id)
		u, err := f.units.Create(ctx, f.a, "admin", fmt.Sprintf("Flat %d", i+1), voting.OneWeight())
		if err != nil {
			t.Fatal(err)
		}
		f.unitIDs = append(f.unitIDs, u.ID)
		if err := f.units.AddOwner(ctx, f.a, "admin", u.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.units.AddOwner(ctx, f.a, "admin", f.unitIDs[0], f.owners[1]); err != nil {
		t.Fatal(err)
	}
	f.other = "stranger"
	addUser(f.b, f.other)
	return f
}

type auditRecorder struct{ log *audit.Log }

func (r auditRecorder) Record(ctx context.Context, tx *store.Tx, c tenancy.Change) error {
	_, err := r.log.Append(ctx, tx, audit.Event{Actor: c.Actor, Action: c.Action, Target: c.Target, Details: c.Details})
	return err
}

func (f *ballotFixture) motion(t *testing.T, mutate func(r *voting.Rules)) *voting.Ballot {
	t.Helper()
	r := voting.Rules{Kind: voting.Motion, Threshold: sdk.Threshold{Num: 2, Den: 3}, Resolution: voting.PaperWins,
		OpensAt: f.clock.Now(), ClosesAt: f.clock.Now().Add(48 * time.Hour), Secret: true}
	if mutate != nil {
		mutate(&r)
	}
	b, err := f.ballots.Create(context.Background(), f.a, "admin", "Repaint the stairwell", r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBallotLifecycle(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newBallotFixture(t, db)
		b := f.motion(t, nil)
		if b.Rules.Rule != "qualified" || b.Rules.Method != "majority" || b.State != voting.StateDraft {
			t.Fatalf("normalised rules: %+v", b.Rules)
		}
		// Voting on a draft is refused.
		if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[0], UserID: f.owners[0], Choice: voting.Choice{Choice: "yes"}}); !errors.Is(err, voting.ErrState) {
			t.Fatalf("vote on draft: %v", err)
		}
		if err := f.ballots.Open(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		// Open ballots' rules are frozen.
		r := b.Rules
		r.Secret = false
		if err := f.ballots.Update(ctx, f.a, "admin", b.ID, "Other", r); !errors.Is(err, voting.ErrState) {
			t.Fatalf("update open ballot: %v", err)
		}
		cast := func(unit, user int, choice string) (*voting.Receipt, error) {
			return f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[unit], UserID: f.owners[user], Choice: voting.Choice{Choice: choice}, Source: "192.0.2.1 test"})
		}
		rc, err := cast(0, 0, "yes")
		if err != nil || len(rc.Code) != 19 {
			t.Fatalf("first vote: %v %+v", err, rc)
		}
		// The other owner of unit 0 cannot vote again for it.
		if _, err := cast(0, 1, "no"); !errors.Is(err, voting.ErrAlreadyVoted) {
			t.Fatalf("second online vote: %v", err)
		}
		// Not an owner of unit 2.
		if _, err := cast(2, 0, "no"); !errors.Is(err, voting.ErrNotEligible) {
			t.Fatalf("foreign unit: %v", err)
		}
		// Bad choice.
		if _, err := cast(1, 1, "maybe"); !errors.Is(err, voting.ErrInvalid) {
			t.Fatalf("bad choice: %v", err)
		}
		// Another tenant cannot see the ballot.
		if _, err := f.ballots.Cast(ctx, f.b, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[0], UserID: f.other, Choice: voting.Choice{Choice: "yes"}}); !errors.Is(err, voting.ErrNoBallot) {
			t.Fatalf("cross-tenant vote: %v", err)
		}
		for _, c := range []struct {
			unit, user int
			choice     string
		}{{1, 1, "yes"}, {2, 2, "yes"}} {
			if _, err := cast(c.unit, c.user, c.choice); err != nil {
				t.Fatal(err)
			}
		}
		// Unit 1 also has a paper ballot: paper wins, so unit 1 counts "no".
		if _, err := f.ballots.EnterPaper(ctx, f.a, "officer", voting.PaperRequest{BallotID: b.ID, UnitID: f.unitIDs[1], Choice: voting.Choice{Choice: "no"}, Scan: []byte("%PDF-1.4\n%...")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ballots.EnterPaper(ctx, f.a, "officer", voting.PaperRequest{BallotID: b.ID, UnitID: f.unitIDs[1], Choice: voting.Choice{Choice: "yes"}}); !errors.Is(err, voting.ErrAlreadyVoted) {
			t.Fatalf("second paper vote: %v", err)
		}
		if _, err := f.ballots.EnterPaper(ctx, f.a, "officer", voting.PaperRequest{BallotID: b.ID, UnitID: f.unitIDs[3], Choice: voting.Choice{Choice: "yes"}, Scan: []byte("MZ\x90\x00")}); !errors.Is(err, voting.ErrInvalid) {
			t.Fatalf("executable scan: %v", err)
		}
		tu, err := f.ballots.Turnout(ctx, f.a, b.ID)
		if err != nil || tu.EligibleUnits != 4 || tu.VotedUnits != 3 || tu.ByChannel["paper"] != 1 {
			t.Fatalf("turnout %+v %v", tu, err)
		}
		if _, err := f.ballots.OpenChoices(ctx, f.a, "admin", b.ID); !errors.Is(err, voting.ErrState) {
			t.Fatalf("secret choices shown: %v", err)
		}
		if _, err := f.ballots.Tally(ctx, f.a, "admin", b.ID); !errors.Is(err, voting.ErrState) {
			t.Fatalf("tally while open: %v", err)
		}
		// The closing time passes: the ballot closes itself.
		f.clock.Add(49 * time.Hour)
		if _, err := cast(3, 3, "yes"); !errors.Is(err, voting.ErrState) {
			t.Fatalf("vote after close: %v", err)
		}
		got, err := f.ballots.Get(ctx, f.a, b.ID)
		if err != nil || got.State != voting.StateClosed {
			t.Fatalf("auto close: %v %v", got.State, err)
		}
		out, err := f.ballots.Tally(ctx, f.a, "admin", b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if out.Counts[0].Votes != 2 || out.Counts[1].Votes != 1 || out.Decision != sdk.DecisionPass {
			t.Fatalf("result %+v", out)
		}
		in := f.tallier.last
		if in.Eligible.Units != 4 || in.Threshold != (sdk.Threshold{Num: 2, Den: 3}) || len(in.Votes) != 3 {
			t.Fatalf("tally input %+v", in)
		}
		for _, v := range in.Votes {
			for _, id := range append(f.unitIDs, f.owners...) {
				if strings.Contains(v.Voter, id) {
					t.Fatalf("voter %q reveals an id", v.Voter)
				}
			}
		}
		res, err := f.ballots.Resolutions(ctx, f.a, b.ID)
		if err != nil || len(res) != 1 || res[0].Status != voting.Counted || !strings.Contains(res[0].Reason, "paper") {
			t.Fatalf("resolutions %+v %v", res, err)
		}
		if _, err := f.ballots.Receipts(ctx, f.a, b.ID); !errors.Is(err, voting.ErrState) {
			t.Fatalf("receipts before publication: %v", err)
		}
		if err := f.ballots.Publish(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		receipts, err := f.ballots.Receipts(ctx, f.a, b.ID)
		if err != nil || len(receipts) != 2 {
			t.Fatalf("receipts %v %v", receipts, err)
		}
		found := false
		for _, r := range receipts {
			found = found || r == rc.Code
		}
		if !found {
			t.Fatalf("receipt %s not listed in %v", rc.Code, receipts)
		}
		if rep, err := f.log.Verify(ctx, audit.VerifyOptions{TenantID: f.a}); err != nil || !rep.OK() {
			t.Fatalf("audit chain: %v %+v", err, rep)
		}
	})
}

func TestResolutionRules(t *testing.T) {
	ctx := context.Background()
	x, err := voting.NewExprs()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"votes.size(", "1 + 1", "votes[0].id == 'x'", strings.Repeat("a", 3000)} {
		if err := x.CheckResolution(bad); err == nil {
			t.Errorf("CheckResolution(%q) accepted", bad)
		}
	}
	for _, good := range []string{
		`votes.exists(v, v.channel == "paper") ? votes.filter(v, v.channel == "paper")[0].id : null`,
		`votes[votes.size() - 1].id`, `null`,
	} {
		if err := x.CheckResolution(good); err != nil {
			t.Errorf("CheckResolution(%q): %v", good, err)
		}
	}
	if err := x.CheckEligibility(`unit.weight > 0.5 && unit.owners >= 1`); err != nil {
		t.Fatal(err)
	}
	if err := x.CheckEligibility(`unit.label`); err != nil {
		// dyn: accepted at compile time, refused per unit at open
		t.Log(err)
	}
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newBallotFixture(t, db)
		for _, c := range []struct {
			rule, expr string
			want       string // status of unit 1's decision
		}{
			{voting.FirstWins, "", voting.Counted},
			{voting.LastWins, "", voting.Counted},
			{voting.OnlineWins, "", voting.Counted},
			{voting.DiscardBoth, "", voting.NoneCounted},
			{voting.CustomRule, `votes.filter(v, v.channel == "online")[0].id`, voting.Counted},
			{voting.CustomRule, `null`, voting.NoneCounted},
			// An evaluation error (index out of range) flags the unit.
			{voting.CustomRule, `votes.filter(v, v.channel == "proxy")[0].id`, voting.Review},
			// A string that is not a record id is an error too.
			{voting.CustomRule, `"someone-else"`, voting.Review},
		} {
			t.Run(c.rule+c.expr, func(t *testing.T) {
				b := f.motion(t, func(r *voting.Rules) { r.Resolution, r.ResolutionExpr = c.rule, c.expr })
				if err := f.ballots.Open(ctx, f.a, "admin", b.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[1], UserID: f.owners[1], Choice: voting.Choice{Choice: "yes"}}); err != nil {
					t.Fatal(err)
				}
				f.clock.Add(time.Minute)
				if _, err := f.ballots.EnterPaper(ctx, f.a, "officer", voting.PaperRequest{BallotID: b.ID, UnitID: f.unitIDs[1], Choice: voting.Choice{Choice: "no"}}); err != nil {
					t.Fatal(err)
				}
				if err := f.ballots.Close(ctx, f.a, "admin", b.ID); err != nil {
					t.Fatal(err)
				}
				_, err := f.ballots.Tally(ctx, f.a, "admin", b.ID)
				if c.want == voting.Review {
					if !errors.Is(err, voting.ErrReview) {
						t.Fatalf("tally with review pending: %v", err)
					}
					if _, err := f.ballots.Resolve(ctx, f.a, "admin", b.ID); err != nil {
						t.Fatal(err)
					}
					res, _ := f.ballots.Resolutions(ctx, f.a, b.ID)
					if len(res) != 1 || res[0].Status != voting.Review {
						t.Fatalf("review: %+v", res)
					}
					if err := f.ballots.Decide(ctx, f.a, "officer", b.ID, f.unitIDs[1], "", "both voided by the board"); err != nil {
						t.Fatal(err)
					}
					if _, err = f.ballots.Tally(ctx, f.a, "admin", b.ID); err != nil {
						t.Fatal(err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				res, _ := f.ballots.Resolutions(ctx, f.a, b.ID)
				if len(res) != 1 || res[0].Status != c.want {
					t.Fatalf("decision %+v, want %s", res, c.want)
				}
				in := f.tallier.last
				wantChoice := map[string]string{voting.FirstWins: "yes", voting.LastWins: "no", voting.OnlineWins: "yes", voting.CustomRule: "yes"}[c.rule]
				if c.want == voting.Counted && (len(in.Votes) != 1 || in.Votes[0].Choice != wantChoice) {
					t.Fatalf("counted %+v, want %s", in.Votes, wantChoice)
				}
				if c.want == voting.NoneCounted && len(in.Votes) != 0 {
					t.Fatalf("counted %+v, want none", in.Votes)
				}
			})
		}
	})
}

// TestOneVotePerUnitUnderLoad races many sessions of the two owners of
// one unit (and changes of heart) against each other: exactly one online
// vote may be stored, on SQLite and on PostgreSQL.
func TestOneVotePerUnitUnderLoad(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newBallotFixture(t, db)
		b := f.motion(t, nil)
		if err := f.ballots.Open(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		var ok, dup, other atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[0], UserID: f.owners[i%2], Choice: voting.Choice{Choice: []string{"yes", "no"}[i%2]}})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, voting.ErrAlreadyVoted):
					dup.Add(1)
				default:
					other.Add(1)
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || dup.Load() != 39 {
			t.Fatalf("stored %d, refused %d, failed %d; want 1, 39, 0", ok.Load(), dup.Load(), other.Load())
		}
		parts, err := f.ballots.Participants(ctx, f.a, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.UnitID == f.unitIDs[0] && len(p.Records) != 1 {
				t.Fatalf("unit has %d records", len(p.Records))
			}
		}
	})
}

func TestChangeableVoteAndProxy(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newBallotFixture(t, db)
		b := f.motion(t, func(r *voting.Rules) { r.Changeable, r.Resolution, r.Meeting = true, voting.LastWins, "AGM 2026" })
		if err := f.ballots.Open(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		first, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[2], UserID: f.owners[2], Choice: voting.Choice{Choice: "yes"}})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Minute)
		second, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[2], UserID: f.owners[2], Choice: voting.Choice{Choice: "no"}})
		if err != nil || second.Code != first.Code || second.Revision != 2 {
			t.Fatalf("change: %+v %v", second, err)
		}
		// Owner 3 gives owner 0 a proxy for the meeting; a proxy for a
		// unit one does not own is refused.
		if _, err := f.ballots.Appoint(ctx, f.a, f.owners[0], f.unitIDs[3], f.owners[1], "", "AGM 2026"); !errors.Is(err, voting.ErrNotEligible) {
			t.Fatalf("proxy for foreign unit: %v", err)
		}
		if _, err := f.ballots.Appoint(ctx, f.a, f.owners[3], f.unitIDs[3], f.owners[0], "", "AGM 2026"); err != nil {
			t.Fatal(err)
		}
		ents, err := f.ballots.Entitlements(ctx, f.a, b.ID, f.owners[0])
		if err != nil || len(ents) != 2 || !ents[1].Proxy {
			t.Fatalf("entitlements %+v %v", ents, err)
		}
		rc, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[3], UserID: f.owners[0], Choice: voting.Choice{Choice: "yes"}})
		if err != nil || rc.Channel != voting.ChannelProxy {
			t.Fatalf("proxy vote: %+v %v", rc, err)
		}
		f.clock.Add(time.Minute)
		if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[3], UserID: f.owners[3], Choice: voting.Choice{Choice: "no"}}); err != nil {
			t.Fatal(err)
		}
		if err := f.ballots.Close(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ballots.Tally(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, v := range f.tallier.last.Votes {
			counts[v.Choice]++
		}
		// Unit 2 changed to no; unit 3: the owner's later vote wins.
		if counts["no"] != 2 || counts["yes"] != 0 {
			t.Fatalf("counted %v", counts)
		}
	})
}

func TestRulesNormalize(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	ok := func() voting.Rules {
		return voting.Rules{Kind: voting.Election, Method: "stv", Seats: 2, OpensAt: now, ClosesAt: now.Add(time.Hour),
			Options: []sdk.Option{{Label: "Ann"}, {Label: "Bob"}, {Label: "Cy"}}}
	}
	r := ok()
	if err := r.Normalize(); err != nil || !r.Ranked || r.Options[2].ID != "c3" || r.Resolution != voting.FirstWins {
		t.Fatalf("%+v %v", r, err)
	}
	for name, mutate := range map[string]func(r *voting.Rules){
		"no seats":          func(r *voting.Rules) { r.Seats = 0 },
		"seats ≥ options":   func(r *voting.Rules) { r.Seats = 3 },
		"dup candidate":     func(r *voting.Rules) { r.Options[1].Label = "Ann" },
		"bad id":            func(r *voting.Rules) { r.Options[0].ID = "#overvote" },
		"unknown method":    func(r *voting.Rules) { r.Method = "dictator" },
		"majority election": func(r *voting.Rules) { r.Method = "majority" },
		"closes first":      func(r *voting.Rules) { r.ClosesAt = now.Add(-time.Hour) },
		"bad quorum":        func(r *voting.Rules) { r.QuorumHead = "3/2" },
		"bad counting":      func(r *voting.Rules) { r.Counting = "vibes" },
		"bad resolution":    func(r *voting.Rules) { r.Resolution = "coin" },
		"custom no expr":    func(r *voting.Rules) { r.Resolution = voting.CustomRule },
		"bad config":        func(r *voting.Rules) { r.Config = []byte("{") },
		"kind":              func(r *voting.Rules) { r.Kind = "poll" },
	} {
		r := ok()
		mutate(&r)
		if err := r.Normalize(); !errors.Is(err, voting.ErrInvalid) {
			t.Errorf("%s: accepted", name)
		}
	}
	m := voting.Rules{Kind: voting.Motion, Threshold: sdk.Threshold{Num: 3, Den: 2}, OpensAt: now, ClosesAt: now.Add(time.Hour)}
	if err := m.Normalize(); !errors.Is(err, voting.ErrInvalid) {
		t.Error("threshold 3/2 accepted")
	}
}

func TestChoiceCheck(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	r := voting.Rules{Kind: voting.Election, Method: "irv", Seats: 1, MaxMarks: 2, OpensAt: now, ClosesAt: now.Add(time.Hour),
		Options: []sdk.Option{{ID: "a", Label: "Ann"}, {ID: "b", Label: "Bob"}, {ID: "c", Label: "Cy"}}}
	if err := r.Normalize(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ranking []string
		ok      bool
	}{
		{[]string{"a"}, true}, {[]string{"b", "a"}, true},
		{nil, false}, {[]string{"a", "a"}, false}, {[]string{"x"}, false}, {[]string{"a", "b", "c"}, false},
	} {
		ch := voting.Choice{Ranking: c.ranking}
		if err := ch.Check(&r); (err == nil) != c.ok {
			t.Errorf("%v: %v", c.ranking, err)
		}
	}
}

func TestDueReminders(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newBallotFixture(t, db)
		long := f.motion(t, nil) // open 48 hours
		short := f.motion(t, func(r *voting.Rules) { r.ClosesAt = r.OpensAt.Add(12 * time.Hour) })
		for _, b := range []*voting.Ballot{long, short} {
			if err := f.ballots.Open(ctx, f.a, "admin", b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if due, err := f.ballots.DueReminders(ctx, f.a, 24*time.Hour); err != nil || len(due) != 0 {
			t.Fatalf("at opening: %d due, %v", len(due), err)
		}
		f.clock.Add(25 * time.Hour)
		due, err := f.ballots.DueReminders(ctx, f.a, 24*time.Hour)
		if err != nil || len(due) != 1 || due[0].ID != long.ID {
			t.Fatalf("a day before closing: %+v, %v", due, err)
		}
		if due, _ := f.ballots.DueReminders(ctx, f.a, 24*time.Hour); len(due) != 0 {
			t.Fatal("reminded twice")
		}
		if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: long.ID, UnitID: f.unitIDs[0], UserID: f.owners[0], Choice: voting.Choice{Choice: "yes"}}); err != nil {
			t.Fatal(err)
		}
		left, err := f.ballots.NonVoters(ctx, f.a, long.ID)
		// owner-1 co-owns the unit that voted, but their own flat has not.
		if err != nil || len(left) != 3 || left[0] != f.owners[1] || left[2] != f.owners[3] {
			t.Fatalf("non-voters: %v %v", left, err)
		}
	})
}

// TestVoteChangesAndVoidProxies: on a changeable ballot only whoever cast
// a vote may change it, and a proxy given by a former owner is void.
func TestVoteChangesAndVoidProxies(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newBallotFixture(t, db)
		b := f.motion(t, func(r *voting.Rules) { r.Changeable = true })
		if err := f.ballots.Open(ctx, f.a, "admin", b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ballots.Appoint(ctx, f.a, f.owners[3], f.unitIDs[3], f.owners[0], b.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[0], UserID: f.owners[0], Choice: voting.Choice{Choice: "yes"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[0], UserID: f.owners[1], Choice: voting.Choice{Choice: "no"}}); !errors.Is(err, voting.ErrAlreadyVoted) {
			t.Fatalf("co-owner overwrote the vote: %v", err)
		}
		if err := f.units.RemoveOwner(ctx, f.a, "admin", f.unitIDs[3], f.owners[3]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ballots.Cast(ctx, f.a, voting.CastRequest{BallotID: b.ID, UnitID: f.unitIDs[3], UserID: f.owners[0], Choice: voting.Choice{Choice: "yes"}}); !errors.Is(err, voting.ErrNotEligible) {
			t.Fatalf("proxy of a former owner: %v", err)
		}
		if ents, err := f.ballots.Entitlements(ctx, f.a, b.ID, f.owners[0]); err != nil || len(ents) != 1 {
			t.Fatalf("entitlements: %+v %v", ents, err)
		}
	})
}
