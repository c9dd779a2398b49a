// Package irv counts instant-runoff elections (the alternative vote,
// ranked-choice voting for one seat): each round every ballot counts for
// its highest-ranked continuing candidate; a candidate with more than half
// of the continuing votes is elected, otherwise the weakest are excluded
// and their ballots pass to the next continuing choice.
//
// The rules for marks that are not a plain candidate — overvotes,
// skipped ranks, duplicates — and the elimination options follow RCTab's
// (Config), so that published results of US ranked-choice elections can be
// reproduced. Arithmetic is exact: vote values are integers in units of
// the least common denominator of the weights, and a count whose total
// would not fit in int64 is refused rather than rounded.
//
// The package uses the standard library and sdk only: the irv plugin
// (plugins/irv) runs it in WebAssembly, and the plenum command natively.
package irv

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sort"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/ranked"
	"github.com/plenum-vote/plenum/sdk"
)

// ErrCount is wrapped by the errors of Count about input it cannot count.
var ErrCount = errors.New("irv: cannot count")

// Count runs an instant-runoff count of in, configured by in.Config (see
// Config). It returns an error for input it cannot count (no options,
// several seats, unknown option ids in rankings, a bad config); a tie the
// rules cannot break is a result, sdk.DecisionTie.
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

// Stream counts votes as a decoder delivers them (see
// sdk.TallyInput.ReadWireEach) without holding them: NewStream with the
// input's head, Add for each vote, then Result. Count is the same over
// in.Votes.
type Stream struct {
	cfg          Config
	quorum       int64
	quorumWeight sdk.Rational
	b            *ranked.Builder
	turnout      turnout
}

// NewStream checks in's head (config, options, seats, counting, quorum;
// in.Votes are ignored) and starts a count.
func NewStream(in *sdk.TallyInput) (*Stream, error) {
	s := new(Stream)
	if err := s.Reset(in); err != nil {
		return nil, err
	}
	return s, nil
}

// Reset starts the count over for in, as NewStream(in) would, keeping the
// memory of the Stream's earlier use (see ranked.Builder.Reset): a plugin
// counting call after call keeps one Stream.
func (s *Stream) Reset(in *sdk.TallyInput) error {
	cfg, err := ParseConfig(in.Config)
	if err != nil {
		return err
	}
	if len(in.Options) == 0 {
		return fmt.Errorf("%w: an election needs options", ErrCount)
	}
	if in.Seats > 1 {
		return fmt.Errorf("%w: instant runoff fills one seat, not %d; use a proportional method (stv)", ErrCount, in.Seats)
	}
	if c := in.EffectiveCounting(); c == sdk.CountBoth {
		return fmt.Errorf("%w: instant runoff counts by head or by weight, not both", ErrCount)
	}
	if in.Quorum < 0 {
		return fmt.Errorf("%w: negative quorum %d", ErrCount, in.Quorum)
	}
	if s.b == nil {
		s.b = new(ranked.Builder)
	}
	if err := s.b.Reset(in); err != nil {
		return fmt.Errorf("%w: %w", ErrCount, err)
	}
	s.cfg, s.quorum, s.quorumWeight = cfg, in.Quorum, in.QuorumWeight
	s.turnout = turnout{acc: sdk.Rational{Num: 0, Den: 1}}
	return nil
}

// Add counts one vote in; nothing of v is kept.
func (s *Stream) Add(v *sdk.Vote) error { return s.AddIndexed(v, nil) }

// AddIndexed is Add with the ranking as option indexes when the decoder
// has them (see sdk.TallyInput.ReadWireEach and ranked.Builder.AddIndexed).
func (s *Stream) AddIndexed(v *sdk.Vote, ranks []int32) error {
	if err := s.turnout.add(v); err != nil {
		return err
	}
	if err := s.b.AddIndexed(v, ranks); err != nil {
		return fmt.Errorf("%w: %w", ErrCount, err)
	}
	return nil
}

