package voting

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/sdk"
)

// Resolution statuses.
const (
	// Counted: the unit's vote record VoteID counts.
	Counted = "counted"
	// NoneCounted: the rule chose none of the unit's records.
	NoneCounted = "none"
	// Review: the rule could not decide; a person must.
	Review = "review"
)

// Resolution says which of a unit's vote records counts and why.
type Resolution struct {
	bun.BaseModel `bun:"table:vote_resolutions"`
	store.Owned
	BallotID  string    `bun:"ballot_id,pk"`
	UnitID    string    `bun:"unit_id,pk"`
	VoteID    string    `bun:"vote_id,nullzero"`
	Status    string    `bun:"status,notnull"`
	Reason    string    `bun:"reason,notnull"`
	DecidedBy string    `bun:"decided_by,notnull"`
	DecidedAt time.Time `bun:"decided_at,notnull"`
}

// Resolve applies the ballot's double-vote rule to every unit with more
// than one vote record of a closed ballot and records each decision (a
// unit with one record needs none). Decisions already made by a person
// are kept. It returns the number of units left for review. The rule is
// the tenant's code: it runs outside the write transaction, within a
// budget for all units; a unit it cannot decide in time goes to review.
func (s *Ballots) Resolve(ctx context.Context, tenantID, actor, ballotID string) (int, error) {
	var (
		b     *Ballot
		votes []Vote
		kept  []Resolution
	)
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if b, err = s.get(ctx, tx, ballotID); err != nil {
			return err
		}
		if b.State != StateClosed {
			return fmt.Errorf("%w: double votes are resolved once the ballot is closed", ErrState)
		}
		if err := tx.Select(&votes).Column("id", "unit_id", "channel", "cast_by", "cast_at").Where("ballot_id = ?", b.ID).
			OrderExpr("unit_id, cast_at, id").Scan(ctx); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		if err := tx.Select(&kept).Where("ballot_id = ?", b.ID).Where("decided_by <> ?", "rule").Where("status <> ?", Review).Scan(ctx); err != nil {
			return fmt.Errorf("read decisions: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	decisions, review, err := s.decide(ctx, b, votes, kept)
	if err != nil {
		return 0, err
	}
	err = s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		cur, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if cur.State != StateClosed {
			return fmt.Errorf("%w: the ballot is %s", ErrState, cur.State)
		}
		if _, err := tx.Delete((*Resolution)(nil)).Where("ballot_id = ?", b.ID).Where("decided_by = ? OR status = ?", "rule", Review).Exec(ctx); err != nil {
			return fmt.Errorf("clear decisions: %w", err)
		}
		stats := map[string]int{}
		for _, d := range decisions {
			stats[d.Status]++
		}
		if len(decisions) > 0 {
			if err := tx.Insert(ctx, &decisions); err != nil {
				return fmt.Errorf("store decisions: %w", err)
			}
		}
		return s.record(ctx, tx, actor, "ballot.resolve", "ballot:"+b.ID, map[string]string{
			"counted": fmt.Sprint(stats[Counted]), "none": fmt.Sprint(stats[NoneCounted]), "review": fmt.Sprint(review)})
	})
	return review, err
}

// decide runs the ballot's rule over every unit with several records
// that no person has decided yet.
func (s *Ballots) decide(ctx context.Context, b *Ballot, votes []Vote, kept []Resolution) ([]Resolution, int, error) {
	pick, err := s.exprs.resolver(b.Rules.Resolution, b.Rules.ResolutionExpr)
	if err != nil {
		return nil, 0, err
	}
	manual := map[string]bool{}
	for _, r := range kept {
		manual[r.UnitID] = true
	}
	ctx, cancel := context.WithTimeout(ctx, exprBudget)
	defer cancel()
	now, review := s.stamp(), 0
	var out []Resolution
	for i := 0; i < len(votes); {
		j := i
		for j < len(votes) && votes[j].UnitID == votes[i].UnitID {
			j++
		}
		unit := votes[i:j]
		i = j
		if len(unit) < 2 || manual[unit[0].UnitID] {
			continue
		}
		recs := make([]Record, len(unit))
		for k, v := range unit {
			recs[k] = Record{ID: v.ID, Channel: v.Channel, CastAt: v.CastAt, CastBy: v.CastBy, Proxy: v.Channel == ChannelProxy}
		}
		res := Resolution{BallotID: b.ID, UnitID: unit[0].UnitID, DecidedBy: "rule", DecidedAt: now}
		id, reason, err := pick(ctx, recs)
		switch {
		case errors.Is(err, errNoChoice):
			res.Status, res.Reason = NoneCounted, reason
		case err != nil:
			res.Status, res.Reason = Review, "for review: "+err.Error()
			review++
		default:
			res.Status, res.VoteID, res.Reason = Counted, id, reason
		}
		out = append(out, res)
	}
	return out, review, nil
}

