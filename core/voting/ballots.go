package voting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/sdk"
)

// Ballot states, in the order a ballot goes through them.
const (
	StateDraft     = "draft"
	StateOpen      = "open"
	StateClosed    = "closed"
	StateTallied   = "tallied"
	StatePublished = "published"
)

// Errors of the ballot service.
var (
	// ErrNoBallot is returned for a ballot the tenant does not have.
	ErrNoBallot = errors.New("no such ballot")
	// ErrState is returned for an action the ballot's state does not allow
	// (editing an open ballot, voting on a closed one).
	ErrState = errors.New("the ballot's state does not allow this")
	// ErrNotEligible is returned for a unit without a voting right on the
	// ballot, or a user who may not vote for the unit.
	ErrNotEligible = errors.New("not entitled to vote for this unit")
	// ErrAlreadyVoted is returned for a second vote of a unit on a channel.
	ErrAlreadyVoted = errors.New("this unit has already voted")
	// ErrReview is returned when tallying a ballot whose double votes
	// still wait for a person's decision.
	ErrReview = errors.New("double votes wait for review")
)

// Keys seals and opens data with the tenant's key (*crypto.Keyring).
type Keys interface {
	Seal(ctx context.Context, scope string, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, scope string, ciphertext, associatedData []byte) ([]byte, error)
}

// Tallier counts votes and checks rules with a ballot's method plugin
// (host/registry implements it with the wasm runtime).
type Tallier interface {
	// Version names the version of the method plugin that would count a
	// ballot opened now; it is frozen with the rules.
	Version(ctx context.Context, tenantID, method string) (string, error)
	// Tally counts with the method plugin's version (the newest when
	// version is empty).
	Tally(ctx context.Context, tenantID, method, version string, in *sdk.TallyInput) (*sdk.TallyOutput, error)
	Validate(ctx context.Context, tenantID, method string, in *sdk.ValidateBallotInput) (*sdk.ValidateBallotOutput, error)
}