// Result runs the count of the votes added. The Stream must not be used
// after.
func (s *Stream) Result() (*sdk.TallyOutput, error) {
	head, weight := s.turnout.result()
	out, err := CountProfile(s.b.Profile(), s.cfg)
	if err != nil {
		return nil, err
	}
	out.Turnout = sdk.Turnout{Head: head, Weight: weight}
	out.QuorumMet = head >= s.quorum && weight.Cmp(s.quorumWeight) >= 0
	if !out.QuorumMet {
		out.Decision, out.Elected = sdk.DecisionNoQuorum, nil
		out.Rounds = nil
		out.Explanation = []string{fmt.Sprintf("%d voters took part (weight %v); the quorum is %d voters and weight %v, so nothing is decided",
			head, weight, s.quorum, s.quorumWeight)}
	}
	return out, nil
}

// turnout adds up the voters and their weights exactly.
type turnout struct {
	head, ones int64        // voters; those of weight 1
	acc        sdk.Rational // the other weights, while they fit
	exact      *big.Rat     // the other weights once they do not
	votes      int
}

func (t *turnout) add(v *sdk.Vote) error {
	t.votes++
	n := v.Count
	if n == 0 {
		n = 1
	}
	if n < 0 || t.head > math.MaxInt64-n {
		return fmt.Errorf("%w: vote %d: bad or overflowing count %d", ErrCount, t.votes, v.Count)
	}
	t.head += n
	if !v.Weight.Valid() {
		return fmt.Errorf("%w: vote %d: invalid weight %v", ErrCount, t.votes, v.Weight)
	}
	if v.Weight.Num == v.Weight.Den && t.ones <= math.MaxInt64-n {
		t.ones += n // weight 1, the common case, without Rational calls
		return nil
	}
	if t.exact == nil {
		w, err := v.Weight.Mul(sdk.Int(n))
		var sum sdk.Rational
		if err == nil {
			sum, err = t.acc.Add(w)
		}
		if err == nil {
			t.acc = sum
			return nil
		}
		t.exact = big.NewRat(t.acc.Num, t.acc.Den)
	}
	w := new(big.Rat).SetFrac64(v.Weight.Num, max(v.Weight.Den, 1))
	t.exact.Add(t.exact, w.Mul(w, new(big.Rat).SetInt64(n)))
	return nil
}

// result returns the voters and their total weight; the weight is zero
// when it does not fit in a Rational.
func (t *turnout) result() (int64, sdk.Rational) {
	if t.exact == nil {
		if sum, err := t.acc.Add(sdk.Int(t.ones)); err == nil {
			return t.head, sum
		}
		t.exact = big.NewRat(t.acc.Num, t.acc.Den)
	}
	e := new(big.Rat).Add(t.exact, new(big.Rat).SetInt64(t.ones))
	if !e.Num().IsInt64() || !e.Denom().IsInt64() {
		return t.head, sdk.Rational{}
	}
	return t.head, sdk.Rational{Num: e.Num().Int64(), Den: e.Denom().Int64()}
}

// exhaustion says why a ballot stopped counting.
type exhaustion int

const (
	exNoChoice exhaustion = iota // no continuing candidate left on it
	exOvervote
	exSkipped
	exDuplicate
	nExhaustions
)

var exhaustionWords = [nExhaustions]string{"with no further choice", "at an overvote", "after too many skipped ranks", "at a repeated candidate"}

// counter holds the state of one count.
type counter struct {
	p          *ranked.Profile
	cfg        Config
	overvote   string
	maxSkipped int
	maxRanks   int
	dupExhaust bool

	scale      int64   // vote values are in units of 1/scale
	value      []int64 // per ballot: Count·Weight·scale
	pos        []int32 // per ballot: rank it counts at, or -1
	piles      [][]int32
	total      []int64 // per candidate: value held
	heads      []int64 // per candidate: voters held
	continuing []bool
	history    [][]int64 // totals at the start of each round
	lots       *ranked.Lots
}

