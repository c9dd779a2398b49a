// Package stv counts elections by the single transferable vote (STV):
// ranked ballots, a quota, surpluses of elected candidates and the votes
// of excluded candidates transferred at reduced value until every seat is
// filled.
//
// Count reads a tally hook's input; a Stream counts votes as a decoder
// delivers them (sdk.TallyInput.ReadWireEach) without holding them;
// CountProfile counts a ranked.Profile directly. The method is chosen by the ballot's configuration (Config,
// JSON in sdk.TallyInput.Config):
//
//   - "scottish" (the default): the Scottish Local Government Elections
//     Order 2007 (SSI 2007/42), rules 45 to 52. The quota is
//     floor(valid papers / (seats + 1)) + 1. All papers of an elected
//     candidate whose votes exceed the quota are transferred (weighted
//     inclusive Gregory method), each at transfer value
//     surplus × value of the paper / candidate's votes, truncated to five
//     decimal places; the largest surplus first. When no surplus is to be
//     transferred the candidate with the fewest votes is excluded and all
//     their papers pass on at their current value. Ties (equal surpluses,
//     equal lowest votes) go to the most recent earlier stage at which the
//     candidates' votes differed, and failing that to lots. When the
//     continuing candidates are no more than the vacancies left they are
//     all elected and nothing more is transferred. Arithmetic is exact
//     fixed point: integers in units of 10^-5 votes.
//   - "minneapolis": the Minneapolis STV rule (Minneapolis Code of
//     Ordinances 167, as Droop's "mpls" rule counts it): the same quota;
//     a surplus fraction surplus / votes truncated to four decimals, each
//     paper's value multiplied by it (truncated). Each round first elects
//     when the candidates at the quota, or all hopeful candidates, fill
//     the seats left; else defeats together the candidates mathematically
//     impossible to elect (the lowest, whose votes with every surplus are
//     fewer than the next candidate's); else elects the candidate with
//     the most votes at the quota and transfers their surplus; else
//     defeats the lowest. Ties are broken by lot.
//   - "rctab": RCTab's multi-winner rule with several winners per round,
//     as in its 2013 Minneapolis Park Board configuration: the Minneapolis
//     transfer arithmetic; a round that elects candidates transfers all
//     their surpluses and excludes nobody, other rounds exclude the one
//     lowest candidate; overvotes skipped; ties broken by lot.
//   - "meek": Meek's method as the PR Foundation's reference rule states
//     it: every candidate keeps a share (keep factor) of each vote that
//     reaches them and passes the rest on; the keep factors of elected
//     candidates are lowered until their surpluses fall below 10^-6; the
//     quota is recomputed from the votes not exhausted; the lowest
//     candidate is defeated (candidates within the total surplus of the
//     lowest count as tied, and lots decide). Fixed point with nine
//     decimals by default, rounding keeps and keep factors up.
//
// The output's Rounds are the stages of the count: each Round's Counts
// are the candidates' votes at its start (Count.Weight the exact value,
// Count.Votes the papers held), then who was elected or excluded in it,
// the value transferred to each candidate (To "" for value that became
// non-transferable) and a Note explaining the transfer value, the
// exclusion or a tie. A Meek count transfers nothing as such: its Notes
// give the quota and keep factors. Explanation summarises the method,
// quota and result, and lists every tie broken.
//
// # Notes
//
// Decimals changes the number of decimal places of the fixed-point
// arithmetic (at most 9); 0 keeps the variant's own. Seed seeds the lots
// (ranked.Lots) and defaults to the ballot id, so that anyone can repeat
// a count and its draws.
//
// A weighted ballot (sdk.Vote.Weight other than 1, when the ballot counts
// by weight) starts with a value equal to its weight instead of 1,
// truncated to the arithmetic's decimals; every transfer value is then
// computed from that value exactly as from 1. The quota is computed from
// the total value of the valid papers (those with a first preference):
// floor(total / (seats + 1)) + 1 when every paper is worth a whole
// number of votes (the statutory quota), and
// otherwise total / (seats + 1) truncated to the decimals plus one unit
// of the last decimal, which keeps the quota's defining property that no
// more candidates than seats can reach it.
//
// A rank marked sdk.RankSkipped is passed over. A rank marked
// sdk.RankOvervote ends the paper's usefulness (it becomes
// non-transferable there) under "scottish", "minneapolis" and "meek", and
// is passed over under "rctab" (RCTab's alwaysSkipToNextRank); the
// Overvote setting overrides this. A candidate ranked twice is counted
// at the first mark: later marks are never reached while the candidate
// continues.
//
// Nothing here uses floating point: vote values are integers of the
// smallest decimal unit (10^-decimals), multiplied and divided through
// 128-bit intermediates, and every sdk.Count.Weight and Transfer.Value
// in the output is the exact value as an sdk.Rational.
package stv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/plugins/count/ranked"
	"github.com/plenum-vote/plenum/sdk"
)

// Variants of STV (Config.Variant).
const (
	// Scottish is the Scottish Local Government Elections Order 2007.
	Scottish = "scottish"
	// Minneapolis is the Minneapolis STV ordinance, with batch defeats.
	Minneapolis = "minneapolis"
	// RCTab is RCTab's multi-winner rule allowing several winners per
	// round.
	RCTab = "rctab"
	// Meek is Meek's method.
	Meek = "meek"
)