// Decide records a person's decision for a unit's double vote: voteID
// counts, or none when voteID is empty.
func (s *Ballots) Decide(ctx context.Context, tenantID, actor, ballotID, unitID, voteID, why string) error {
	return s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if b.State != StateClosed {
			return fmt.Errorf("%w: decisions are made between close and tally", ErrState)
		}
		res := &Resolution{BallotID: ballotID, UnitID: unitID, Status: NoneCounted, DecidedBy: actor, DecidedAt: s.stamp(), Reason: "decided by an officer"}
		if why != "" {
			res.Reason += ": " + why
		}
		if voteID != "" {
			n, err := tx.Select((*Vote)(nil)).Where("id = ?", voteID).Where("ballot_id = ?", ballotID).Where("unit_id = ?", unitID).Count(ctx)
			if err != nil {
				return fmt.Errorf("read vote: %w", err)
			}
			if n == 0 {
				return ErrNotFound
			}
			res.Status, res.VoteID = Counted, voteID
		}
		if _, err := tx.Delete((*Resolution)(nil)).Where("ballot_id = ?", ballotID).Where("unit_id = ?", unitID).Exec(ctx); err != nil {
			return fmt.Errorf("replace decision: %w", err)
		}
		if err := tx.Insert(ctx, res); err != nil {
			return fmt.Errorf("store decision: %w", err)
		}
		return s.record(ctx, tx, actor, "ballot.decide", "ballot:"+ballotID, map[string]string{"unit": unitID, "status": res.Status, "vote": voteID})
	})
}

// Resolutions returns the ballot's double-vote decisions.
func (s *Ballots) Resolutions(ctx context.Context, tenantID, ballotID string) ([]Resolution, error) {
	var out []Resolution
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&out).Where("ballot_id = ?", ballotID).OrderExpr("status DESC, unit_id").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	return out, nil
}