// CountProfile runs an instant-runoff count of p under cfg. The output's
// Turnout and QuorumMet are left for the caller (Count fills them).
func CountProfile(p *ranked.Profile, cfg Config) (*sdk.TallyOutput, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(p.Candidates) == 0 {
		return nil, fmt.Errorf("%w: no candidates", ErrCount)
	}
	if len(p.Ballots) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d distinct ballots, at most %d", ErrCount, len(p.Ballots), math.MaxInt32)
	}
	c := &counter{
		p: p, cfg: cfg, overvote: overvoteRule(cfg.Overvote), maxSkipped: cfg.maxSkipped(),
		maxRanks: cfg.MaxRankings, dupExhaust: cfg.Duplicates == DuplicatesExhaust,
	}
	if cfg.Seed != nil {
		c.lots = ranked.NewLots(*cfg.Seed)
	}
	uwi := -1
	if cfg.UndeclaredWriteIn != "" {
		i, ok := p.Index(cfg.UndeclaredWriteIn)
		if !ok {
			return nil, fmt.Errorf("%w: undeclared_write_in %q is not an option", ErrConfig, cfg.UndeclaredWriteIn)
		}
		uwi = i
	}
	if err := c.values(); err != nil {
		return nil, err
	}
	return c.run(uwi), nil
}

// values sets scale to the least common denominator of the weights and
// each ballot's value, refusing totals that do not fit in int64.
func (c *counter) values() error {
	l := big.NewInt(1)
	var g, d big.Int
	for i := range c.p.Ballots {
		w := c.p.Ballots[i].Weight
		if !w.Valid() || w.Sign() < 0 || c.p.Ballots[i].Count < 0 {
			return fmt.Errorf("%w: ballot %d: invalid weight %v or count %d", ErrCount, i+1, w, c.p.Ballots[i].Count)
		}
		if w.Den > 1 {
			d.SetInt64(w.Den)
			g.GCD(nil, nil, l, &d)
			l.Mul(l, d.Quo(&d, &g))
			if !l.IsInt64() {
				return fmt.Errorf("%w: the weights' common denominator exceeds int64", ErrCount)
			}
		}
	}
	c.scale = l.Int64()
	c.value = make([]int64, len(c.p.Ballots))
	var sum int64
	for i := range c.p.Ballots {
		b := &c.p.Ballots[i]
		w := b.Weight
		if w.Num == 0 {
			continue
		}
		v, ok := mul64(w.Num, c.scale/w.Den)
		if ok {
			v, ok = mul64(v, b.Count)
		}
		if !ok || sum > math.MaxInt64-v {
			return fmt.Errorf("%w: the total of the votes exceeds int64 in units of 1/%d", ErrCount, c.scale)
		}
		c.value[i] = v
		sum += v
	}
	return nil
}

// mul64 returns a·b for non-negative a, b and whether it fits in int64.
func mul64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	return int64(lo), hi == 0 && lo <= math.MaxInt64
}

// next returns the rank at or after from where ballot b counts, with the
// candidate there, or -1, -1 and why it exhausts. A scan always starts
// after a mark, so the run of skipped ranks starts at zero.
func (c *counter) next(b int, from int) (rank int, cand int32, why exhaustion) {
	ranks := c.p.Ballots[b].Ranks
	end := len(ranks)
	if c.maxRanks > 0 && c.maxRanks < end {
		end = c.maxRanks
	}
	skipped := 0
	for i := from; i < end; i++ {
		switch r := ranks[i]; {
		case r == ranked.Skipped:
			skipped++
			if c.maxSkipped >= 0 && skipped > c.maxSkipped {
				return -1, -1, exSkipped
			}
		case r == ranked.Overvote:
			if c.overvote != OvervoteSkip {
				return -1, -1, exOvervote
			}
			skipped = 0
		case r < 0 || int(r) >= len(c.continuing):
			// Not a mark ranked knows: pass over it.
			skipped = 0
		default:
			skipped = 0
			if c.dupExhaust && repeated(ranks[:i], r) {
				return -1, -1, exDuplicate
			}
			if c.continuing[r] {
				return i, r, 0
			}
		}
	}
	return -1, -1, exNoChoice
}

