// Package plurality counts elections by plurality: each voter marks up to
// a number of options, every mark is a vote (or the voter's weight), and
// the options with the most votes fill the seats. It covers the single
// vote (one seat), block voting (several seats, as many marks) and, with
// Config.Cumulative, cumulative voting, where a voter may give several of
// their votes to one option by marking it repeatedly. Package approval
// counts approval ballots with the same machinery.
//
// Totals are exact: counted by head they are integers; counted by weight
// each weight is scaled to an integer over the least common denominator
// of all weights, and a count whose figures do not fit in 64 bits is an
// error, never a rounded result.
//
// A tie at the last seat is Decision "tie", with the options elected
// without doubt in Elected, unless the configuration names a Seed: then
// lots decide (see Config.Seed) and the explanation records the draw. An
// optional Quota keeps options below a share of the turnout (or of
// everyone eligible, with basis "eligible") from being elected; when no
// option reaches it, the Decision is "fail".
//
// The package uses the standard library and sdk only, so that the wasm
// plugin (plugins/plurality) and the host can both import it.
package plurality

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/checked"
	"github.com/plenum-vote/plenum/sdk"
)

// Rule is the TallyInput.Rule of a plurality ballot.
const Rule = "plurality"

// MaxSeedBytes bounds Config.Seed.
const MaxSeedBytes = 256

// Config is a plurality ballot's method configuration: the JSON object
// in TallyInput.Config and ValidateBallotInput.Config.
type Config struct {
	// VotesPerVoter is the most votes a voter may give, that is the most
	// options they may mark (counting repeats when Cumulative); 0 means
	// as many as there are seats.
	VotesPerVoter int64 `json:"votes_per_voter,omitempty"`
	// Cumulative lets a voter give several of their votes to one option
	// by marking it repeatedly.
	Cumulative bool `json:"cumulative,omitempty"`
	// Quota, when set, is the share an option's total must reach (or
	// exceed, when Strict) to be elected: a share of the turnout (the
	// voters who took part, by head or by weight), or of everyone
	// eligible when the ballot's basis is "eligible".
	Quota *sdk.Threshold `json:"quota,omitempty"`
	// Seed, when set, breaks a tie at the last seat by lots: Lots orders
	// the tied options by SHA-256 over the seed, the sorted ids of all
	// tied options and each option's own id, and the first ones take the
	// seats left. Anyone with the seed can repeat the draw.
	Seed string `json:"seed,omitempty"`
	// Approval counts approval ballots (package approval sets it; it is
	// not part of the JSON configuration): a voter may mark every option
	// once, whatever VotesPerVoter says, and the explanation speaks of
	// approval voting.
	Approval bool `json:"-"`
}

// ErrInput is wrapped by the errors about a tally input that cannot be
// counted: a bad configuration, options or seats, an invalid vote, or
// figures beyond 64 bits.
var ErrInput = errors.New("plurality: cannot count")

// ParseConfig decodes a configuration strictly (unknown keys are errors)
// and checks its values. Empty input and JSON null are the zero Config.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if err := decodeStrict(raw, &c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// decodeStrict decodes JSON into v, refusing unknown keys and trailing
// data. Empty input and null leave v alone.
func decodeStrict(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the configuration object")
	}
	return nil
}

// check checks the values of c that do not depend on the ballot.
func (c *Config) check() error {
	if c.VotesPerVoter < 0 {
		return fmt.Errorf("votes_per_voter %d is negative", c.VotesPerVoter)
	}
	if q := c.Quota; q != nil && (q.Den <= 0 || q.Num < 0 || q.Num > q.Den) {
		return fmt.Errorf("quota %d/%d is not a share between 0 and 1", q.Num, q.Den)
	}
	if len(c.Seed) > MaxSeedBytes {
		return fmt.Errorf("seed is longer than %d bytes", MaxSeedBytes)
	}
	return nil
}