// Tally counts a closed ballot with its method plugin: it resolves double
// votes (refusing while units wait for review), builds the tally input
// from the counted records, runs the plugin outside any transaction, and
// stores the result and moves the ballot to tallied, provided that no
// vote or decision changed meanwhile (a paper ballot entered during the
// count makes it refuse; count again).
func (s *Ballots) Tally(ctx context.Context, tenantID, actor, ballotID string) (*sdk.TallyOutput, error) {
	if s.tallier == nil {
		return nil, errors.New("no tally runtime")
	}
	review, err := s.Resolve(ctx, tenantID, actor, ballotID)
	if err != nil {
		return nil, err
	}
	if review > 0 {
		return nil, fmt.Errorf("%w: %d unit(s)", ErrReview, review)
	}
	var (
		b      *Ballot
		in     *sdk.TallyInput
		digest string
	)
	err = s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if b, err = s.get(ctx, tx, ballotID); err != nil {
			return err
		}
		if b.State != StateClosed {
			return fmt.Errorf("%w: the ballot is %s, not closed", ErrState, b.State)
		}
		if in, err = s.input(ctx, tx, b); err != nil {
			return err
		}
		digest, err = s.digest(ctx, tx, b.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out, err := s.tallier.Tally(ctx, tenantID, b.Rules.Method, b.Rules.MethodVersion, in)
	if err != nil {
		return nil, fmt.Errorf("tally with %s: %w", b.Rules.Method, err)
	}
	if out.Turnout == (sdk.Turnout{}) {
		out.Turnout = turnoutOf(in.Votes)
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	err = s.transition(ctx, tenantID, actor, ballotID, StateClosed, StateTallied, "tallied_at", func(ctx context.Context, tx *store.Tx, cur *Ballot) (map[string]string, error) {
		now, err := s.digest(ctx, tx, cur.ID)
		if err != nil {
			return nil, err
		}
		if now != digest {
			return nil, fmt.Errorf("%w: votes or decisions changed during the count; count again", ErrState)
		}
		if _, err := tx.Update((*Ballot)(nil)).Set("result = ?", string(raw)).Where("id = ?", cur.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("store result: %w", err)
		}
		return map[string]string{"decision": out.Decision, "votes": fmt.Sprint(len(in.Votes)), "method": b.Rules.Method + "@" + b.Rules.MethodVersion}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// digest fingerprints what a count reads: every vote record (id and
// revision) and every double-vote decision.
func (s *Ballots) digest(ctx context.Context, tx *store.Tx, ballotID string) (string, error) {
	var votes []Vote
	if err := tx.Select(&votes).Column("id", "revision").Where("ballot_id = ?", ballotID).OrderExpr("id").Scan(ctx); err != nil {
		return "", fmt.Errorf("read votes: %w", err)
	}
	var decided []Resolution
	if err := tx.Select(&decided).Where("ballot_id = ?", ballotID).OrderExpr("unit_id").Scan(ctx); err != nil {
		return "", fmt.Errorf("read decisions: %w", err)
	}
	h := sha256.New()
	for _, v := range votes {
		fmt.Fprintf(h, "v %s %d\n", v.ID, v.Revision)
	}
	for _, d := range decided {
		fmt.Fprintf(h, "d %s %s %s\n", d.UnitID, d.VoteID, d.Status)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func turnoutOf(votes []sdk.Vote) sdk.Turnout {
	t := sdk.Turnout{Weight: sdk.Rational{Num: 0, Den: 1}}
	for _, v := range votes {
		t.Head++
		if w, err := t.Weight.Add(v.Weight); err == nil {
			t.Weight = w
		}
	}
	return t
}

// input builds the tally input of a ballot from its counted records: per
// unit the resolved record, or its only one. Voters are pseudonyms.
func (s *Ballots) input(ctx context.Context, tx *store.Tx, b *Ballot) (*sdk.TallyInput, error) {
	var rights []right
	if err := tx.Select(&rights).Where("ballot_id = ?", b.ID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read rights: %w", err)
	}
	var votes []Vote
	if err := tx.Select(&votes).Where("ballot_id = ?", b.ID).OrderExpr("unit_id, cast_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read votes: %w", err)
	}
	var decided []Resolution
	if err := tx.Select(&decided).Where("ballot_id = ?", b.ID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	decision := map[string]Resolution{}
	for _, d := range decided {
		decision[d.UnitID] = d
	}
	weight := map[string]Weight{}
	eligible := new(big.Rat)
	for _, r := range rights {
		weight[r.UnitID] = r.Weight
		eligible.Add(eligible, r.Weight.Rat())
	}
	r := &b.Rules
	in := &sdk.TallyInput{BallotID: b.ID, Kind: r.Kind, Rule: r.Rule, Config: r.Config, Options: r.Options, Seats: r.Seats,
		Basis: r.Basis, Counting: r.Counting, Threshold: r.Threshold}
	var err error
	in.Eligible.Units = int64(len(rights))
	if in.Eligible.Weight, err = rational(eligible); err != nil {
		return nil, err
	}
	if in.Quorum, in.QuorumWeight, err = quorum(r, int64(len(rights)), eligible); err != nil {
		return nil, err
	}
	// Pseudonyms under a key made for this count alone: no voter id leaves
	// the host, and nobody can link a pseudonym to a unit afterwards.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	for i := 0; i < len(votes); {
		j := i
		for j < len(votes) && votes[j].UnitID == votes[i].UnitID {
			j++
		}
		unit := votes[i:j]
		i = j
		counted := &unit[0]
		if d, ok := decision[counted.UnitID]; ok {
			if d.Status != Counted {
				continue
			}
			counted = nil
			for k := range unit {
				if unit[k].ID == d.VoteID {
					counted = &unit[k]
				}
			}
			if counted == nil {
				return nil, fmt.Errorf("decision for unit %s names a vote that is gone", d.UnitID)
			}
		} else if len(unit) > 1 {
			return nil, fmt.Errorf("unit %s has %d votes and no decision", unit[0].UnitID, len(unit))
		}
		c, err := s.openChoice(ctx, tx.TenantID(), counted)
		if err != nil {
			return nil, err
		}
		w, err := rational(weight[counted.UnitID].Rat())
		if err != nil {
			return nil, err
		}
		mac.Reset()
		mac.Write([]byte(counted.UnitID))
		in.Votes = append(in.Votes, sdk.Vote{Voter: hex.EncodeToString(mac.Sum(nil)[:8]), Choice: c.Choice, Weight: w, Ranking: c.Ranking})
	}
	// Order by pseudonym, so nothing about the order of casting reaches
	// the plugin or its result.
	sort.Slice(in.Votes, func(i, j int) bool { return in.Votes[i].Voter < in.Votes[j].Voter })
	return in, nil
}

// quorum converts the rules' quorum shares into the absolute figures of
// the tally input: units rounded up, weight exact.
func quorum(r *Rules, units int64, eligible *big.Rat) (int64, sdk.Rational, error) {
	var head int64
	var weight sdk.Rational
	if r.QuorumHead != "" {
		share, err := ParseWeight(r.QuorumHead)
		if err != nil {
			return 0, weight, err
		}
		q := new(big.Rat).Mul(share.Rat(), new(big.Rat).SetInt64(units))
		n := new(big.Int).Quo(q.Num(), q.Denom())
		if new(big.Rat).SetInt(n).Cmp(q) < 0 {
			n.Add(n, big.NewInt(1))
		}
		head = n.Int64()
	}
	if r.QuorumWeight != "" {
		share, err := ParseWeight(r.QuorumWeight)
		if err != nil {
			return 0, weight, err
		}
		if weight, err = rational(new(big.Rat).Mul(share.Rat(), eligible)); err != nil {
			return 0, weight, err
		}
	}
	return head, weight, nil
}

// rational converts an exact weight to the plugin interface's int64
// rational, refusing what does not fit rather than rounding.
func rational(r *big.Rat) (sdk.Rational, error) {
	if !r.Num().IsInt64() || !r.Denom().IsInt64() {
		return sdk.Rational{}, fmt.Errorf("%w: weight %s is too large to count exactly", ErrInvalid, r.RatString())
	}
	return sdk.Rational{Num: r.Num().Int64(), Den: r.Denom().Int64()}, nil
}