// repeated reports whether c is among ranks.
func repeated(ranks []int32, c int32) bool {
	for _, r := range ranks {
		if r == c {
			return true
		}
	}
	return false
}

// run counts rounds until a winner or a tie.
func (c *counter) run(uwi int) *sdk.TallyOutput {
	n := len(c.p.Candidates)
	c.total, c.heads = make([]int64, n), make([]int64, n)
	c.piles = make([][]int32, n)
	c.continuing = make([]bool, n)
	for i := range c.continuing {
		c.continuing[i] = true
	}
	c.pos = make([]int32, len(c.p.Ballots))
	var inactive [nExhaustions]int64
	for b := range c.p.Ballots {
		rank, cand, why := c.next(b, 0)
		c.pos[b] = int32(rank)
		if cand < 0 {
			inactive[why] += c.value[b]
			continue
		}
		c.piles[cand] = append(c.piles[cand], int32(b))
		c.total[cand] += c.value[b]
		c.heads[cand] += c.p.Ballots[b].Count
	}
	out := &sdk.TallyOutput{Decision: sdk.DecisionElected, QuorumMet: true}
	for number := int64(1); ; number++ {
		rd := sdk.Round{Number: number, Counts: c.counts()}
		c.history = append(c.history, append([]int64(nil), c.total...))
		var notes []string
		if number == 1 {
			if s := c.exhaustNote(inactive, "votes that count for no one"); s != "" {
				notes = append(notes, s)
			}
		}
		cont, sum, lead := 0, int64(0), -1
		for i := range c.continuing {
			if c.continuing[i] {
				cont++
				sum += c.total[i]
				if lead < 0 || c.total[i] > c.total[lead] {
					lead = i
				}
			}
		}
		majority := c.total[lead] > sum-c.total[lead]
		if cont == 1 || majority && (!c.cfg.ContinueUntilTwoRemain || cont <= 2) {
			id := c.p.Candidates[lead].ID
			if cont == 1 {
				notes = append(notes, fmt.Sprintf("%s is the only candidate left and is elected", id))
			} else {
				notes = append(notes, fmt.Sprintf("%s has more than half of %s votes (%s) and is elected", id, c.rat(sum), c.rat(c.total[lead])))
			}
			rd.Elected = []string{id}
			rd.Note = strings.Join(notes, "; ")
			out.Rounds = append(out.Rounds, rd)
			out.Elected = []string{id}
			out.Counts = rd.Counts
			out.Explanation = []string{fmt.Sprintf("%s is elected in round %d with %s of %s continuing votes", id, number, c.rat(c.total[lead]), c.rat(sum))}
			return out
		}
		excluded, why, tied := c.choose(uwi, cont, sum)
		if tied != nil {
			ids := c.ids(tied)
			note := why // a tie for exclusion
			if note == "" {
				// The tie of all that remain.
				note = fmt.Sprintf("%s have %s of %s votes each: %s more than half", list(ids), c.rat(c.total[tied[0]]), c.rat(sum), noneOrNeither(len(ids)))
			}
			notes = append(notes, note)
			rd.Note = strings.Join(notes, "; ")
			out.Rounds = append(out.Rounds, rd)
			out.Decision = sdk.DecisionTie
			out.Counts = rd.Counts
			out.Explanation = []string{fmt.Sprintf("%s tie with %s votes each; the rules leave the decision to the meeting's chair", list(ids), c.rat(c.total[tied[0]]))}
			if why != "" {
				out.Explanation = []string{why + "; without a seed for lots in the ballot's config, the rules leave the decision to the meeting's chair"}
			}
			return out
		}
		notes = append(notes, why)
		rd.Eliminated = c.ids(excluded)
		var gone [nExhaustions]int64
		rd.Transfers, gone = c.transfer(excluded)
		if s := c.exhaustNote(gone, "votes exhausted"); s != "" {
			notes = append(notes, s)
		}
		rd.Note = strings.Join(notes, "; ")
		out.Rounds = append(out.Rounds, rd)
	}
}