// Count counts a plurality election: it reads in.Config with ParseConfig
// and calls Tally.
func Count(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	if in == nil {
		return nil, fmt.Errorf("%w: no input", ErrInput)
	}
	c, err := ParseConfig(in.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return Tally(in, c)
}

// Tally counts in with the configuration c, ignoring in.Config and
// in.Rule. Seats 0 means one seat.
//
// Each vote's Ranking is the list of its marks; the reserved entries
// sdk.RankOvervote and sdk.RankSkipped mark nothing. A vote counts
// Vote.Count times (0 meaning once). A vote with an unknown option, more
// marks than allowed, or a repeated option when not Cumulative is an
// error naming its index in in.Votes.
func Tally(in *sdk.TallyInput, c Config) (*sdk.TallyOutput, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%w: config: %w", ErrInput, err)
	}
	b, err := newBallot(in)
	if err != nil {
		return nil, err
	}
	limit := c.VotesPerVoter
	switch {
	case c.Approval:
		limit, c.Cumulative = int64(len(in.Options)), false
	case limit == 0:
		limit = int64(b.seats)
	}
	t := &totals{heads: make([]int64, len(in.Options)), score: make([]int64, len(in.Options))}
	seen := make([]int, len(in.Options)) // vote index + 1 of an option's last mark
	for vi := range in.Votes {
		v := &in.Votes[vi]
		n, value, err := b.voter(vi, v)
		if err != nil {
			return nil, err
		}
		if err := t.turnout(n, value); err != nil {
			return nil, fmt.Errorf("%w: votes[%d]: %w", ErrInput, vi, err)
		}
		var marks int64
		for _, id := range v.Ranking {
			if id == sdk.RankOvervote || id == sdk.RankSkipped {
				continue
			}
			k, ok := b.index[id]
			if !ok {
				return nil, fmt.Errorf("%w: votes[%d] (voter %q): unknown option %q", ErrInput, vi, v.Voter, id)
			}
			if seen[k] == vi+1 && !c.Cumulative {
				return nil, fmt.Errorf("%w: votes[%d] (voter %q): option %q marked twice", ErrInput, vi, v.Voter, id)
			}
			if marks++; marks > limit {
				return nil, fmt.Errorf("%w: votes[%d] (voter %q): more than %s", ErrInput, vi, v.Voter, votes(limit))
			}
			seen[k] = vi + 1
			if err := t.add(k, n, b.score(n, value)); err != nil {
				return nil, fmt.Errorf("%w: votes[%d]: %w", ErrInput, vi, err)
			}
		}
	}
	out := b.output(t)
	desc := fmt.Sprintf("plurality: %d of %d options to elect, up to %s per voter", b.seats, len(in.Options), votes(limit))
	switch {
	case c.Approval:
		desc = fmt.Sprintf("approval voting: %d of %d options to elect, any number approved per voter", b.seats, len(in.Options))
	case c.Cumulative:
		desc += ", cumulative"
	}
	out.Explanation = append(out.Explanation, desc+", counted by "+b.counting())
	if !b.quorum(t, out) {
		return out, nil
	}
	if err := b.elect(t, c.Quota, c.Seed, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckBallot returns the problems that keep a ballot definition from
// being counted with configuration c: it must be an election with
// options whose ids are unique, not empty and not reserved, between one
// seat and as many as there are options, counted by head or by weight,
// with quorums that are not negative, a voting period that ends after it
// starts, and votes per voter that the options can take. It does not
// check the rule name or parse the configuration.
func CheckBallot(in *sdk.ValidateBallotInput, c Config) []sdk.Problem {
	ps := []sdk.Problem{}
	add := func(field, msg string) { ps = append(ps, sdk.Problem{Field: field, Message: msg}) }
	if in.Kind != sdk.KindElection {
		add("kind", "this method counts elections; use a majority rule for motions")
	}
	if len(in.Options) == 0 {
		add("options", "an election needs options")
	}
	seen := make(map[string]bool, len(in.Options))
	for _, o := range in.Options {
		switch {
		case o.ID == "":
			add("options", "an option has an empty id")
		case strings.HasPrefix(o.ID, "#"):
			add("options", fmt.Sprintf("option %q: ids beginning with '#' are reserved", o.ID))
		case seen[o.ID]:
			add("options", fmt.Sprintf("option %q appears twice", o.ID))
		}
		seen[o.ID] = true
	}
	if in.Seats < 1 || in.Seats > int64(len(in.Options)) {
		add("seats", fmt.Sprintf("%d seats: choose between 1 and the %d options", in.Seats, len(in.Options)))
	}
	switch {
	case in.Counting == sdk.CountBoth:
		add("counting", "an election is counted by head or by weight, not both")
	case in.ByWeight && in.Counting == sdk.CountHead:
		add("counting", "by_weight contradicts counting by head")
	}
	if in.Quorum < 0 {
		add("quorum", "the quorum cannot be negative")
	}
	if q := in.QuorumWeight; !q.Valid() || q.Sign() < 0 {
		add("quorum_weight", fmt.Sprintf("%d/%d is not a non-negative weight", q.Num, q.Den))
	}
	if !c.Approval && !c.Cumulative && c.VotesPerVoter > int64(len(in.Options)) && len(in.Options) > 0 {
		add("config", fmt.Sprintf("votes_per_voter %d exceeds the %d options; allow cumulative voting or lower it", c.VotesPerVoter, len(in.Options)))
	}
	if in.Opens != 0 && in.Closes != 0 && in.Closes <= in.Opens {
		add("closes", "the ballot must close after it opens")
	}
	return ps
}

// Validate is the validate_ballot hook for plurality ballots: the rule
// must be "plurality", the configuration must parse (ParseConfig), and
// CheckBallot must find nothing.
func Validate(in *sdk.ValidateBallotInput) *sdk.ValidateBallotOutput {
	var ps []sdk.Problem
	if in.Rule != Rule {
		ps = append(ps, sdk.Problem{Field: "rule", Message: fmt.Sprintf("rule %q: this plugin counts %q", in.Rule, Rule)})
	}
	c, err := ParseConfig(in.Config)
	if err != nil {
		ps = append(ps, sdk.Problem{Field: "config", Message: err.Error()})
	}
	ps = append(ps, CheckBallot(in, c)...)
	return &sdk.ValidateBallotOutput{Valid: len(ps) == 0, Problems: append([]sdk.Problem{}, ps...)}
}

// ballot is what a count needs to know of the ballot besides the votes.
type ballot struct {
	in       *sdk.TallyInput
	seats    int
	index    map[string]int
	byWeight bool
	// den is the common denominator of the weights counted (1 by head):
	// a total t stands for t/den.
	den int64
	// weighed says whether turnout values are weights (counting by
	// weight, or a quorum of weight) rather than heads.
	weighed bool
}

func newBallot(in *sdk.TallyInput) (*ballot, error) {
	if in == nil {
		return nil, fmt.Errorf("%w: no input", ErrInput)
	}
	b := &ballot{in: in, seats: 1, index: make(map[string]int, len(in.Options)), den: 1}
	if len(in.Options) == 0 {
		return nil, fmt.Errorf("%w: no options", ErrInput)
	}
	for i, o := range in.Options {
		if o.ID == "" || strings.HasPrefix(o.ID, "#") {
			return nil, fmt.Errorf("%w: options[%d]: id %q is empty or reserved", ErrInput, i, o.ID)
		}
		if _, dup := b.index[o.ID]; dup {
			return nil, fmt.Errorf("%w: option %q appears twice", ErrInput, o.ID)
		}
		b.index[o.ID] = i
	}
	if in.Seats < 0 || in.Seats > int64(len(in.Options)) {
		return nil, fmt.Errorf("%w: %d seats for %d options", ErrInput, in.Seats, len(in.Options))
	}
	if in.Seats > 0 {
		b.seats = int(in.Seats)
	}
	switch in.EffectiveCounting() {
	case sdk.CountHead:
	case sdk.CountWeight:
		b.byWeight = true
	default:
		return nil, fmt.Errorf("%w: counting %q: an election is counted by head or by weight", ErrInput, in.EffectiveCounting())
	}
	if in.Quorum < 0 || !in.QuorumWeight.Valid() || in.QuorumWeight.Sign() < 0 {
		return nil, fmt.Errorf("%w: negative or invalid quorum", ErrInput)
	}
	if in.Basis != "" && in.Basis != sdk.BasisVotesCast && in.Basis != sdk.BasisEligible {
		return nil, fmt.Errorf("%w: unknown basis %q", ErrInput, in.Basis)
	}
	b.weighed = b.byWeight || !in.QuorumWeight.IsZero()
	if b.weighed {
		d, err := commonDen(in.Votes)
		if err != nil {
			return nil, err
		}
		b.den = d
	}
	return b, nil
}

// commonDen returns the least common multiple of the denominators of the
// votes' weights in lowest terms, checking each weight.
func commonDen(votes []sdk.Vote) (int64, error) {
	d := int64(1)
	for i := range votes {
		w, err := votes[i].Weight.Norm()
		if err != nil || w.Sign() < 0 {
			return 0, fmt.Errorf("%w: votes[%d]: weight %v is not a non-negative fraction", ErrInput, i, votes[i].Weight)
		}
		g := checked.GCD(d, w.Den)
		m, ok := checked.Mul(d/g, w.Den)
		if !ok {
			return 0, fmt.Errorf("%w: votes[%d]: the weights' common denominator exceeds 64 bits", ErrInput, i)
		}
		d = m
	}
	return d, nil
}

// voter returns how many voters v stands for and their weight scaled
// by den (n again when no weight is needed).
func (b *ballot) voter(vi int, v *sdk.Vote) (n, value int64, err error) {
	n = v.Count
	if n < 0 {
		return 0, 0, fmt.Errorf("%w: votes[%d] (voter %q): negative count %d", ErrInput, vi, v.Voter, n)
	}
	if n == 0 {
		n = 1
	}
	if !b.weighed {
		return n, n, nil
	}
	w, err := v.Weight.Norm()
	if err != nil || w.Sign() < 0 {
		return 0, 0, fmt.Errorf("%w: votes[%d]: weight %v is not a non-negative fraction", ErrInput, vi, v.Weight)
	}
	x, ok1 := checked.Mul(w.Num, b.den/w.Den)
	value, ok2 := checked.Mul(x, n)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("%w: votes[%d]: weight %v × %d exceeds 64 bits", ErrInput, vi, w, n)
	}
	return n, value, nil
}

// totals are the running sums of a count.
type totals struct {
	heads []int64 // votes given to each option, by head
	score []int64 // each option's total as counted: heads, or weight scaled by den
	// turnHeads and turnValue are who took part: voters, and their
	// scaled weight (or heads when no weight is needed).
	turnHeads, turnValue int64
}

func (t *totals) turnout(n, value int64) error {
	var ok1, ok2 bool
	t.turnHeads, ok1 = checked.Add(t.turnHeads, n)
	t.turnValue, ok2 = checked.Add(t.turnValue, value)
	if !ok1 || !ok2 {
		return errors.New("the turnout exceeds 64 bits")
	}
	return nil
}

func (t *totals) add(k int, n, value int64) error {
	var ok1, ok2 bool
	t.heads[k], ok1 = checked.Add(t.heads[k], n)
	t.score[k], ok2 = checked.Add(t.score[k], value)
	if !ok1 || !ok2 {
		return errors.New("a total exceeds 64 bits")
	}
	return nil
}

// value returns a scaled weight as the Rational it stands for.
func (b *ballot) value(v int64) sdk.Rational {
	r, _ := sdk.NewRational(v, b.den) // v ≥ 0, den > 0: cannot fail
	return r
}

// score returns what a vote of n voters with scaled weight value adds to
// an option's total: n by head, value by weight.
func (b *ballot) score(n, value int64) int64 {
	if b.byWeight {
		return value
	}
	return n
}

// scoreRat returns a total as the number it stands for.
func (b *ballot) scoreRat(score int64) *big.Rat {
	if b.byWeight {
		return new(big.Rat).SetFrac64(score, b.den)
	}
	return new(big.Rat).SetInt64(score)
}

func (b *ballot) counting() string {
	if b.byWeight {
		return "weight"
	}
	return "head"
}

// output returns the output with the counts and the turnout.
func (b *ballot) output(t *totals) *sdk.TallyOutput {
	out := &sdk.TallyOutput{Counts: make([]sdk.Count, len(b.in.Options)), Explanation: []string{}}
	for k, o := range b.in.Options {
		w := sdk.Int(t.heads[k])
		if b.byWeight {
			w = b.value(t.score[k])
		}
		out.Counts[k] = sdk.Count{Choice: o.ID, Votes: t.heads[k], Weight: w}
	}
	out.Turnout = sdk.Turnout{Head: t.turnHeads, Weight: sdk.Int(t.turnHeads)}
	if b.weighed {
		out.Turnout.Weight = b.value(t.turnValue)
	}
	return out
}

// quorum checks the quorums, explains them, and sets the decision when
// one is missed. It reports whether the count goes on.
func (b *ballot) quorum(t *totals, out *sdk.TallyOutput) bool {
	out.QuorumMet = true
	if q := b.in.Quorum; q > 0 {
		met := t.turnHeads >= q
		out.QuorumMet = out.QuorumMet && met
		out.Explanation = append(out.Explanation, fmt.Sprintf("turnout %d, quorum %d: %s", t.turnHeads, q, metWord(met)))
	}
	if q := b.in.QuorumWeight; !q.IsZero() {
		met := out.Turnout.Weight.Cmp(q) >= 0
		out.QuorumMet = out.QuorumMet && met
		out.Explanation = append(out.Explanation, fmt.Sprintf("turnout weight %v, quorum weight %v: %s", out.Turnout.Weight, q, metWord(met)))
	}
	if !out.QuorumMet {
		out.Decision = sdk.DecisionNoQuorum
	}
	return out.QuorumMet
}

// lastSeats returns "the last seat" or "the last n seats".
func lastSeats(n int) string {
	if n == 1 {
		return "the last seat"
	}
	return fmt.Sprintf("the last %d seats", n)
}

func metWord(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

// elect fills the seats from the totals: the options reaching the quota,
// best first; a tie at the last seat goes to lots with a seed, or makes
// the decision "tie".
func (b *ballot) elect(t *totals, quota *sdk.Threshold, seed string, out *sdk.TallyOutput) error {
	ids := func(ks []int) string {
		s := make([]string, len(ks))
		for i, k := range ks {
			s[i] = b.in.Options[k].ID
		}
		return strings.Join(s, ", ")
	}
	order := make([]int, len(b.in.Options))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return t.score[order[i]] > t.score[order[j]] })
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = b.in.Options[k].ID + " " + b.figure(t, k)
	}
	out.Explanation = append(out.Explanation, "totals: "+strings.Join(parts, ", "))

	electable := order
	if quota != nil {
		base, what, err := b.quotaBase(t)
		if err != nil {
			return err
		}
		need := new(big.Rat).Mul(base, big.NewRat(quota.Num, quota.Den))
		electable = nil
		for _, k := range order {
			c := b.scoreRat(t.score[k]).Cmp(need)
			if c > 0 || c == 0 && !quota.Strict {
				electable = append(electable, k)
			}
		}
		rel := "at least"
		if quota.Strict {
			rel = "more than"
		}
		line := fmt.Sprintf("quota: %s %d/%d of %s %s = %s", rel, quota.Num, quota.Den, what, base.RatString(), need.RatString())
		if len(electable) == 0 {
			out.Decision = sdk.DecisionFail
			out.Explanation = append(out.Explanation, line+"; no option reaches it, nobody is elected")
			return nil
		}
		out.Explanation = append(out.Explanation, line+"; reached by "+ids(electable))
	}
	seats := b.seats
	if len(electable) <= seats {
		out.Decision = sdk.DecisionElected
		out.Elected = b.idList(electable)
		line := "elected: " + ids(electable)
		if len(electable) < seats {
			line += fmt.Sprintf(" (%d of %d seats filled: no other option reaches the quota)", len(electable), seats)
		}
		out.Explanation = append(out.Explanation, line)
		return nil
	}
	last := t.score[electable[seats-1]]
	var sure, tied []int
	for _, k := range electable {
		switch s := t.score[k]; {
		case s > last:
			sure = append(sure, k)
		case s == last:
			tied = append(tied, k)
		}
	}
	left := seats - len(sure)
	if len(tied) == left {
		out.Decision = sdk.DecisionElected
		out.Elected = b.idList(electable[:seats])
		out.Explanation = append(out.Explanation, "elected: "+ids(electable[:seats]))
		return nil
	}
	tie := fmt.Sprintf("%s tie with %s each for %s", ids(tied), b.figure(t, tied[0]), lastSeats(left))
	if seed == "" {
		out.Decision = sdk.DecisionTie
		out.Elected = b.idList(sure)
		line := tie + "; the rules leave the decision to people (a casting vote or a draw)"
		if len(sure) > 0 {
			line = "elected without doubt: " + ids(sure) + "; " + line
		}
		out.Explanation = append(out.Explanation, line)
		return nil
	}
	tiedIDs := make([]string, len(tied))
	for i, k := range tied {
		tiedIDs[i] = b.in.Options[k].ID
	}
	drawn, note := Lots(seed, tiedIDs)
	out.Explanation = append(out.Explanation, tie+"; "+note)
	out.Decision = sdk.DecisionElected
	out.Elected = append(b.idList(sure), drawn[:left]...)
	out.Explanation = append(out.Explanation, "elected: "+strings.Join(out.Elected, ", "))
	return nil
}

