package voting

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Turnout is who has taken part in a ballot so far, with its quorum.
type Turnout struct {
	EligibleUnits  int64
	EligibleWeight Weight
	VotedUnits     int64
	VotedWeight    Weight
	// ByChannel counts vote records per channel.
	ByChannel map[string]int64
	// QuorumUnits and QuorumWeight are what the quorum needs (zero: no
	// quorum of that kind).
	QuorumUnits  int64
	QuorumWeight Weight
	// QuorumMet is true when every quorum set is reached.
	QuorumMet bool
}

// Share returns part/whole as a percentage with one decimal, for display.
func Share(part, whole *big.Rat) string {
	if whole.Sign() == 0 {
		return "0.0"
	}
	q := new(big.Rat).Quo(part, whole)
	return q.Mul(q, big.NewRat(100, 1)).FloatString(1)
}

// Turnout returns the ballot's participation and quorum progress.
func (s *Ballots) Turnout(ctx context.Context, tenantID, ballotID string) (*Turnout, error) {
	t := &Turnout{ByChannel: map[string]int64{}}
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		var rights []right
		if err := tx.Select(&rights).Where("ballot_id = ?", ballotID).Scan(ctx); err != nil {
			return fmt.Errorf("read rights: %w", err)
		}
		var votes []Vote
		if err := tx.Select(&votes).Column("unit_id", "channel").Where("ballot_id = ?", ballotID).Scan(ctx); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		voted := map[string]bool{}
		for _, v := range votes {
			voted[v.UnitID] = true
			t.ByChannel[v.Channel]++
		}
		eligible, cast := new(big.Rat), new(big.Rat)
		for _, r := range rights {
			eligible.Add(eligible, r.Weight.Rat())
			if voted[r.UnitID] {
				t.VotedUnits++
				cast.Add(cast, r.Weight.Rat())
			}
		}
		t.EligibleUnits = int64(len(rights))
		t.EligibleWeight, t.VotedWeight = weightOf(eligible), weightOf(cast)
		head, _, err := quorum(&b.Rules, t.EligibleUnits, eligible)
		if err != nil {
			return err
		}
		t.QuorumUnits = head
		t.QuorumWeight = weightOf(new(big.Rat))
		t.QuorumMet = t.VotedUnits >= head
		if b.Rules.QuorumWeight != "" {
			share, err := ParseWeight(b.Rules.QuorumWeight)
			if err != nil {
				return err
			}
			need := new(big.Rat).Mul(share.Rat(), eligible)
			t.QuorumWeight = weightOf(need)
			t.QuorumMet = t.QuorumMet && cast.Cmp(need) >= 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func weightOf(r *big.Rat) Weight {
	var w Weight
	w.r.Set(r)
	return w
}

// Participation is one unit's part in a ballot, as officers see it: who
// voted through which channel, never what (a secret ballot's choices stay
// sealed).
type Participation struct {
	UnitID string
	Label  string
	// Records are the unit's vote records, earliest first.
	Records []RecordInfo
}

// RecordInfo describes one vote record without its choice.
type RecordInfo struct {
	VoteID   string
	Channel  string
	CastBy   string
	CastAt   time.Time
	Revision int
	HasScan  bool
}

// Participants lists every eligible unit with its vote records.
func (s *Ballots) Participants(ctx context.Context, tenantID, ballotID string) ([]Participation, error) {
	var out []Participation
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		var units []Unit
		if err := tx.Select(&units).Where("id IN (SELECT unit_id FROM ballot_rights WHERE tenant_id = ? AND ballot_id = ?)", tenantID, ballotID).
			OrderExpr("label").Scan(ctx); err != nil {
			return fmt.Errorf("read units: %w", err)
		}
		var votes []Vote
		if err := tx.Select(&votes).Column("id", "unit_id", "channel", "cast_by", "cast_at", "revision", "scan_type").
			Where("ballot_id = ?", ballotID).OrderExpr("cast_at, id").Scan(ctx); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		by := map[string][]RecordInfo{}
		for _, v := range votes {
			by[v.UnitID] = append(by[v.UnitID], RecordInfo{VoteID: v.ID, Channel: v.Channel, CastBy: v.CastBy, CastAt: v.CastAt, Revision: v.Revision, HasScan: v.ScanType != ""})
		}
		for _, u := range units {
			out = append(out, Participation{UnitID: u.ID, Label: u.Label, Records: by[u.ID]})
		}
		return nil
	})
	return out, err
}

// OpenChoices returns each vote record's choice of an open (not secret)
// ballot, keyed by vote id; reading them is audited. A secret ballot's
// choices are never shown per unit.
func (s *Ballots) OpenChoices(ctx context.Context, tenantID, actor, ballotID string) (map[string]Choice, error) {
	out := map[string]Choice{}
	err := s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if b.Rules.Secret {
			return fmt.Errorf("%w: a secret ballot's choices are not shown", ErrState)
		}
		var votes []Vote
		if err := tx.Select(&votes).Where("ballot_id = ?", ballotID).Scan(ctx); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		for i := range votes {
			c, err := s.openChoice(ctx, tenantID, &votes[i])
			if err != nil {
				return err
			}
			out[votes[i].ID] = c
		}
		return s.record(ctx, tx, actor, "vote.read", "ballot:"+ballotID, map[string]string{"records": fmt.Sprint(len(votes))})
	})
	return out, err
}

