package voting

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/sdk"
)

// Channels a vote arrives through.
const (
	ChannelOnline = "online"
	ChannelPaper  = "paper"
	ChannelProxy  = "proxy"
)

// MaxScanBytes bounds a scanned paper ballot.
const MaxScanBytes = 10 << 20

// Choice is what a voter chose: a motion's choice, or an election's
// marked or ranked candidates, most preferred first.
type Choice struct {
	Choice  string   `json:"choice,omitempty"`
	Ranking []string `json:"ranking,omitempty"`
}

// Check validates the choice against the ballot's rules: a known motion
// choice; known candidates, none twice, no more than the rules allow.
func (c *Choice) Check(r *Rules) error {
	switch r.Kind {
	case Motion:
		if c.Choice != sdk.ChoiceYes && c.Choice != sdk.ChoiceNo && c.Choice != sdk.ChoiceAbstain {
			return fmt.Errorf("%w: choose for, against or abstain", ErrInvalid)
		}
		c.Ranking = nil
	case Election:
		c.Choice = ""
		if len(c.Ranking) == 0 {
			return fmt.Errorf("%w: mark at least one candidate (or abstain by not voting)", ErrInvalid)
		}
		if len(c.Ranking) > r.Marks() {
			return fmt.Errorf("%w: at most %d candidates may be marked", ErrInvalid, r.Marks())
		}
		seen := map[string]bool{}
		for _, id := range c.Ranking {
			if _, ok := r.Option(id); !ok {
				return fmt.Errorf("%w: unknown candidate", ErrInvalid)
			}
			if seen[id] {
				return fmt.Errorf("%w: a candidate is marked twice", ErrInvalid)
			}
			seen[id] = true
		}
	}
	return nil
}

// Vote is a stored vote record; Choice and Source are sealed.
type Vote struct {
	bun.BaseModel `bun:"table:votes"`
	store.Owned
	ID       string    `bun:"id,pk"`
	BallotID string    `bun:"ballot_id,notnull"`
	UnitID   string    `bun:"unit_id,notnull"`
	Channel  string    `bun:"channel,notnull"`
	CastBy   string    `bun:"cast_by,notnull"`
	CastAt   time.Time `bun:"cast_at,notnull"`
	Revision int       `bun:"revision,notnull"`
	Choice   []byte    `bun:"choice,notnull"`
	Source   []byte    `bun:"source"`
	Receipt  string    `bun:"receipt,nullzero"`
	Scan     []byte    `bun:"scan"`
	ScanType string    `bun:"scan_type,nullzero"`
}

// CastRequest is an online or proxy vote.
type CastRequest struct {
	BallotID string
	UnitID   string
	// UserID is the member casting: an owner of the unit, or the holder of
	// a proxy for it.
	UserID string
	Choice Choice
	// Source says where the vote came from (address and client), sealed.
	Source string
}

// Receipt is what an online voter keeps: a code that will be listed among
// the counted receipts once the result is published.
type Receipt struct {
	// Unit is the label of the unit the vote is for.
	Unit     string
	Code     string
	VoteID   string
	CastAt   time.Time
	Channel  string
	Revision int
}

func choiceAD(tenantID, id string) []byte { return []byte("votes.choice:" + tenantID + ":" + id) }
func sourceAD(tenantID, id string) []byte { return []byte("votes.source:" + tenantID + ":" + id) }
func scanAD(tenantID, id string) []byte   { return []byte("votes.scan:" + tenantID + ":" + id) }

// newReceipt returns 80 random bits as four groups of four base32
// letters.
func newReceipt() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	s := base32.StdEncoding.EncodeToString(b[:])
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16], nil
}