// Overvote treatments (Config.Overvote).
const (
	// OvervoteExhaust makes a paper non-transferable at an overvoted rank.
	OvervoteExhaust = "exhaust"
	// OvervoteSkip passes over an overvoted rank to the next one.
	OvervoteSkip = "skip"
)

// MaxDecimals is the most decimal places of fixed-point arithmetic.
const MaxDecimals = 9

// ErrConfig is wrapped by every error about a configuration.
var ErrConfig = errors.New("stv: bad configuration")

// Config is an STV ballot's method configuration, as JSON in
// sdk.TallyInput.Config and sdk.ValidateBallotInput.Config. The zero
// value is the Scottish rule.
type Config struct {
	// Variant is "scottish" (also when empty), "minneapolis", "rctab" or
	// "meek".
	Variant string `json:"variant,omitempty"`
	// Decimals is the number of decimal places of the arithmetic, 1 to
	// MaxDecimals; 0 keeps the variant's (5 Scottish, 4 Minneapolis and
	// RCTab, 9 Meek).
	Decimals int `json:"decimals,omitempty"`
	// Seed seeds the drawing of lots; empty means the ballot id.
	Seed string `json:"seed,omitempty"`
	// Overvote is "exhaust" or "skip"; empty keeps the variant's.
	Overvote string `json:"overvote,omitempty"`
}

// ParseConfig decodes and validates a configuration. Empty input (nil,
// "null" or "{}") is the zero Config; unknown fields are refused.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		d := json.NewDecoder(bytes.NewReader(t))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if d.More() {
			return Config{}, fmt.Errorf("%w: data after the JSON object", ErrConfig)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports the first problem of c, wrapping ErrConfig.
func (c Config) Validate() error {
	switch c.Variant {
	case "", Scottish, Minneapolis, RCTab, Meek:
	default:
		return fmt.Errorf("%w: unknown variant %q: use scottish, minneapolis, rctab or meek", ErrConfig, c.Variant)
	}
	if c.Decimals < 0 || c.Decimals > MaxDecimals {
		return fmt.Errorf("%w: decimals %d: use 1 to %d, or 0 for the variant's", ErrConfig, c.Decimals, MaxDecimals)
	}
	switch c.Overvote {
	case "", OvervoteExhaust, OvervoteSkip:
	default:
		return fmt.Errorf("%w: overvote %q: use exhaust or skip", ErrConfig, c.Overvote)
	}
	if len(c.Seed) > 1024 {
		return fmt.Errorf("%w: seed longer than 1024 bytes", ErrConfig)
	}
	return nil
}

// resolved returns c with the variant's defaults filled in.
func (c Config) resolved() Config {
	if c.Variant == "" {
		c.Variant = Scottish
	}
	if c.Decimals == 0 {
		switch c.Variant {
		case Scottish:
			c.Decimals = 5
		case Meek:
			c.Decimals = 9
		default:
			c.Decimals = 4
		}
	}
	if c.Overvote == "" {
		c.Overvote = OvervoteExhaust
		if c.Variant == RCTab {
			c.Overvote = OvervoteSkip
		}
	}
	return c
}

// Count counts an election's ranked votes by STV under the ballot's
// configuration (see the package documentation) and returns the elected
// candidates in order of election with every stage of the count. Votes
// count by head unless the ballot counts by weight (sdk.CountWeight);
// counting both ways is refused. When fewer voters (or less weight) took
// part than the quorum the decision is sdk.DecisionNoQuorum and nothing
// is counted. Count is NewStream, Add for each vote and Result.
func Count(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	s, err := NewStream(in)
	if err != nil {
		return nil, err
	}
	for i := range in.Votes {
		if err := s.Add(&in.Votes[i]); err != nil {
			return nil, err
		}
	}
	return s.Result()
}

// CountProfile counts p under cfg. It checks cfg, p's seats (at least 1)
// and its ballots' candidate indexes before counting.
func CountProfile(p *ranked.Profile, cfg Config) (*sdk.TallyOutput, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.resolved()
	if p == nil {
		return nil, errors.New("stv: no profile")
	}
	n := len(p.Candidates)
	if p.Seats < 1 {
		return nil, fmt.Errorf("stv: %d seats: an election fills at least one", p.Seats)
	}
	if p.Seats > n {
		return nil, fmt.Errorf("stv: %d seats for %d candidates", p.Seats, n)
	}
	for i, b := range p.Ballots {
		if b.Count < 0 {
			return nil, fmt.Errorf("stv: ballot %d: negative count %d", i+1, b.Count)
		}
		if !b.Weight.Valid() || b.Weight.Sign() < 0 {
			return nil, fmt.Errorf("stv: ballot %d: bad weight %v", i+1, b.Weight)
		}
		for _, r := range b.Ranks {
			if r >= int32(n) || r < 0 && r != ranked.Overvote && r != ranked.Skipped {
				return nil, fmt.Errorf("stv: ballot %d: rank %d is no candidate (there are %d)", i+1, r, n)
			}
		}
	}
	if cfg.Variant == Meek {
		return countMeek(p, cfg)
	}
	return countWIGM(p, cfg)
}
