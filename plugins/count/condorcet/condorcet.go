// Package condorcet counts ranked elections by the Schulze method, a
// Condorcet method: the option that beats every other option in
// one-to-one comparison (the Condorcet winner) always wins, and when
// there is none, the strongest chains of such comparisons decide.
//
// The count, as Markus Schulze describes it:
//
//   - The pairwise matrix: d[a][b] is the number of voters (or their
//     weight, counted by weight) who rank a above b. A voter's ranking
//     lists options most preferred first; options left unranked tie
//     below every ranked option, so a voter ranking only a puts a above
//     everyone else and expresses nothing between the others.
//   - The strongest paths, by winning votes: a link a→b has strength
//     d[a][b] when d[a][b] > d[b][a], and no link otherwise; a path is as
//     strong as its weakest link, and p[a][b] is the strength of the
//     strongest path from a to b (Floyd–Warshall).
//   - The ranking: a is above b when p[a][b] > p[b][a]. Schulze proved
//     this relation transitive, so the options fall into tiers: the first
//     tier is every option nobody is above, and so on.
//
// The seats are filled tier by tier. A tier that does not fit in the
// seats left is a tie: Decision "tie", with the options elected without
// doubt in Elected, unless the configuration names a seed, in which case
// lots decide (plurality.Lots) and the explanation records the draw.
//
// The output's Counts hold each option's pairwise wins (Votes, and
// Weight as the same integer); the explanation states the pairwise
// matrix, the strongest paths when there is no Condorcet winner, the
// ranking and the result. All arithmetic is exact integers: weights are
// scaled over the least common denominator of all weights, and a count
// whose figures do not fit in 64 bits is an error.
package condorcet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/checked"
	"github.com/plenum-vote/plenum/plugins/count/plurality"
	"github.com/plenum-vote/plenum/sdk"
)

// The TallyInput.Rule names of a Schulze count.
const (
	Rule        = "condorcet"
	RuleSchulze = "schulze"
)

// MaxOptions bounds the options of a count: the matrices hold
// MaxOptions² numbers and the strongest paths take MaxOptions³ steps.
const MaxOptions = 250

// Config is a Condorcet ballot's method configuration: the JSON object
// in TallyInput.Config and ValidateBallotInput.Config.
type Config struct {
	// Seed, when set, breaks a tie for the last seats by lots
	// (plurality.Lots); without it such a tie is Decision "tie".
	Seed string `json:"seed,omitempty"`
}

// ErrInput is wrapped by the errors about a tally input that cannot be
// counted: a bad configuration, options or seats, an invalid vote, or
// figures beyond 64 bits.
var ErrInput = errors.New("condorcet: cannot count")

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
	if len(c.Seed) > plurality.MaxSeedBytes {
		return Config{}, fmt.Errorf("config: seed is longer than %d bytes", plurality.MaxSeedBytes)
	}
	return c, nil
}

// Validate is the validate_ballot hook for Condorcet ballots: the rule
// must be "condorcet" or "schulze", the configuration must parse
// (ParseConfig), and the ballot must pass the checks every election
// method shares (plurality.CheckBallot), with at most MaxOptions
// options.
func Validate(in *sdk.ValidateBallotInput) *sdk.ValidateBallotOutput {
	ps := []sdk.Problem{}
	if in.Rule != Rule && in.Rule != RuleSchulze {
		ps = append(ps, sdk.Problem{Field: "rule", Message: fmt.Sprintf("rule %q: this plugin counts %q (the Schulze method)", in.Rule, Rule)})
	}
	if _, err := ParseConfig(in.Config); err != nil {
		ps = append(ps, sdk.Problem{Field: "config", Message: err.Error()})
	}
	if len(in.Options) > MaxOptions {
		ps = append(ps, sdk.Problem{Field: "options", Message: fmt.Sprintf("%d options: at most %d", len(in.Options), MaxOptions)})
	}
	// Marks are not limited: with Approval, CheckBallot checks no
	// votes per voter.
	ps = append(ps, plurality.CheckBallot(in, plurality.Config{Approval: true})...)
	return &sdk.ValidateBallotOutput{Valid: len(ps) == 0, Problems: ps}
}

// count is the state of one count.
type count struct {
	in       *sdk.TallyInput
	n        int // options
	seats    int
	byWeight bool
	weighed  bool  // weights are read: counting by weight, or a quorum of weight
	den      int64 // common denominator of the weights read (1 when none)
	index    map[string]int
	// d is the pairwise matrix and p the strongest paths, row-major:
	// d[a*n+b] is the support for a over b.
	d, p []int64
	// turnHeads and turnValue are the voters who took part and their
	// scaled weight (heads when no weight is read).
	turnHeads, turnValue int64
}