// NormalizeReceipt puts a receipt code as typed into its canonical form.
func NormalizeReceipt(s string) string {
	s = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s))
	if len(s) != 16 {
		return ""
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// Cast records an online vote (or a proxy's, when the user holds a proxy
// for the unit rather than owning it) and returns its receipt. The unit's
// voting right is consumed in the same transaction as the vote is stored:
// a second online vote for the unit is refused (or, when the rules let
// votes change, replaces the first).
//
// Votes arriving together are written together: the batcher runs each in
// a savepoint of one transaction with one audit append for all, so a
// refused vote changes nothing and the others still commit, and the
// result is returned only once the transaction has committed.
func (s *Ballots) Cast(ctx context.Context, tenantID string, req CastRequest) (*Receipt, error) {
	return s.batch.submit(ctx, tenantID, req)
}

// cast checks and stores one vote in tx and returns its receipt and the
// audit event to append.
func (s *Ballots) cast(ctx context.Context, tx *store.Tx, b *Ballot, req CastRequest, now time.Time) (*Receipt, audit.Event, error) {
	if !b.Accepting(now) {
		return nil, audit.Event{}, fmt.Errorf("%w: the ballot is not open for voting now", ErrState)
	}
	if err := req.Choice.Check(&b.Rules); err != nil {
		return nil, audit.Event{}, err
	}
	channel, label, err := s.channelFor(ctx, tx, b, req.UnitID, req.UserID, now)
	if err != nil {
		return nil, audit.Event{}, err
	}
	rc, ev, err := s.store(ctx, tx, b, channel, req, now)
	if rc != nil {
		rc.Unit = label
	}
	return rc, ev, err
}

// channelFor says how userID may vote for unitID: online as an owner, or
// as a proxy.
func (s *Ballots) channelFor(ctx context.Context, tx *store.Tx, b *Ballot, unitID, userID string, now time.Time) (string, string, error) {
	// One query checks ownership and reads the label.
	var labels []string
	if err := tx.Select((*Unit)(nil)).Column("label").Where("id = ?", unitID).
		Where("id IN (SELECT unit_id FROM unit_owners WHERE tenant_id = ? AND user_id = ?)", tx.TenantID(), userID).Scan(ctx, &labels); err != nil {
		return "", "", fmt.Errorf("read ownership: %w", err)
	}
	if len(labels) == 1 {
		return ChannelOnline, labels[0], nil
	}
	ok, err := s.holdsProxy(ctx, tx, b, unitID, userID)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", ErrNotEligible
	}
	if err := tx.Select((*Unit)(nil)).Column("label").Where("id = ?", unitID).Scan(ctx, &labels); err != nil || len(labels) != 1 {
		return "", "", fmt.Errorf("read unit: %w", err)
	}
	return ChannelProxy, labels[0], nil
}