// figure formats option k's total: "4", or "3/5 (2 votes)" by weight.
func (b *ballot) figure(t *totals, k int) string {
	if b.byWeight {
		return fmt.Sprintf("%v (%s)", b.value(t.score[k]), votes(t.heads[k]))
	}
	return fmt.Sprint(t.heads[k])
}

// votes returns "1 vote" or "n votes".
func votes(n int64) string {
	if n == 1 {
		return "1 vote"
	}
	return fmt.Sprintf("%d votes", n)
}

// quotaBase returns what a quota is a share of, as counted, and its name.
func (b *ballot) quotaBase(t *totals) (*big.Rat, string, error) {
	if b.in.Basis != sdk.BasisEligible {
		if b.byWeight {
			return b.scoreRat(t.turnValue), "the turnout", nil
		}
		return b.scoreRat(t.turnHeads), "the turnout", nil
	}
	if b.byWeight {
		w := b.in.Eligible.Weight
		if !w.Valid() || w.Sign() <= 0 {
			return nil, "", fmt.Errorf("%w: a quota of everyone eligible by weight needs the eligible weight", ErrInput)
		}
		return big.NewRat(w.Num, w.Den), "the eligible weight", nil
	}
	if b.in.Eligible.Units <= 0 {
		return nil, "", fmt.Errorf("%w: a quota of everyone eligible needs the number of eligible units", ErrInput)
	}
	return new(big.Rat).SetInt64(b.in.Eligible.Units), "the eligible units", nil
}

func (b *ballot) idList(ks []int) []string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = b.in.Options[k].ID
	}
	return s
}