// Count counts a ranked election by the Schulze method. Seats 0 means
// one. Each vote's Ranking lists options most preferred first; the
// reserved entries sdk.RankOvervote and sdk.RankSkipped rank nothing and
// are passed over. A vote counts Vote.Count times (0 meaning once). A
// vote with an unknown option or an option ranked twice is an error
// naming its index in in.Votes.
func Count(in *sdk.TallyInput) (*sdk.TallyOutput, error) {
	if in == nil {
		return nil, fmt.Errorf("%w: no input", ErrInput)
	}
	cfg, err := ParseConfig(in.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	c, err := newCount(in)
	if err != nil {
		return nil, err
	}
	if err := c.pairwise(); err != nil {
		return nil, err
	}
	c.strongestPaths()
	return c.result(cfg.Seed), nil
}

func newCount(in *sdk.TallyInput) (*count, error) {
	n := len(in.Options)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: no options", ErrInput)
	case n > MaxOptions:
		return nil, fmt.Errorf("%w: %d options, at most %d", ErrInput, n, MaxOptions)
	case in.Seats < 0 || in.Seats > int64(n):
		return nil, fmt.Errorf("%w: %d seats for %d options", ErrInput, in.Seats, n)
	case in.Quorum < 0 || !in.QuorumWeight.Valid() || in.QuorumWeight.Sign() < 0:
		return nil, fmt.Errorf("%w: negative or invalid quorum", ErrInput)
	}
	c := &count{in: in, n: n, seats: max(int(in.Seats), 1), den: 1, index: make(map[string]int, n)}
	for i, o := range in.Options {
		if o.ID == "" || strings.HasPrefix(o.ID, "#") {
			return nil, fmt.Errorf("%w: options[%d]: id %q is empty or reserved", ErrInput, i, o.ID)
		}
		if _, dup := c.index[o.ID]; dup {
			return nil, fmt.Errorf("%w: option %q appears twice", ErrInput, o.ID)
		}
		c.index[o.ID] = i
	}
	switch in.EffectiveCounting() {
	case sdk.CountHead:
	case sdk.CountWeight:
		c.byWeight = true
	default:
		return nil, fmt.Errorf("%w: counting %q: an election is counted by head or by weight", ErrInput, in.EffectiveCounting())
	}
	c.weighed = c.byWeight || !in.QuorumWeight.IsZero()
	if c.weighed {
		for i := range in.Votes {
			w, err := in.Votes[i].Weight.Norm()
			if err != nil || w.Sign() < 0 {
				return nil, fmt.Errorf("%w: votes[%d]: weight %v is not a non-negative fraction", ErrInput, i, in.Votes[i].Weight)
			}
			m, ok := checked.Mul(c.den/checked.GCD(c.den, w.Den), w.Den)
			if !ok {
				return nil, fmt.Errorf("%w: votes[%d]: the weights' common denominator exceeds 64 bits", ErrInput, i)
			}
			c.den = m
		}
	}
	return c, nil
}

// pairwise fills d from the votes, grouping identical rankings first, and
// sums the turnout.
func (c *count) pairwise() error {
	n := c.n
	type group struct {
		pos   []int32 // each option's rank, n for unranked
		value int64
	}
	var groups []group
	byKey := make(map[string]int)
	pos := make([]int32, n)
	key := make([]byte, 0, 4*n)
	var total int64 // what the matrix entries are at most
	for vi := range c.in.Votes {
		v := &c.in.Votes[vi]
		heads, value, err := c.voter(vi, v)
		if err != nil {
			return err
		}
		score := heads
		if c.byWeight {
			score = value
		}
		var ok1, ok2, ok3 bool
		c.turnHeads, ok1 = checked.Add(c.turnHeads, heads)
		c.turnValue, ok2 = checked.Add(c.turnValue, value)
		total, ok3 = checked.Add(total, score)
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("%w: votes[%d]: the turnout exceeds 64 bits", ErrInput, vi)
		}
		for k := range pos {
			pos[k] = int32(n)
		}
		rank := int32(0)
		key = key[:0]
		for _, id := range v.Ranking {
			if id == sdk.RankOvervote || id == sdk.RankSkipped {
				continue
			}
			k, ok := c.index[id]
			if !ok {
				return fmt.Errorf("%w: votes[%d] (voter %q): unknown option %q", ErrInput, vi, v.Voter, id)
			}
			if pos[k] != int32(n) {
				return fmt.Errorf("%w: votes[%d] (voter %q): option %q ranked twice", ErrInput, vi, v.Voter, id)
			}
			pos[k] = rank
			rank++
			key = append(key, byte(k), byte(k>>8), byte(k>>16), byte(k>>24))
		}
		if rank == 0 || score == 0 {
			continue // a blank ballot prefers nothing
		}
		if g, ok := byKey[string(key)]; ok {
			groups[g].value += score // ≤ total: cannot overflow
			continue
		}
		byKey[string(key)] = len(groups)
		groups = append(groups, group{pos: append([]int32(nil), pos...), value: score})
	}
	c.d = make([]int64, n*n)
	for _, g := range groups {
		for a := range n {
			if g.pos[a] == int32(n) {
				continue // unranked: above nobody
			}
			row := c.d[a*n : a*n+n]
			for b, pb := range g.pos {
				if g.pos[a] < pb {
					row[b] += g.value // ≤ total: cannot overflow
				}
			}
		}
	}
	return nil
}