// Entitlement is one unit a member may vote for on a ballot and what has
// happened there.
type Entitlement struct {
	Unit Unit
	// Proxy is true when the member holds a proxy for the unit rather
	// than owning it.
	Proxy bool
	// Voted is true when the unit has a vote on the member's channel
	// (online for owners, proxy for proxies).
	Voted bool
	// Mine is true when the member cast that vote; Receipt is then theirs.
	Mine     bool
	Receipt  string
	CastAt   time.Time
	Revision int
}

// Entitlements returns the units userID may vote for on the ballot:
// eligible units they own and units they hold a proxy for.
func (s *Ballots) Entitlements(ctx context.Context, tenantID, ballotID, userID string) ([]Entitlement, error) {
	var out []Entitlement
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		// Step by step, each query on its index: the user's units, those
		// with a right on this ballot, then the units themselves.
		var mine, eligible []string
		if err := tx.Select((*ownerRow)(nil)).Column("unit_id").Where("user_id = ?", userID).Scan(ctx, &mine); err != nil {
			return fmt.Errorf("read ownership: %w", err)
		}
		var units []Unit
		if len(mine) > 0 {
			if err := tx.Select((*right)(nil)).Column("unit_id").Where("ballot_id = ?", ballotID).Where("unit_id IN (?)", bun.In(mine)).Scan(ctx, &eligible); err != nil {
				return fmt.Errorf("read rights: %w", err)
			}
		}
		if len(eligible) > 0 {
			if err := tx.Select(&units).Where("id IN (?)", bun.In(eligible)).OrderExpr("label").Scan(ctx); err != nil {
				return fmt.Errorf("read units: %w", err)
			}
		}
		owned := map[string]bool{}
		for _, u := range units {
			owned[u.ID] = true
			out = append(out, Entitlement{Unit: u})
		}
		var proxies []Proxy
		q := tx.Select(&proxies).Where("holder = ?", userID).Where("revoked_at IS NULL").
			Where("EXISTS (SELECT 1 FROM unit_owners o WHERE o.tenant_id = ? AND o.unit_id = ?TableAlias.unit_id AND o.user_id = ?TableAlias.grantor)", tenantID)
		if b.Rules.Meeting != "" {
			q = q.Where("ballot_id = ? OR meeting = ?", b.ID, b.Rules.Meeting)
		} else {
			q = q.Where("ballot_id = ?", b.ID)
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("read proxies: %w", err)
		}
		for _, p := range proxies {
			if owned[p.UnitID] {
				continue
			}
			u := new(Unit)
			if err := tx.Select(u).Where("id = ?", p.UnitID).
				Where("id IN (SELECT unit_id FROM ballot_rights WHERE tenant_id = ? AND ballot_id = ?)", tenantID, ballotID).Scan(ctx); err != nil {
				continue // not eligible on this ballot
			}
			owned[p.UnitID] = true
			out = append(out, Entitlement{Unit: *u, Proxy: true})
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]string, len(out))
		for i := range out {
			ids[i] = out[i].Unit.ID
		}
		var votes []Vote
		if err := tx.Select(&votes).Column("unit_id", "channel", "cast_by", "cast_at", "receipt", "revision").Where("ballot_id = ?", ballotID).
			Where("unit_id IN (?)", bun.In(ids)).Where("channel <> ?", ChannelPaper).Scan(ctx); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		for i := range out {
			e := &out[i]
			ch := ChannelOnline
			if e.Proxy {
				ch = ChannelProxy
			}
			for _, v := range votes {
				if v.UnitID != e.Unit.ID || v.Channel != ch {
					continue
				}
				e.Voted, e.Mine, e.CastAt = true, v.CastBy == userID, v.CastAt
				if e.Mine {
					e.Receipt, e.Revision = v.Receipt, v.Revision
				}
			}
		}
		return nil
	})
	return out, err
}

// Receipts returns the receipt codes of the online and proxy votes that
// were counted, sorted; only once the result is published.
func (s *Ballots) Receipts(ctx context.Context, tenantID, ballotID string) ([]string, error) {
	var out []string
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if b.State != StatePublished {
			return fmt.Errorf("%w: receipts are listed once the result is published", ErrState)
		}
		var votes []Vote
		if err := tx.Select(&votes).Column("id", "unit_id", "receipt").Where("ballot_id = ?", ballotID).Where("receipt IS NOT NULL").Scan(ctx); err != nil {
			return fmt.Errorf("read receipts: %w", err)
		}
		var decided []Resolution
		if err := tx.Select(&decided).Where("ballot_id = ?", ballotID).Scan(ctx); err != nil {
			return fmt.Errorf("read decisions: %w", err)
		}
		decision := map[string]Resolution{}
		for _, d := range decided {
			decision[d.UnitID] = d
		}
		for _, v := range votes {
			if d, ok := decision[v.UnitID]; ok && (d.Status != Counted || d.VoteID != v.ID) {
				continue
			}
			out = append(out, v.Receipt)
		}
		sort.Strings(out)
		return nil
	})
	return out, err
}