func (s *Ballots) store(ctx context.Context, tx *store.Tx, b *Ballot, channel string, req CastRequest, now time.Time) (*Receipt, audit.Event, error) {
	var none audit.Event
	// The right: only one transaction can set online_at for the unit.
	if channel == ChannelOnline {
		res, err := tx.Update((*right)(nil)).Set("online_at = ?", now).
			Where("ballot_id = ?", b.ID).Where("unit_id = ?", req.UnitID).Where("online_at IS NULL").Exec(ctx)
		if err != nil {
			return nil, none, fmt.Errorf("voting right: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return s.change(ctx, tx, b, channel, req, now)
		}
	} else {
		if err := s.hasRight(ctx, tx, b.ID, req.UnitID); err != nil {
			return nil, none, err
		}
		// Look before inserting: on PostgreSQL a failed insert would spoil
		// the rest of the transaction.
		n, err := tx.Select((*Vote)(nil)).Where("ballot_id = ?", b.ID).Where("unit_id = ?", req.UnitID).Where("channel = ?", channel).Count(ctx)
		if err != nil {
			return nil, none, fmt.Errorf("read vote: %w", err)
		}
		if n > 0 {
			return s.change(ctx, tx, b, channel, req, now)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, none, fmt.Errorf("vote id: %w", err)
	}
	code, err := newReceipt()
	if err != nil {
		return nil, none, err
	}
	v := &Vote{ID: id.String(), BallotID: b.ID, UnitID: req.UnitID, Channel: channel, CastBy: req.UserID, CastAt: now, Revision: 1, Receipt: code}
	if err := s.seal(ctx, tx.TenantID(), v, req.Choice, req.Source); err != nil {
		return nil, none, err
	}
	if err := tx.Insert(ctx, v); err != nil {
		if store.IsUniqueViolation(err) {
			return nil, none, ErrAlreadyVoted
		}
		return nil, none, fmt.Errorf("store vote: %w", err)
	}
	ev := audit.Event{Actor: auditActor(req.UserID), Action: "vote.cast", Target: "ballot:" + b.ID, Outcome: audit.Success,
		Details: map[string]string{"unit": req.UnitID, "channel": channel, "vote": v.ID}}
	return &Receipt{Code: code, VoteID: v.ID, CastAt: now, Channel: channel, Revision: 1}, ev, nil
}

func (s *Ballots) hasRight(ctx context.Context, tx *store.Tx, ballotID, unitID string) error {
	n, err := tx.Select((*right)(nil)).Where("ballot_id = ?", ballotID).Where("unit_id = ?", unitID).Count(ctx)
	if err != nil {
		return fmt.Errorf("voting right: %w", err)
	}
	if n == 0 {
		return ErrNotEligible
	}
	return nil
}

// change replaces the unit's vote on the channel when the rules allow it.
func (s *Ballots) change(ctx context.Context, tx *store.Tx, b *Ballot, channel string, req CastRequest, now time.Time) (*Receipt, audit.Event, error) {
	var none audit.Event
	if err := s.hasRight(ctx, tx, b.ID, req.UnitID); err != nil {
		return nil, none, err
	}
	if !b.Rules.Changeable {
		return nil, none, ErrAlreadyVoted
	}
	old := new(Vote)
	if err := tx.Select(old).Where("ballot_id = ?", b.ID).Where("unit_id = ?", req.UnitID).Where("channel = ?", channel).Scan(ctx); err != nil {
		return nil, none, fmt.Errorf("read vote: %w", err)
	}
	// Only whoever cast a vote may change it: a co-owner or another proxy
	// may not overwrite it, nor learn its receipt.
	if old.CastBy != req.UserID {
		return nil, none, ErrAlreadyVoted
	}
	v := &Vote{ID: old.ID}
	if err := s.seal(ctx, tx.TenantID(), v, req.Choice, req.Source); err != nil {
		return nil, none, err
	}
	res, err := tx.Update((*Vote)(nil)).Set("choice = ?", v.Choice).Set("source = ?", v.Source).Set("cast_by = ?", req.UserID).
		Set("cast_at = ?", now).Set("revision = revision + 1").Where("id = ?", old.ID).Where("revision = ?", old.Revision).Exec(ctx)
	if err != nil {
		return nil, none, fmt.Errorf("change vote: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, none, fmt.Errorf("%w: the vote changed meanwhile; try again", ErrState)
	}
	ev := audit.Event{Actor: auditActor(req.UserID), Action: "vote.change", Target: "ballot:" + b.ID, Outcome: audit.Success,
		Details: map[string]string{"unit": req.UnitID, "channel": channel, "vote": old.ID}}
	return &Receipt{Code: old.Receipt, VoteID: old.ID, CastAt: now, Channel: channel, Revision: old.Revision + 1}, ev, nil
}

func (s *Ballots) seal(ctx context.Context, tenantID string, v *Vote, c Choice, source string) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode choice: %w", err)
	}
	if v.Choice, err = s.keys.Seal(ctx, tenantID, raw, choiceAD(tenantID, v.ID)); err != nil {
		return fmt.Errorf("seal choice: %w", err)
	}
	if source != "" {
		if v.Source, err = s.keys.Seal(ctx, tenantID, []byte(source), sourceAD(tenantID, v.ID)); err != nil {
			return fmt.Errorf("seal source: %w", err)
		}
	}
	return nil
}

func (s *Ballots) openChoice(ctx context.Context, tenantID string, v *Vote) (Choice, error) {
	var c Choice
	raw, err := s.keys.Open(ctx, tenantID, v.Choice, choiceAD(tenantID, v.ID))
	if err != nil {
		return c, fmt.Errorf("open vote %s: %w", v.ID, err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("decode vote %s: %w", v.ID, err)
	}
	return c, nil
}

// PaperRequest is a paper ballot entered by an officer.
type PaperRequest struct {
	BallotID string
	UnitID   string
	Choice   Choice
	// Scan is the scanned form (PDF, PNG or JPEG), optional.
	Scan []byte
}

// EnterPaper records a paper ballot for a unit, while the ballot is open
// or after it closed and before the tally. actor is the officer entering
// it (with the votes.enter_paper permission).
func (s *Ballots) EnterPaper(ctx context.Context, tenantID, actor string, req PaperRequest) (string, error) {
	scanType := ""
	if len(req.Scan) > 0 {
		if len(req.Scan) > MaxScanBytes {
			return "", fmt.Errorf("%w: a scan is at most %d MB", ErrInvalid, MaxScanBytes>>20)
		}
		switch scanType = http.DetectContentType(req.Scan); scanType {
		case "application/pdf", "image/png", "image/jpeg":
		default:
			return "", fmt.Errorf("%w: a scan is a PDF, PNG or JPEG file", ErrInvalid)
		}
	}
	var id string
	err := s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, req.BallotID)
		if err != nil {
			return err
		}
		if b.State != StateOpen && b.State != StateClosed {
			return fmt.Errorf("%w: paper ballots are entered while the ballot is open or closed, before the tally", ErrState)
		}
		if err := req.Choice.Check(&b.Rules); err != nil {
			return err
		}
		if err := s.hasRight(ctx, tx, b.ID, req.UnitID); err != nil {
			return err
		}
		vid, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("vote id: %w", err)
		}
		v := &Vote{ID: vid.String(), BallotID: b.ID, UnitID: req.UnitID, Channel: ChannelPaper, CastBy: actor, CastAt: s.stamp(), Revision: 1}
		if err := s.seal(ctx, tenantID, v, req.Choice, ""); err != nil {
			return err
		}
		if len(req.Scan) > 0 {
			if v.Scan, err = s.keys.Seal(ctx, tenantID, req.Scan, scanAD(tenantID, v.ID)); err != nil {
				return fmt.Errorf("seal scan: %w", err)
			}
			v.ScanType = scanType
		}
		if err := tx.Insert(ctx, v); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: a paper ballot for this unit is already entered", ErrAlreadyVoted)
			}
			return fmt.Errorf("store paper vote: %w", err)
		}
		id = v.ID
		return s.record(ctx, tx, actor, "vote.paper", "ballot:"+b.ID, map[string]string{"unit": req.UnitID, "vote": v.ID, "scan": fmt.Sprint(len(req.Scan) > 0)})
	})
	return id, err
}