// noneOrNeither words "none has"/"neither has" for n tied candidates.
func noneOrNeither(n int) string {
	if n == 2 {
		return "neither has"
	}
	return "none has"
}

// choose decides whom to exclude this round and why. tied is non-nil
// when the count cannot go on: the candidates tied, and why (when set)
// describes an unbreakable tie for exclusion.
func (c *counter) choose(uwi, cont int, sum int64) (excluded []int, why string, tied []int) {
	prefix := fmt.Sprintf("no option has more than half of %s votes; ", c.rat(sum))
	if uwi >= 0 && c.continuing[uwi] && c.total[uwi] > 0 {
		return []int{uwi}, prefix + fmt.Sprintf("%s stands for undeclared write-ins and is excluded first", c.p.Candidates[uwi].ID), nil
	}
	if t := c.cfg.MinimumVoteThreshold; t > 0 {
		lim, ok := mul64(t, c.scale)
		if !ok {
			lim = math.MaxInt64
		}
		var below []int
		for i, ok := range c.continuing {
			if ok && c.total[i] < lim {
				below = append(below, i)
			}
		}
		if len(below) > 0 && len(below) < cont {
			return below, prefix + fmt.Sprintf("%s %s fewer than the minimum of %d votes and %s excluded", list(c.ids(below)), hasHave(len(below)), t, isAre(len(below))), nil
		}
	}
	order := make([]int, 0, cont)
	for i, ok := range c.continuing {
		if ok {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return c.total[order[a]] < c.total[order[b]] })
	if c.cfg.BatchElimination {
		var running int64
		batch := 0
		for i := 0; i < len(order); {
			j := i
			for j < len(order) && c.total[order[j]] == c.total[order[i]] {
				j++
			}
			if running < c.total[order[i]] {
				batch = i
			}
			running += c.total[order[i]] * int64(j-i)
			i = j
		}
		if batch > 1 {
			ex := append([]int(nil), order[:batch]...)
			sort.Ints(ex)
			var held int64
			for _, e := range ex {
				held += c.total[e]
			}
			next := order[batch]
			return ex, prefix + fmt.Sprintf("%s together hold %s votes, fewer than %s alone (%s), and are excluded together",
				list(c.ids(ex)), c.rat(held), c.p.Candidates[next].ID, c.rat(c.total[next])), nil
		}
	}
	low := order[:1]
	for len(low) < len(order) && c.total[order[len(low)]] == c.total[order[0]] {
		low = order[:len(low)+1]
	}
	low = append([]int(nil), low...)
	sort.Ints(low)
	if len(low) == 1 {
		return low, prefix + fmt.Sprintf("%s has the fewest and is excluded", c.p.Candidates[low[0]].ID), nil
	}
	if c.total[low[0]] == 0 && len(low) < cont {
		// Excluding candidates who hold no ballot moves nothing: which
		// goes first cannot matter, so they go together.
		return low, prefix + fmt.Sprintf("%s hold no votes and are excluded together", list(c.ids(low))), nil
	}
	tieWords := fmt.Sprintf("%s tie with the fewest votes (%s)", list(c.ids(low)), c.rat(c.total[low[0]]))
	if len(low) < cont {
		// Earlier rounds, latest first: the candidate with fewer votes
		// in the latest round that separates them goes.
		cands := low
		for r := len(c.history) - 2; r >= 0 && len(cands) > 1; r-- {
			least := cands[:0:0]
			for _, x := range cands {
				switch {
				case len(least) == 0 || c.history[r][x] < c.history[r][least[0]]:
					least = append(least[:0], x)
				case c.history[r][x] == c.history[r][least[0]]:
					least = append(least, x)
				}
			}
			if len(least) == 1 {
				return least, prefix + fmt.Sprintf("%s; %s had the fewest of them in round %d and is excluded", tieWords, c.p.Candidates[least[0]].ID, r+1), nil
			}
			cands = least
		}
		if c.lots == nil {
			return nil, prefix + tieWords + " and no earlier round separates them", low
		}
		pick, how := c.lots.Pick(cands)
		return []int{pick}, prefix + fmt.Sprintf("%s and no earlier round separates them; %s: %s is excluded", tieWords, how, c.p.Candidates[pick].ID), nil
	}
	// Every continuing candidate has the same votes: the election itself
	// is tied, and only lots, when a seed is configured, go on.
	if c.lots == nil {
		return nil, "", low
	}
	pick, how := c.lots.Pick(low)
	return []int{pick}, prefix + fmt.Sprintf("%s, all that remain; %s: %s is excluded", tieWords, how, c.p.Candidates[pick].ID), nil
}

