package irv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Overvote rules (Config.Overvote). RCTab's names are accepted too.
const (
	// OvervoteExhaust exhausts a ballot at an overvoted rank (RCTab
	// "exhaustImmediately"). It is the default.
	OvervoteExhaust = "exhaust"
	// OvervoteSkip passes over an overvoted rank to the next one (RCTab
	// "alwaysSkipToNextRank").
	OvervoteSkip = "skip"
	// OvervoteExhaustIfMultiple exhausts a ballot at an overvoted rank
	// when several of the candidates marked there are still continuing
	// (RCTab "exhaustIfMultipleContinuing"). A ranking marks an overvote
	// with sdk.RankOvervote, which does not say whom the voter marked, so
	// the rule exhausts the ballot there like OvervoteExhaust.
	OvervoteExhaustIfMultiple = "exhaust_if_multiple_continuing"
)

// Duplicate rules (Config.Duplicates).
const (
	// DuplicatesSkip passes over a candidate ranked again (the default).
	DuplicatesSkip = "skip"
	// DuplicatesExhaust exhausts a ballot at a candidate ranked again
	// (RCTab's exhaustOnDuplicateCandidate).
	DuplicatesExhaust = "exhaust"
)

// Config is an instant-runoff ballot's method configuration, the JSON of
// sdk.TallyInput.Config. The zero value is plain instant runoff: overvotes
// exhaust, skipped ranks and duplicates are passed over, one candidate is
// excluded per round, and ties no earlier round separates are left to
// people.
type Config struct {
	// Overvote is OvervoteExhaust (also when empty), OvervoteSkip or
	// OvervoteExhaustIfMultiple, or RCTab's exhaustImmediately,
	// alwaysSkipToNextRank or exhaustIfMultipleContinuing.
	Overvote string `json:"overvote,omitempty"`
	// MaxSkippedRanks is the most consecutive skipped ranks a ballot may
	// hold before its next mark; more exhaust it. Nil or -1: unlimited.
	MaxSkippedRanks *int `json:"max_skipped_ranks,omitempty"`
	// MaxRankings is the most ranks read from a ballot; later ranks are
	// ignored. 0: all.
	MaxRankings int `json:"max_rankings,omitempty"`
	// Duplicates is DuplicatesSkip (also when empty) or DuplicatesExhaust.
	Duplicates string `json:"duplicates,omitempty"`
	// BatchElimination excludes together all the lowest candidates whose
	// combined votes are fewer than the votes of the next candidate up, as
	// RCTab does, when that is more than one candidate.
	BatchElimination bool `json:"batch_elimination,omitempty"`
	// MinimumVoteThreshold excludes, together, every candidate with fewer
	// votes; 0 for none.
	MinimumVoteThreshold int64 `json:"minimum_vote_threshold,omitempty"`
	// ContinueUntilTwoRemain goes on excluding until two candidates are
	// left, even when one already has a majority.
	ContinueUntilTwoRemain bool `json:"continue_until_two_remain,omitempty"`
	// UndeclaredWriteIn is the option id standing for write-ins nobody
	// declared; it is excluded on its own, before anyone else, in the
	// first round it holds votes (as RCTab does).
	UndeclaredWriteIn string `json:"undeclared_write_in,omitempty"`
	// Seed, when set, lets ties that no earlier round separates be broken
	// by lots drawn from it (ranked.Lots); the seed is written in the
	// count's notes so that anyone can repeat the draw. Without a seed
	// such ties end the count with sdk.DecisionTie.
	Seed *string `json:"seed,omitempty"`
}

// ErrConfig is wrapped by the errors of ParseConfig and Config.Validate.
var ErrConfig = errors.New("irv: bad config")

// ParseConfig decodes and checks a ballot's configuration; nil or empty
// is the zero Config. Unknown fields are refused, so that a misspelt rule
// does not silently count differently.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("%w: data after the JSON object", ErrConfig)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// overvoteRule returns the rule's canonical name, or "" when unknown.
func overvoteRule(s string) string {
	switch s {
	case "", OvervoteExhaust, "exhaustImmediately":
		return OvervoteExhaust
	case OvervoteSkip, "alwaysSkipToNextRank":
		return OvervoteSkip
	case OvervoteExhaustIfMultiple, "exhaustIfMultipleContinuing":
		return OvervoteExhaustIfMultiple
	}
	return ""
}

// ConfigProblem is one field of a Config that cannot be used.
type ConfigProblem struct {
	Field, Message string
}

// Problems lists what is wrong with c, by JSON field name.
func (c *Config) Problems() []ConfigProblem {
	var ps []ConfigProblem
	if overvoteRule(c.Overvote) == "" {
		ps = append(ps, ConfigProblem{"overvote", fmt.Sprintf("unknown overvote rule %q: use exhaust, skip or exhaust_if_multiple_continuing", c.Overvote)})
	}
	if c.MaxSkippedRanks != nil && *c.MaxSkippedRanks < -1 {
		ps = append(ps, ConfigProblem{"max_skipped_ranks", fmt.Sprintf("%d: use -1 for unlimited or a number from 0", *c.MaxSkippedRanks)})
	}
	if c.MaxRankings < 0 {
		ps = append(ps, ConfigProblem{"max_rankings", fmt.Sprintf("%d: use 0 for all or a positive number", c.MaxRankings)})
	}
	switch c.Duplicates {
	case "", DuplicatesSkip, DuplicatesExhaust:
	default:
		ps = append(ps, ConfigProblem{"duplicates", fmt.Sprintf("unknown duplicate rule %q: use skip or exhaust", c.Duplicates)})
	}
	if c.MinimumVoteThreshold < 0 {
		ps = append(ps, ConfigProblem{"minimum_vote_threshold", "cannot be negative"})
	}
	return ps
}

// Validate returns an error wrapping ErrConfig naming c's first problem.
func (c *Config) Validate() error {
	if ps := c.Problems(); len(ps) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrConfig, ps[0].Field, ps[0].Message)
	}
	return nil
}

// maxSkipped returns the limit of consecutive skipped ranks, -1 for none.
func (c *Config) maxSkipped() int {
	if c.MaxSkippedRanks == nil {
		return -1
	}
	return *c.MaxSkippedRanks
}