// NonVoters returns the owners (user ids) of eligible units that have no
// vote record yet, for reminders.
func (s *Ballots) NonVoters(ctx context.Context, tenantID, ballotID string) ([]string, error) {
	var out []string
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select((*ownerRow)(nil)).ColumnExpr("DISTINCT user_id").
			Where("unit_id IN (SELECT unit_id FROM ballot_rights WHERE tenant_id = ? AND ballot_id = ?)", tenantID, ballotID).
			Where("unit_id NOT IN (SELECT unit_id FROM votes WHERE tenant_id = ? AND ballot_id = ?)", tenantID, ballotID).
			OrderExpr("user_id").Scan(ctx, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("non-voters: %w", err)
	}
	return out, nil
}

// Reminded records that reminders were sent to the owners of units that
// had not voted.
func (s *Ballots) Reminded(ctx context.Context, tenantID, actor, ballotID string, sent int) {
	_ = s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		return s.record(ctx, tx, actor, "ballot.remind", "ballot:"+ballotID, map[string]string{"sent": fmt.Sprint(sent)})
	})
}

// Exported records that a ballot's result was exported.
func (s *Ballots) Exported(ctx context.Context, tenantID, actor, ballotID string) {
	_ = s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		return s.record(ctx, tx, actor, "ballot.export", "ballot:"+ballotID, nil)
	})
}

// DueReminders claims the tenant's open ballots that close within lead
// and have had no scheduled reminder yet, marking them reminded, and
// returns them; the caller sends the reminders. A ballot opened less than
// lead before its close gets none (its voters were just told).
func (s *Ballots) DueReminders(ctx context.Context, tenantID string, lead time.Duration) ([]Ballot, error) {
	now := s.stamp()
	var due []Ballot
	err := s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		var open []Ballot
		if err := tx.Select(&open).Where("state = ?", StateOpen).Where("reminded_at IS NULL").
			Where("closes_at > ?", now).Where("closes_at <= ?", now.Add(lead)).Scan(ctx); err != nil {
			return fmt.Errorf("due reminders: %w", err)
		}
		for _, b := range open {
			if b.ClosesAt.Sub(b.OpenedAt) <= lead {
				continue
			}
			res, err := tx.Update((*Ballot)(nil)).Set("reminded_at = ?", now).Where("id = ?", b.ID).Where("reminded_at IS NULL").Exec(ctx)
			if err != nil {
				return fmt.Errorf("mark reminded: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := b.decode(); err != nil {
					return err
				}
				due = append(due, b)
			}
		}
		return nil
	})
	return due, err
}

// CastVote is a vote record a member cast, for their own data export.
type CastVote struct {
	Ballot   string    `json:"ballot"`
	Title    string    `json:"ballot_title"`
	Unit     string    `json:"unit"`
	Channel  string    `json:"channel"`
	CastAt   time.Time `json:"cast_at"`
	Revision int       `json:"revision"`
	Receipt  string    `json:"receipt,omitempty"`
	// Choice is shown for open ballots only: a secret ballot's choice is
	// kept sealed even from an export, so that no file can prove how
	// someone voted.
	Choice *Choice `json:"choice,omitempty"`
}

// VotesBy returns the vote records userID cast (online, as proxy, or
// entered on paper as an officer), oldest first.
func (s *Ballots) VotesBy(ctx context.Context, tenantID, userID string) ([]CastVote, error) {
	var out []CastVote
	err := s.tx(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		var votes []Vote
		if err := tx.Select(&votes).Where("cast_by = ?", userID).OrderExpr("cast_at, id").Limit(100_000).Scan(ctx); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		ballots := map[string]*Ballot{}
		labels := map[string]string{}
		for i := range votes {
			v := &votes[i]
			b, ok := ballots[v.BallotID]
			if !ok {
				var err error
				if b, err = s.get(ctx, tx, v.BallotID); err != nil {
					return err
				}
				ballots[v.BallotID] = b
			}
			if _, ok := labels[v.UnitID]; !ok {
				var l []string
				if err := tx.Select((*Unit)(nil)).Column("label").Where("id = ?", v.UnitID).Scan(ctx, &l); err != nil {
					return fmt.Errorf("read unit: %w", err)
				}
				labels[v.UnitID] = strings.Join(l, "")
			}
			cv := CastVote{Ballot: b.ID, Title: b.Title, Unit: labels[v.UnitID], Channel: v.Channel, CastAt: v.CastAt, Revision: v.Revision, Receipt: v.Receipt}
			if !b.Rules.Secret {
				c, err := s.openChoice(ctx, tenantID, v)
				if err != nil {
					return err
				}
				cv.Choice = &c
			}
			out = append(out, cv)
		}
		return nil
	})
	return out, err
}