// voter returns how many voters v stands for and their weight scaled by
// den (the heads again when no weight is read).
func (c *count) voter(vi int, v *sdk.Vote) (heads, value int64, err error) {
	heads = v.Count
	if heads < 0 {
		return 0, 0, fmt.Errorf("%w: votes[%d] (voter %q): negative count %d", ErrInput, vi, v.Voter, heads)
	}
	if heads == 0 {
		heads = 1
	}
	if !c.weighed {
		return heads, heads, nil
	}
	w, _ := v.Weight.Norm() // checked in newCount
	x, ok1 := checked.Mul(w.Num, c.den/w.Den)
	value, ok2 := checked.Mul(x, heads)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("%w: votes[%d]: weight %v × %d exceeds 64 bits", ErrInput, vi, w, heads)
	}
	return heads, value, nil
}

// strongestPaths computes p from d by winning votes (Floyd–Warshall).
func (c *count) strongestPaths() {
	n, d := c.n, c.d
	p := make([]int64, n*n)
	for a := range n {
		for b := range n {
			if a != b && d[a*n+b] > d[b*n+a] {
				p[a*n+b] = d[a*n+b]
			}
		}
	}
	for i := range n {
		for j := range n {
			if j == i {
				continue
			}
			pji := p[j*n+i]
			if pji == 0 {
				continue
			}
			for k := range n {
				if k != i && k != j {
					if s := min(pji, p[i*n+k]); s > p[j*n+k] {
						p[j*n+k] = s
					}
				}
			}
		}
	}
	c.p = p
}

// above reports whether the Schulze ranking puts a above b.
func (c *count) above(a, b int) bool { return c.p[a*c.n+b] > c.p[b*c.n+a] }

// beats reports whether a majority (by the count's measure) prefers a to b.
func (c *count) beats(a, b int) bool { return c.d[a*c.n+b] > c.d[b*c.n+a] }

// tiers returns the Schulze ranking as tiers of options, best first,
// each in option order.
func (c *count) tiers() [][]int {
	left := make([]bool, c.n)
	for i := range left {
		left[i] = true
	}
	var tiers [][]int
	for remaining := c.n; remaining > 0; {
		var tier []int
		for a := range c.n {
			if !left[a] {
				continue
			}
			top := true
			for b := range c.n {
				if left[b] && c.above(b, a) {
					top = false
					break
				}
			}
			if top {
				tier = append(tier, a)
			}
		}
		if len(tier) == 0 { // impossible for a transitive relation; never loop
			for a := range c.n {
				if left[a] {
					tier = append(tier, a)
				}
			}
		}
		for _, a := range tier {
			left[a] = false
		}
		remaining -= len(tier)
		tiers = append(tiers, tier)
	}
	return tiers
}