// RemovePaper deletes a wrongly entered paper ballot before the tally.
func (s *Ballots) RemovePaper(ctx context.Context, tenantID, actor, ballotID, voteID string) error {
	return s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		b, err := s.get(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if b.State != StateOpen && b.State != StateClosed {
			return fmt.Errorf("%w: the ballot is tallied", ErrState)
		}
		res, err := tx.Delete((*Vote)(nil)).Where("id = ?", voteID).Where("ballot_id = ?", ballotID).Where("channel = ?", ChannelPaper).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove paper vote: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		return s.record(ctx, tx, actor, "vote.paper.remove", "ballot:"+ballotID, map[string]string{"vote": voteID})
	})
}

// Scan returns a paper vote's scanned form and its type; reading it is
// audited.
func (s *Ballots) Scan(ctx context.Context, tenantID, actor, ballotID, voteID string) ([]byte, string, error) {
	var data []byte
	var typ string
	err := s.tx(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		v := new(Vote)
		if err := tx.Select(v).Where("id = ?", voteID).Where("ballot_id = ?", ballotID).Where("scan IS NOT NULL").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("read scan: %w", err)
		}
		var err error
		if data, err = s.keys.Open(ctx, tenantID, v.Scan, scanAD(tenantID, v.ID)); err != nil {
			return fmt.Errorf("open scan: %w", err)
		}
		typ = v.ScanType
		return s.record(ctx, tx, actor, "vote.scan.read", "ballot:"+ballotID, map[string]string{"vote": voteID})
	})
	return data, typ, err
}
