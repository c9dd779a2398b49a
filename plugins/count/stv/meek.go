package stv

import (
	"fmt"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/ranked"
	"github.com/plenum-vote/plenum/sdk"
)

// meekOmegaDecimals sets omega = 10^-6 vote.
const meekOmegaDecimals = 6

// maxMeekIterations bounds the iterations of one round.
const maxMeekIterations = 100_000

// meek is a count by Meek's method in fixed point.
type meek struct {
	p      *ranked.Profile
	scale  int64
	seats  int
	skip   bool // overvoted ranks are passed over
	values []int64
	state  []state
	kf     []int64
	votes  []int64
	papers []int64 // papers giving a candidate some value
	excess int64
	quota  int64
	lots   *ranked.Lots
	notes  []string
	seen   []int32 // scratch: the ballot (index+1) that last gave each candidate value
}

// countMeek counts p by Meek's method as the Proportional Representation
// Foundation's reference rule states it (prfound.org, "Reference Meek Rule"):
//
//  1. Every continuing candidate has a keep factor, 1 at the start; a
//     defeated candidate's is 0.
//  2. Iterate: each paper, worth its value w (1, or its weight), gives
//     each candidate in order of preference w × keep factor (rounded up),
//     and w is reduced by that; what is left after the last preference is
//     excess. The quota is the votes held by candidates / (seats + 1),
//     truncated, plus one unit of the last decimal. Hopeful candidates at
//     or above the quota are elected (and a new iteration starts). The
//     elected candidates' keep factors become keep factor × quota /
//     votes, rounded up, until their total surplus is below omega
//     (10^-6) or stops falling.
//  3. Then the hopeful candidate with the fewest votes is defeated and
//     the iteration resumes. Candidates whose votes exceed the fewest by
//     no more than the total surplus count as tied with it, and lots
//     decide between them.
//  4. The count ends when the seats are filled or when the hopeful
//     candidates are no more than the seats left, who are then elected.
//
// Arithmetic is fixed point with Config.Decimals places (9 by default);
// rounding is down except where stated. No votes are transferred as
// such: the rounds report each candidate's votes and keep factor.
func countMeek(p *ranked.Profile, cfg Config) (*sdk.TallyOutput, error) {
	n := len(p.Candidates)
	m := &meek{
		p: p, scale: pow10(cfg.Decimals), seats: p.Seats, skip: cfg.Overvote == OvervoteSkip,
		values: make([]int64, len(p.Ballots)), state: make([]state, n),
		kf: make([]int64, n), votes: make([]int64, n), papers: make([]int64, n), lots: ranked.NewLots(cfg.Seed),
		seen: make([]int32, n),
	}
	for c := range m.kf {
		m.kf[c] = m.scale
	}
	for i, b := range p.Ballots {
		v, err := fixedOf(b.Weight, m.scale)
		if err != nil {
			return nil, fmt.Errorf("stv: ballot %d: weight %v: %w", i+1, b.Weight, err)
		}
		m.values[i] = v
	}
	omega := pow10(max(cfg.Decimals-meekOmegaDecimals, 0))
	d := cfg.Decimals
	out := &sdk.TallyOutput{Decision: sdk.DecisionElected, QuorumMet: true}
	var winners []int
	elect := func(c int, round *sdk.Round) {
		m.state[c] = elected
		winners = append(winners, c)
		round.Elected = append(round.Elected, p.Candidates[c].ID)
	}
	for r := 1; ; r++ {
		if r > 2*n+4 {
			return nil, fmt.Errorf("stv: the count did not end after %d rounds", r)
		}
		round := sdk.Round{Number: int64(r)}
		var hop []int
		for c, s := range m.state {
			if s == hopeful {
				hop = append(hop, c)
			}
		}
		// Step 1: is the count complete?
		if len(winners) == m.seats || len(hop) <= m.seats-len(winners) {
			if err := m.distribute(); err != nil {
				return nil, err
			}
			round.Counts = m.counts()
			if len(winners) < m.seats {
				for _, c := range hop {
					elect(c, &round)
				}
				round.Note = "the hopeful candidates are no more than the seats left: all are elected"
			} else {
				round.Note = "every seat is filled"
			}
			out.Rounds = append(out.Rounds, round)
			break
		}
		// Step 2: iterate.
		var last int64 = -1
		iterations := 0
		newly := false
		for ; iterations < maxMeekIterations; iterations++ {
			if err := m.distribute(); err != nil {
				return nil, err
			}
			for c, s := range m.state {
				if s == hopeful && m.votes[c] >= m.quota && len(winners) < m.seats {
					elect(c, &round)
					newly = true
				}
			}
			if newly {
				break
			}
			surplus := m.surplus()
			if surplus < omega || last >= 0 && surplus >= last {
				break
			}
			last = surplus
			for c, s := range m.state {
				if s == elected && m.votes[c] > 0 {
					k, err := mulDivUp(m.kf[c], m.quota, m.votes[c])
					if err != nil {
						return nil, err
					}
					m.kf[c] = k
				}
			}
		}
		round.Counts = m.counts()
		kfs := m.keepFactors(d)
		if newly {
			round.Note = fmt.Sprintf("after %s candidates reached the quota %s; keep factors %s", iterationsText(iterations+1), formatFixed(m.quota, d), kfs)
			out.Rounds = append(out.Rounds, round)
			continue
		}
		// Step 3: defeat the lowest hopeful candidate.
		// Candidates whose votes are within the total surplus of the
		// lowest are tied with it: the rule cannot tell them apart.
		lowest := hop[0]
		for _, c := range hop {
			if m.votes[c] < m.votes[lowest] {
				lowest = c
			}
		}
		low := []int{}
		for _, c := range hop {
			if m.votes[c]-m.votes[lowest] <= m.surplus() {
				low = append(low, c)
			}
		}
		c := low[0]
		tie := ""
		if len(low) > 1 {
			var how string
			c, how = m.lots.Pick(low)
			var ids []string
			for _, x := range low {
				ids = append(ids, p.Candidates[x].ID)
			}
			tie = fmt.Sprintf("tie for exclusion between %s broken by lot: %s (%s); ", strings.Join(ids, ", "), p.Candidates[c].ID, how)
			m.notes = append(m.notes, tie)
		}
		m.state[c], m.kf[c] = excluded, 0
		round.Eliminated = []string{p.Candidates[c].ID}
		round.Note = fmt.Sprintf("%safter %s (quota %s, keep factors %s) %s has the fewest votes (%s) and is defeated; its keep factor becomes 0",
			tie, iterationsText(iterations+1), formatFixed(m.quota, d), kfs, p.Candidates[c].ID, formatFixed(m.votes[c], d))
		out.Rounds = append(out.Rounds, round)
	}
	out.Counts = m.counts()
	for _, c := range winners {
		out.Elected = append(out.Elected, p.Candidates[c].ID)
	}
	out.Explanation = append([]string{
		fmt.Sprintf("single transferable vote by Meek's method (PR Foundation reference rule), fixed-point arithmetic with %d decimals, omega 10^-%d", d, meekOmegaDecimals),
		fmt.Sprintf("%d seats; final quota %s; excess %s", m.seats, formatFixed(m.quota, d), formatFixed(m.excess, d)),
		"elected in order: " + strings.Join(out.Elected, ", "),
	}, m.notes...)
	return out, nil
}