// result decides and explains.
func (c *count) result(seed string) *sdk.TallyOutput {
	in, n := c.in, c.n
	out := &sdk.TallyOutput{Counts: make([]sdk.Count, n), Explanation: []string{}}
	wins := make([]int64, n)
	for a := range n {
		for b := range n {
			if a != b && c.beats(a, b) {
				wins[a]++
			}
		}
		out.Counts[a] = sdk.Count{Choice: in.Options[a].ID, Votes: wins[a], Weight: sdk.Int(wins[a])}
	}
	out.Turnout = sdk.Turnout{Head: c.turnHeads, Weight: sdk.Int(c.turnHeads)}
	if c.weighed {
		out.Turnout.Weight = c.value(c.turnValue)
	}
	how := "head"
	if c.byWeight {
		how = "weight"
	}
	out.Explanation = append(out.Explanation, fmt.Sprintf("Schulze method (winning votes): %d of %d options to elect, counted by %s", c.seats, n, how))

	out.QuorumMet = true
	if q := in.Quorum; q > 0 {
		met := c.turnHeads >= q
		out.QuorumMet = met
		out.Explanation = append(out.Explanation, fmt.Sprintf("turnout %d, quorum %d: %s", c.turnHeads, q, metWord(met)))
	}
	if q := in.QuorumWeight; !q.IsZero() {
		met := out.Turnout.Weight.Cmp(q) >= 0
		out.QuorumMet = out.QuorumMet && met
		out.Explanation = append(out.Explanation, fmt.Sprintf("turnout weight %v, quorum weight %v: %s", out.Turnout.Weight, q, metWord(met)))
	}
	if !out.QuorumMet {
		out.Decision = sdk.DecisionNoQuorum
		return out
	}

	id := func(a int) string { return in.Options[a].ID }
	for a := range n {
		var parts []string
		for b := range n {
			if b != a {
				parts = append(parts, fmt.Sprintf("%s–%s against %s", c.figure(c.d[a*n+b]), c.figure(c.d[b*n+a]), id(b)))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "no other option")
		}
		out.Explanation = append(out.Explanation, fmt.Sprintf("pairwise %s: %s (wins %d)", id(a), strings.Join(parts, ", "), wins[a]))
	}
	winner := -1
	for a := range n {
		if wins[a] == int64(n-1) {
			winner = a
		}
	}
	if winner >= 0 {
		out.Explanation = append(out.Explanation, fmt.Sprintf("Condorcet winner: %s beats every other option one to one", id(winner)))
	} else {
		out.Explanation = append(out.Explanation, "no Condorcet winner: no option beats every other one to one")
		for a := range n {
			var parts []string
			for b := range n {
				if b != a {
					parts = append(parts, fmt.Sprintf("%s %s", id(b), c.figure(c.p[a*n+b])))
				}
			}
			out.Explanation = append(out.Explanation, fmt.Sprintf("strongest paths from %s: %s", id(a), strings.Join(parts, ", ")))
		}
	}
	tiers := c.tiers()
	names := make([]string, len(tiers))
	for i, t := range tiers {
		names[i] = c.ids(t, " = ")
	}
	out.Explanation = append(out.Explanation, "Schulze ranking: "+strings.Join(names, " > "))

	var elected []int
	for _, t := range tiers {
		left := c.seats - len(elected)
		if left == 0 {
			break
		}
		if len(t) <= left {
			elected = append(elected, t...)
			continue
		}
		tie := fmt.Sprintf("%s tie in the Schulze ranking for %s", c.ids(t, ", "), lastSeats(left))
		if seed == "" {
			out.Decision = sdk.DecisionTie
			out.Elected = c.idList(elected)
			line := tie + "; the rules leave the decision to people (a casting vote or a draw)"
			if len(elected) > 0 {
				line = "elected without doubt: " + c.ids(elected, ", ") + "; " + line
			}
			out.Explanation = append(out.Explanation, line)
			return out
		}
		drawn, note := plurality.Lots(seed, c.idList(t))
		out.Explanation = append(out.Explanation, tie+"; "+note)
		out.Decision = sdk.DecisionElected
		out.Elected = append(c.idList(elected), drawn[:left]...)
		out.Explanation = append(out.Explanation, "elected: "+strings.Join(out.Elected, ", "))
		return out
	}
	out.Decision = sdk.DecisionElected
	out.Elected = c.idList(elected)
	out.Explanation = append(out.Explanation, "elected: "+c.ids(elected, ", "))
	return out
}

// figure formats a matrix entry: an integer by head, a fraction of
// weight by weight.
func (c *count) figure(v int64) string {
	if c.byWeight {
		return c.value(v).String()
	}
	return strconv.FormatInt(v, 10)
}

// value returns a scaled weight as the Rational it stands for.
func (c *count) value(v int64) sdk.Rational {
	r, _ := sdk.NewRational(v, c.den) // v ≥ 0, den > 0: cannot fail
	return r
}

func (c *count) idList(as []int) []string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = c.in.Options[a].ID
	}
	return s
}

func (c *count) ids(as []int, sep string) string { return strings.Join(c.idList(as), sep) }

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
