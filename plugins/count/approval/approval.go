// Package approval counts elections by approval voting: each voter marks
// every option they approve of, each mark gives the option the voter's
// vote (or weight, counted by weight), and the options with the most
// approvals fill the seats. An optional quota requires an option to be
// approved by a share of the voters (or of everyone eligible) to be
// elected.
//
// An approval ballot is a plurality ballot on which a voter may mark
// every option once, so Count hands the ballot to plurality.Tally: the
// arithmetic is exact, the explanation states the figures, and a tie at
// the last seat is Decision "tie" unless the configuration's seed draws
// lots (plurality.Lots).
package approval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/sdk"
)

// Rule is the TallyInput.Rule of an approval ballot.
const Rule = "approval"

// Config is an approval ballot's method configuration: the JSON object in
// TallyInput.Config and ValidateBallotInput.Config.
type Config struct {
	// Quota, when set, is the share of approval an option needs (or must
	// exceed, when Strict) to be elected: a share of the turnout (the
	// voters who took part, by head or by weight), or of everyone
	// eligible when the ballot's basis is "eligible". {"num": 1, "den":
	// 2} elects only options approved by at least half of the voters.
	Quota *sdk.Threshold `json:"quota,omitempty"`
	// Seed, when set, breaks a tie at the last seat by lots
	// (plurality.Lots); without it such a tie is Decision "tie".
	Seed string `json:"seed,omitempty"`
}

// ErrInput is wrapped by the errors about a tally input that cannot be
// counted; they wrap plurality.ErrInput too.
var ErrInput = errors.New("approval: cannot count")

// ParseConfig decodes a configuration strictly (unknown keys are errors)
// and checks its values. Empty input and JSON null are the zero Config.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && string(raw) != "null" {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if d.More() {
			return Config{}, errors.New("config: data after the configuration object")
		}
	}
	if q := c.Quota; q != nil && (q.Den <= 0 || q.Num < 0 || q.Num > q.Den) {
		return Config{}, fmt.Errorf("config: quota %d/%d is not a share between 0 and 1", q.Num, q.Den)
	}
	if len(c.Seed) > plurality.MaxSeedBytes {
		return Config{}, fmt.Errorf("config: seed is longer than %d bytes", plurality.MaxSeedBytes)
	}
	return c, nil
}

// plurality returns the plurality configuration that counts approval
// ballots.
func (c Config) plurality() plurality.Config {
	return plurality.Config{Approval: true, Quota: c.Quota, Seed: c.Seed}
}

// Count counts an approval election. Each vote's Ranking is the set of
// options it approves; the reserved entries sdk.RankOvervote and
// sdk.RankSkipped approve nothing. A vote counts Vote.Count times (0
// meaning once). A vote that names an unknown option or approves one
// twice is an error naming its index in in.Votes. Seats 0 means one.
func Count(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	if in == nil {
		return nil, fmt.Errorf("%w: no input", ErrInput)
	}
	c, err := ParseConfig(in.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	out, err := plurality.Tally(in, c.plurality())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return out, nil
}

// Validate is the validate_ballot hook for approval ballots: the rule
// must be "approval", the configuration must parse (ParseConfig), and
// plurality.CheckBallot must find nothing.
func Validate(in *sdk.ValidateBallotInput) *sdk.ValidateBallotOutput {
	ps := []sdk.Problem{}
	if in.Rule != Rule {
		ps = append(ps, sdk.Problem{Field: "rule", Message: fmt.Sprintf("rule %q: this plugin counts %q", in.Rule, Rule)})
	}
	c, err := ParseConfig(in.Config)
	if err != nil {
		ps = append(ps, sdk.Problem{Field: "config", Message: err.Error()})
	}
	ps = append(ps, plurality.CheckBallot(in, c.plurality())...)
	return &sdk.ValidateBallotOutput{Valid: len(ps) == 0, Problems: ps}
}