// distribute shares every paper among the candidates by their keep
// factors and recomputes the quota.
func (m *meek) distribute() error {
	clear(m.votes)
	clear(m.papers)
	m.excess = 0
	var total int64
	for i, b := range m.p.Ballots {
		w := m.values[i]
		if b.Count == 0 || w == 0 {
			continue
		}
		stamp := int32(i + 1)
	ranks:
		for _, r := range b.Ranks {
			switch {
			case r == ranked.Overvote:
				if !m.skip {
					break ranks
				}
				continue
			case r < 0, m.kf[r] == 0, m.seen[r] == stamp:
				continue
			}
			m.seen[r] = stamp
			keep := w
			if m.kf[r] != m.scale {
				var err error
				if keep, err = mulDivUp(w, m.kf[r], m.scale); err != nil {
					return err
				}
			}
			v, err := mulChecked(keep, b.Count)
			if err != nil {
				return err
			}
			if m.votes[r], err = addChecked(m.votes[r], v); err != nil {
				return err
			}
			if keep > 0 {
				m.papers[r] += b.Count
			}
			w -= keep
			if w <= 0 {
				break
			}
		}
		v, err := mulChecked(w, b.Count)
		if err != nil {
			return err
		}
		m.excess += v
		if total, err = addChecked(total, mulOr(m.values[i], b.Count)); err != nil {
			return err
		}
	}
	clear(m.seen)
	held := total - m.excess
	m.quota = held/int64(m.seats+1) + 1
	return nil
}

// mulOr returns a·b, or the largest int64 when it overflows (the caller
// then reports the overflow through addChecked).
func mulOr(a, b int64) int64 {
	v, err := mulChecked(a, b)
	if err != nil {
		return 1<<63 - 1
	}
	return v
}

// mulDivUp returns ceil(a·b/c) for a, b ≥ 0 and c > 0.
func mulDivUp(a, b, c int64) (int64, error) {
	q, err := mulDiv(a, b, c)
	if err != nil {
		return 0, err
	}
	if r, _ := mulDivRem(a, b, c); r != 0 {
		q++
	}
	return q, nil
}

// iterationsText returns "1 iteration" or "n iterations".
func iterationsText(n int) string {
	if n == 1 {
		return "1 iteration"
	}
	return fmt.Sprintf("%d iterations", n)
}

// surplus returns the elected candidates' total surplus.
func (m *meek) surplus() int64 {
	var s int64
	for c, st := range m.state {
		if st == elected && m.votes[c] > m.quota {
			s += m.votes[c] - m.quota
		}
	}
	return s
}

// counts returns every candidate's current votes.
func (m *meek) counts() []sdk.Count {
	out := make([]sdk.Count, len(m.p.Candidates))
	for c, o := range m.p.Candidates {
		out[c] = sdk.Count{Choice: o.ID, Votes: m.papers[c], Weight: rational(m.votes[c], m.scale)}
	}
	return out
}

// keepFactors lists the elected candidates' keep factors.
func (m *meek) keepFactors(d int) string {
	var s []string
	for c, st := range m.state {
		if st == elected {
			s = append(s, m.p.Candidates[c].ID+" "+formatFixed(m.kf[c], d))
		}
	}
	if len(s) == 0 {
		return "all 1"
	}
	return strings.Join(s, ", ")
}