// Ballot is a motion or election put to the units.
type Ballot struct {
	bun.BaseModel `bun:"table:ballots"`
	store.Owned
	ID          string    `bun:"id,pk"`
	Title       string    `bun:"title,notnull"`
	State       string    `bun:"state,notnull"`
	RulesJSON   string    `bun:"rules,notnull"`
	RulesHash   string    `bun:"rules_hash,notnull"`
	OpensAt     time.Time `bun:"opens_at,notnull"`
	ClosesAt    time.Time `bun:"closes_at,notnull"`
	CreatedBy   string    `bun:"created_by,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
	OpenedAt    time.Time `bun:"opened_at,nullzero"`
	ClosedAt    time.Time `bun:"closed_at,nullzero"`
	TalliedAt   time.Time `bun:"tallied_at,nullzero"`
	PublishedAt time.Time `bun:"published_at,nullzero"`
	RemindedAt  time.Time `bun:"reminded_at,nullzero"`
	ResultJSON  string    `bun:"result,notnull"`

	// Rules are RulesJSON decoded.
	Rules Rules `bun:"-"`
}

// Accepting reports whether the ballot takes online votes at t.
func (b *Ballot) Accepting(t time.Time) bool {
	return b.State == StateOpen && !t.Before(b.OpensAt) && t.Before(b.ClosesAt)
}

// Result returns the stored tally, or nil before the tally.
func (b *Ballot) Result() (*sdk.TallyOutput, error) {
	if b.ResultJSON == "" {
		return nil, nil
	}
	out := new(sdk.TallyOutput)
	if err := json.Unmarshal([]byte(b.ResultJSON), out); err != nil {
		return nil, fmt.Errorf("ballot %s result: %w", b.ID, err)
	}
	return out, nil
}

func (b *Ballot) decode() error {
	if err := json.Unmarshal([]byte(b.RulesJSON), &b.Rules); err != nil {
		return fmt.Errorf("ballot %s rules: %w", b.ID, err)
	}
	return nil
}

// Ballots runs a tenant's ballots: their rules and states, the voting
// rights, casting, double-vote resolution and the tally.
type Ballots struct {
	db      *store.DB
	audit   Auditor
	keys    Keys
	tallier Tallier
	exprs   *Exprs
	now     func() time.Time
	batch   *batcher
	// frozen caches opened ballots (tenant/id): their rules cannot change.
	frozen sync.Map
}

// NewBallots returns the ballot service. now may be nil.
func NewBallots(db *store.DB, a Auditor, keys Keys, t Tallier, now func() time.Time) (*Ballots, error) {
	if now == nil {
		now = time.Now
	}
	x, err := NewExprs()
	if err != nil {
		return nil, err
	}
	s := &Ballots{db: db, audit: a, keys: keys, tallier: t, exprs: x, now: now}
	// SQLite has one writer: one worker; PostgreSQL writes in parallel,
	// though one tenant's batches still take turns at its audit chain.
	workers := 1
	if db.Dialect() == store.Postgres {
		workers = 4
	}
	s.batch = newBatcher(s, workers)
	return s, nil
}

// Exprs returns the service's CEL environments (for the admin's preview).
func (s *Ballots) Exprs() *Exprs { return s.exprs }

func (s *Ballots) tx(ctx context.Context, tenantID string, write bool, fn func(ctx context.Context, tx *store.Tx) error) error {
	return scopedTx(ctx, s.db, tenantID, write, fn)
}

func (s *Ballots) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Ballots) record(ctx context.Context, tx *store.Tx, actor, action, target string, details map[string]string) error {
	_, err := s.audit.Append(ctx, tx, audit.Event{Actor: auditActor(actor), Action: action, Target: target, Outcome: audit.Success, Details: details})
	return err
}

// auditActor names a member "user:ID" on the audit chain, as the rest of
// the platform does; actors that already say what they are
// ("system:scheduler", "user:…") pass unchanged.
func auditActor(actor string) string {
	if actor == "" || strings.Contains(actor, ":") {
		return actor
	}
	return "user:" + actor
}

// Refused records a refused request on the tenant's audit chain, in a
// transaction of its own (the refused one changed nothing).
func (s *Ballots) Refused(ctx context.Context, tenantID, actor, action, target string, cause error) {
	_ = s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		_, err := s.audit.Append(ctx, tx, audit.Event{Actor: auditActor(actor), Action: action, Target: target, Outcome: audit.Failure,
			Details: map[string]string{"reason": refusalReason(cause)}})
		return err
	})
}

// refusalReason names a refusal without echoing input back into the log.
func refusalReason(err error) string {
	for _, e := range []error{ErrNoBallot, ErrState, ErrNotEligible, ErrAlreadyVoted, ErrReview, ErrNotFound} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if errors.Is(err, ErrInvalid) {
		return ErrInvalid.Error()
	}
	return "error"
}

// CleanTitle checks a ballot title: 1 to 200 characters of text.
func CleanTitle(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 {
		return "", fmt.Errorf("%w: a title has 1 to 200 characters", ErrInvalid)
	}
	return s, nil
}

// Check normalises the rules and checks them completely: the fixed rules,
// the CEL expressions and the method plugin's validate_ballot hook.
func (s *Ballots) Check(ctx context.Context, tenantID string, r *Rules) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	if r.Eligibility != "" {
		if err := s.exprs.CheckEligibility(r.Eligibility); err != nil {
			return fmt.Errorf("eligibility: %w", err)
		}
	}
	if r.Resolution == CustomRule {
		if err := s.exprs.CheckResolution(r.ResolutionExpr); err != nil {
			return fmt.Errorf("double-vote rule: %w", err)
		}
	}
	if s.tallier == nil {
		return nil
	}
	out, err := s.tallier.Validate(ctx, tenantID, r.Method, &sdk.ValidateBallotInput{
		Kind: r.Kind, Rule: r.Rule, Config: r.Config, Options: r.Options, Seats: r.Seats,
		Basis: r.Basis, Counting: r.Counting, Threshold: r.Threshold,
		Opens: r.OpensAt.Unix(), Closes: r.ClosesAt.Unix(),
	})
	if err != nil {
		return fmt.Errorf("method %s: %w", r.Method, err)
	}
	if !out.Valid {
		msgs := make([]string, 0, len(out.Problems))
		for _, p := range out.Problems {
			msgs = append(msgs, strings.TrimSpace(p.Field+": "+p.Message))
		}
		if len(msgs) == 0 {
			msgs = append(msgs, "the method refuses these rules")
		}
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
	}
	return nil
}

// Create saves a draft ballot.
func (s *Ballots) Create(ctx context.Context, tenantID, actor, title string, r Rules) (*Ballot, error) {
	title, err := CleanTitle(title)
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx, tenantID, &r); err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("ballot id: %w", err)
	}
	rules, err := json.Marshal(&r)
	if err != nil {
		return nil, fmt.Errorf("encode rules: %w", err)
	}
	now := s.stamp()
	b := &Ballot{ID: id.String(), Title: title, State: StateDraft, RulesJSON: string(rules), OpensAt: r.OpensAt, ClosesAt: r.ClosesAt,
		CreatedBy: actor, CreatedAt: now, UpdatedAt: now, Rules: r}
	err = s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Insert(ctx, b); err != nil {
			return fmt.Errorf("insert ballot: %w", err)
		}
		return s.record(ctx, tx, actor, "ballot.create", "ballot:"+b.ID, map[string]string{"title": title, "rules": r.Hash()})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Update changes a draft ballot's title and rules; an opened ballot's
// rules are frozen.
func (s *Ballots) Update(ctx context.Context, tenantID, actor, id, title string, r Rules) error {
	title, err := CleanTitle(title)
	if err != nil {
		return err
	}
	if err := s.Check(ctx, tenantID, &r); err != nil {
		return err
	}
	rules, err := json.Marshal(&r)
	if err != nil {
		return fmt.Errorf("encode rules: %w", err)
	}
	return s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		old, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.State != StateDraft {
			return fmt.Errorf("%w: an open ballot's rules cannot change", ErrState)
		}
		res, err := tx.Update((*Ballot)(nil)).Set("title = ?", title).Set("rules = ?", string(rules)).
			Set("opens_at = ?", r.OpensAt).Set("closes_at = ?", r.ClosesAt).Set("updated_at = ?", s.stamp()).
			Where("id = ?", id).Where("state = ?", StateDraft).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update ballot: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: the ballot was opened meanwhile", ErrState)
		}
		return s.record(ctx, tx, actor, "ballot.update", "ballot:"+id, map[string]string{
			"title": old.Title + " -> " + title, "rules": old.Rules.Hash() + " -> " + r.Hash()})
	})
}

// Delete removes a draft ballot.
func (s *Ballots) Delete(ctx context.Context, tenantID, actor, id string) error {
	return s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*Ballot)(nil)).Where("id = ?", id).Where("state = ?", StateDraft).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete ballot: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			if _, err := s.get(ctx, tx, id); err != nil {
				return err
			}
			return fmt.Errorf("%w: only a draft can be deleted", ErrState)
		}
		return s.record(ctx, tx, actor, "ballot.delete", "ballot:"+id, nil)
	})
}

func (s *Ballots) get(ctx context.Context, tx *store.Tx, id string) (*Ballot, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNoBallot
	}
	b := new(Ballot)
	// No row lock: every change of state is a conditional update on the
	// state read here, so of two racing transactions one finds nothing to
	// change and rolls back.
	if err := tx.Select(b).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoBallot
		}
		return nil, fmt.Errorf("read ballot: %w", err)
	}
	return b, b.decode()
}

// Get returns a ballot, closing it first if its time is up.
func (s *Ballots) Get(ctx context.Context, tenantID, id string) (*Ballot, error) {
	var b *Ballot
	read := func() error {
		return s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) (err error) {
			b, err = s.get(ctx, tx, id)
			return err
		})
	}
	if err := read(); err != nil {
		return nil, err
	}
	if b.State == StateOpen && !s.now().Before(b.ClosesAt) {
		if err := s.transition(ctx, tenantID, "system:scheduler", id, StateOpen, StateClosed, "closed_at", nil); err != nil && !errors.Is(err, ErrState) {
			return nil, err
		}
		if err := read(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Frozen returns an opened ballot for reading its rules, from a cache
// when it has been read before: the rules of an opened ballot never
// change. Its state may be stale; whatever depends on the state reads the
// ballot in its own transaction.
func (s *Ballots) Frozen(ctx context.Context, tenantID, id string) (*Ballot, error) {
	key := tenantID + "/" + id
	if b, ok := s.frozen.Load(key); ok {
		return b.(*Ballot), nil
	}
	b, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if b.State != StateDraft {
		s.frozen.Store(key, b)
	}
	return b, nil
}

// List returns the tenant's ballots in the given states (all when none),
// newest first, closing those whose time is up.
func (s *Ballots) List(ctx context.Context, tenantID string, states ...string) ([]Ballot, error) {
	if err := s.closeDue(ctx, tenantID); err != nil {
		return nil, err
	}
	var out []Ballot
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		q := tx.Select(&out).OrderExpr("created_at DESC, id DESC").Limit(1000)
		if len(states) > 0 {
			q = q.Where("state IN (?)", bun.In(states))
		}
		return q.Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	for i := range out {
		if err := out[i].decode(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CloseDue closes the tenant's open ballots whose closing time has passed
// (the host's scheduler calls it; reads call it too).
func (s *Ballots) CloseDue(ctx context.Context, tenantID string) error {
	return s.closeDue(ctx, tenantID)
}

func (s *Ballots) closeDue(ctx context.Context, tenantID string) error {
	now := s.stamp()
	var due []string
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select((*Ballot)(nil)).Column("id").Where("state = ?", StateOpen).Where("closes_at <= ?", now).Scan(ctx, &due)
	})
	if err != nil {
		return fmt.Errorf("due ballots: %w", err)
	}
	for _, id := range due {
		if err := s.transition(ctx, tenantID, "system:scheduler", id, StateOpen, StateClosed, "closed_at", nil); err != nil && !errors.Is(err, ErrState) {
			return err
		}
	}
	return nil
}

// transition moves a ballot from one state to the next, audited; more
// runs inside the same transaction.
func (s *Ballots) transition(ctx context.Context, tenantID, actor, id, from, to, stampCol string, more func(ctx context.Context, tx *store.Tx, b *Ballot) (map[string]string, error)) error {
	return s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if b.State != from {
			return fmt.Errorf("%w: the ballot is %s, not %s", ErrState, b.State, from)
		}
		details := map[string]string{"from": from, "to": to}
		if more != nil {
			extra, err := more(ctx, tx, b)
			if err != nil {
				return err
			}
			for k, v := range extra {
				details[k] = v
			}
		}
		res, err := tx.Update((*Ballot)(nil)).Set("state = ?", to).Set(stampCol+" = ?", s.stamp()).Set("updated_at = ?", s.stamp()).
			Where("id = ?", id).Where("state = ?", from).Exec(ctx)
		if err != nil {
			return fmt.Errorf("ballot state: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: the ballot changed meanwhile", ErrState)
		}
		return s.record(ctx, tx, actor, "ballot."+to, "ballot:"+id, details)
	})
}

// Open freezes a draft's rules and gives every eligible unit its voting
// right. Voting starts at the ballot's opening time.
func (s *Ballots) Open(ctx context.Context, tenantID, actor, id string) error {
	b, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return err
	}
	if b.State != StateDraft {
		return fmt.Errorf("%w: the ballot is %s, not draft", ErrState, b.State)
	}
	r := b.Rules
	if err := s.Check(ctx, tenantID, &r); err != nil {
		return err
	}
	if !r.ClosesAt.After(s.now()) {
		return fmt.Errorf("%w: the closing time has passed", ErrInvalid)
	}
	// The method plugin's version is fixed now, with the rest of the rules:
	// a newer version installed later does not count this ballot.
	if s.tallier != nil {
		if r.MethodVersion, err = s.tallier.Version(ctx, tenantID, r.Method); err != nil {
			return fmt.Errorf("method %s: %w", r.Method, err)
		}
	}
	// The eligibility condition is the tenant's code: it runs before the
	// write transaction, under a budget, not while holding the writer.
	rights, err := s.eligible(ctx, tenantID, id, r.Eligibility)
	if err != nil {
		return err
	}
	frozen, err := json.Marshal(&r)
	if err != nil {
		return fmt.Errorf("encode rules: %w", err)
	}
	hash := r.Hash()
	return s.transition(ctx, tenantID, actor, id, StateDraft, StateOpen, "opened_at", func(ctx context.Context, tx *store.Tx, cur *Ballot) (map[string]string, error) {
		if cur.RulesJSON != b.RulesJSON {
			return nil, fmt.Errorf("%w: the rules were changed meanwhile; open it again", ErrState)
		}
		for i := 0; i < len(rights); i += 500 {
			chunk := rights[i:min(i+500, len(rights))]
			if err := tx.Insert(ctx, &chunk); err != nil {
				return nil, fmt.Errorf("voting rights: %w", err)
			}
		}
		if _, err := tx.Update((*Ballot)(nil)).Set("rules = ?", string(frozen)).Set("rules_hash = ?", hash).Where("id = ?", id).Exec(ctx); err != nil {
			return nil, fmt.Errorf("freeze rules: %w", err)
		}
		return map[string]string{"rules": hash, "method": r.Method + "@" + r.MethodVersion, "eligible_units": fmt.Sprint(len(rights))}, nil
	})
}

// exprBudget bounds all evaluations of a tenant expression for one
// operation (every unit's eligibility, every double vote's rule).
const exprBudget = 5 * time.Second

// eligible returns the voting rights of the units the condition admits.
func (s *Ballots) eligible(ctx context.Context, tenantID, ballotID, cond string) ([]right, error) {
	admit, err := s.exprs.eligibility(cond)
	if err != nil {
		return nil, err
	}
	var units []Unit
	var owners []ownerRow
	err = s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Select(&units).OrderExpr("label").Scan(ctx); err != nil {
			return fmt.Errorf("read units: %w", err)
		}
		if err := tx.Select(&owners).Scan(ctx); err != nil {
			return fmt.Errorf("read owners: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, o := range owners {
		count[o.UnitID]++
	}
	ctx, cancel := context.WithTimeout(ctx, exprBudget)
	defer cancel()
	rights := make([]right, 0, len(units))
	for _, u := range units {
		ok, err := admit(ctx, u, count[u.ID])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if ok {
			rights = append(rights, right{BallotID: ballotID, UnitID: u.ID, Weight: u.Weight})
		}
	}
	if len(rights) == 0 {
		return nil, fmt.Errorf("%w: no unit is eligible to vote", ErrInvalid)
	}
	return rights, nil
}

// Close ends voting on an open ballot.
func (s *Ballots) Close(ctx context.Context, tenantID, actor, id string) error {
	return s.transition(ctx, tenantID, actor, id, StateOpen, StateClosed, "closed_at", nil)
}

// Publish makes a tallied ballot's result and receipts visible to the
// members.
func (s *Ballots) Publish(ctx context.Context, tenantID, actor, id string) error {
	return s.transition(ctx, tenantID, actor, id, StateTallied, StatePublished, "published_at", nil)
}

// right is one unit's voting right on one ballot.
type right struct {
	bun.BaseModel `bun:"table:ballot_rights"`
	store.Owned
	BallotID string    `bun:"ballot_id,pk"`
	UnitID   string    `bun:"unit_id,pk"`
	Weight   Weight    `bun:"weight,notnull,type:text"`
	OnlineAt time.Time `bun:"online_at,nullzero"`
}