// transfer excludes candidates and moves their ballots on, returning the
// transfers (per excluded candidate: to each receiver in option order,
// then exhausted) and the value exhausted per reason.
func (c *counter) transfer(excluded []int) ([]sdk.Transfer, [nExhaustions]int64) {
	var gone [nExhaustions]int64
	for _, e := range excluded {
		c.continuing[e] = false
	}
	var ts []sdk.Transfer
	moved := make([]int64, len(c.p.Candidates))
	for _, e := range excluded {
		clear(moved)
		var exhausted int64
		for _, b := range c.piles[e] {
			rank, cand, why := c.next(int(b), int(c.pos[b])+1)
			c.pos[b] = int32(rank)
			v := c.value[b]
			if cand < 0 {
				gone[why] += v
				exhausted += v
				continue
			}
			c.piles[cand] = append(c.piles[cand], b)
			c.total[cand] += v
			c.heads[cand] += c.p.Ballots[b].Count
			moved[cand] += v
		}
		c.piles[e], c.total[e], c.heads[e] = nil, 0, 0
		from := c.p.Candidates[e].ID
		for i, v := range moved {
			if v > 0 {
				ts = append(ts, sdk.Transfer{From: from, To: c.p.Candidates[i].ID, Value: c.q(v)})
			}
		}
		if exhausted > 0 {
			ts = append(ts, sdk.Transfer{From: from, To: "", Value: c.q(exhausted)})
		}
	}
	return ts, gone
}

// counts returns every candidate's current votes, in option order.
func (c *counter) counts() []sdk.Count {
	cs := make([]sdk.Count, len(c.p.Candidates))
	for i, o := range c.p.Candidates {
		cs[i] = sdk.Count{Choice: o.ID, Votes: c.heads[i], Weight: c.q(c.total[i])}
	}
	return cs
}

// q returns the value v (in units of 1/scale) as a Rational.
func (c *counter) q(v int64) sdk.Rational {
	r, err := sdk.NewRational(v, c.scale)
	if err != nil { // cannot happen: 0 ≤ v, 0 < scale
		return sdk.Rational{Num: v, Den: c.scale}
	}
	return r
}

// rat formats the value v for notes.
func (c *counter) rat(v int64) string { return c.q(v).String() }

// exhaustNote words the value that stopped counting, per reason, after
// label.
func (c *counter) exhaustNote(gone [nExhaustions]int64, label string) string {
	var parts []string
	for why, v := range gone {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", c.rat(v), exhaustionWords[why]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return label + ": " + strings.Join(parts, ", ")
}

func (c *counter) ids(cands []int) []string {
	ids := make([]string, len(cands))
	for i, x := range cands {
		ids[i] = c.p.Candidates[x].ID
	}
	return ids
}

// list joins ids as "a", "a and b", "a, b and c".
func list(ids []string) string {
	if len(ids) <= 1 {
		return strings.Join(ids, "")
	}
	return strings.Join(ids[:len(ids)-1], ", ") + " and " + ids[len(ids)-1]
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
