package stv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/plenum-vote/plenum/plugins/count/ranked"
	"github.com/plenum-vote/plenum/sdk"
)

// state is a candidate's standing in a count.
type state uint8

const (
	hopeful state = iota
	elected
	excluded
)

// parcel is a group of identical papers (one ranked.Ballot) counted for
// one candidate: where on the ballot it stands and what each paper is
// worth. A ballot group never splits, since its papers share ranking and
// value, so a count holds at most one parcel per group.
type parcel struct {
	ballot int32 // index into Profile.Ballots
	pos    int32 // index into the ballot's Ranks of the current mark
	count  int64
	value  int64 // value of each paper, in units of 10^-decimals
}

// wigm is a count by a weighted inclusive Gregory method in fixed point:
// the Scottish, Minneapolis and RCTab rules.
type wigm struct {
	p     *ranked.Profile
	cfg   Config
	scale int64
	seats int

	state   []state
	votes   []int64 // current votes, in units
	papers  []int64 // papers held
	parcels [][]parcel
	pending []bool // elected with a surplus not yet transferred

	history [][]int64 // votes at the start of each round
	lots    *ranked.Lots
	quota   int64
	total   int64 // value of the valid papers
	exhaust int64 // value that became non-transferable
	lost    int64 // value lost to truncation
	elected []int
	notes   []string // explanation lines about ties
}

// countWIGM counts p by the Scottish, Minneapolis or RCTab rule.
func countWIGM(p *ranked.Profile, cfg Config) (*sdk.TallyOutput, error) {
	n := len(p.Candidates)
	w := &wigm{
		p: p, cfg: cfg, scale: pow10(cfg.Decimals), seats: p.Seats,
		state: make([]state, n), votes: make([]int64, n), papers: make([]int64, n),
		parcels: make([][]parcel, n), pending: make([]bool, n),
		lots: ranked.NewLots(cfg.Seed),
	}
	if err := w.first(); err != nil {
		return nil, err
	}
	out := &sdk.TallyOutput{Decision: sdk.DecisionElected, QuorumMet: true}
	for r := 1; ; r++ {
		next := w.round
		if cfg.Variant == Minneapolis {
			next = w.roundMinneapolis
		}
		round, done, err := next(r)
		if err != nil {
			return nil, fmt.Errorf("stv: round %d: %w", r, err)
		}
		out.Rounds = append(out.Rounds, round)
		if done {
			break
		}
		if r > 4*n+4 {
			return nil, fmt.Errorf("stv: the count did not end after %d rounds", r)
		}
	}
	out.Counts = w.counts()
	for _, c := range w.elected {
		out.Elected = append(out.Elected, p.Candidates[c].ID)
	}
	out.Explanation = w.explain()
	return out, nil
}

// first credits every paper to its first preference and computes the
// quota (rules 45 and 46).
func (w *wigm) first() error {
	allWhole := true
	for i, b := range w.p.Ballots {
		if b.Count == 0 {
			continue
		}
		v, err := fixedOf(b.Weight, w.scale)
		if err != nil {
			return fmt.Errorf("stv: ballot %d: weight %v: %w", i+1, b.Weight, err)
		}
		if v%w.scale != 0 {
			allWhole = false
		}
		pos := w.next(i, -1)
		if pos < 0 || v == 0 {
			continue // no first preference: not a valid paper
		}
		if err := w.credit(int(w.p.Ballots[i].Ranks[pos]), parcel{ballot: int32(i), pos: int32(pos), count: b.Count, value: v}); err != nil {
			return err
		}
	}
	for _, v := range w.votes {
		var err error
		if w.total, err = addChecked(w.total, v); err != nil {
			return err
		}
	}
	seats1 := int64(w.seats + 1)
	if allWhole {
		w.quota = (w.total/w.scale/seats1 + 1) * w.scale
	} else {
		w.quota = w.total/seats1 + 1
	}
	return nil
}

// credit adds a parcel to candidate c's votes.
func (w *wigm) credit(c int, pc parcel) error {
	v, err := mulChecked(pc.count, pc.value)
	if err != nil {
		return err
	}
	if w.votes[c], err = addChecked(w.votes[c], v); err != nil {
		return err
	}
	w.papers[c] += pc.count
	w.parcels[c] = append(w.parcels[c], pc)
	return nil
}

// next returns the position after from of ballot b's next mark for a
// continuing candidate, or -1 when the paper is non-transferable.
func (w *wigm) next(b, from int) int {
	ranks := w.p.Ballots[b].Ranks
	for j := from + 1; j < len(ranks); j++ {
		switch r := ranks[j]; {
		case r == ranked.Overvote:
			if w.cfg.Overvote == OvervoteExhaust {
				return -1
			}
		case r < 0:
			// a skipped rank
		case w.state[r] == hopeful:
			return j
		}
	}
	return -1
}

// round runs round r of the Scottish and RCTab rules: it elects the
// candidates who reached the quota, then, while seats remain, transfers
// the largest surplus (under RCTab, every surplus of the round's winners)
// or excludes the lowest candidate. It reports whether the count is over.
func (w *wigm) round(r int) (sdk.Round, bool, error) {
	round := sdk.Round{Number: int64(r), Counts: w.counts()}
	w.history = append(w.history, slices.Clone(w.votes))
	var notes []string
	// Rule 47: candidates at or above the quota are elected, the most
	// votes first.
	var reached []int
	for c, s := range w.state {
		if s == hopeful && w.votes[c] >= w.quota {
			reached = append(reached, c)
		}
	}
	for len(reached) > 0 && len(w.elected) < w.seats {
		c, note := w.pick(reached, true, "election order")
		if note != "" {
			notes = append(notes, note)
		}
		reached = slices.DeleteFunc(reached, func(x int) bool { return x == c })
		w.elect(c, &round)
		w.pending[c] = w.votes[c] > w.quota
	}
	if len(w.elected) == w.seats {
		round.Note = join(notes, "every seat is filled")
		return round, true, nil
	}
	// Rule 52: as many continuing candidates as vacancies.
	var hop []int
	for c, s := range w.state {
		if s == hopeful {
			hop = append(hop, c)
		}
	}
	if left := w.seats - len(w.elected); len(hop) <= left {
		for len(hop) > 0 {
			c, note := w.pick(hop, true, "election order")
			if note != "" {
				notes = append(notes, note)
			}
			hop = slices.DeleteFunc(hop, func(x int) bool { return x == c })
			w.elect(c, &round)
		}
		round.Note = join(notes, "the continuing candidates are no more than the vacancies left: all are elected and nothing more is transferred")
		return round, true, nil
	}
	// Rules 48 and 49: the largest surplus first.
	var surplus []int
	for c, p := range w.pending {
		if p {
			surplus = append(surplus, c)
		}
	}
	if w.cfg.Variant == RCTab && len(round.Elected) > 0 {
		// RCTab transfers the surpluses of a round's winners in that
		// round, and excludes nobody in it.
		for len(surplus) > 0 {
			c, note := w.pick(surplus, true, "surplus order")
			if note != "" {
				notes = append(notes, note)
			}
			surplus = slices.DeleteFunc(surplus, func(x int) bool { return x == c })
			tnote, err := w.transferSurplus(c, &round)
			if err != nil {
				return round, false, err
			}
			notes = append(notes, tnote)
		}
		if len(notes) > 0 {
			round.Note = strings.Join(notes, "; ")
		} else {
			round.Note = "no surplus to transfer"
		}
		return round, false, nil
	}
	if len(surplus) > 0 {
		c, note := w.pick(surplus, true, "surplus order")
		if note != "" {
			notes = append(notes, note)
		}
		tnote, err := w.transferSurplus(c, &round)
		if err != nil {
			return round, false, err
		}
		round.Note = join(notes, tnote)
		return round, false, nil
	}
	// Rules 50 and 51: exclude the lowest.
	c, note := w.pick(hop, false, "exclusion")
	if note != "" {
		notes = append(notes, note)
	}
	xnote, err := w.exclude([]int{c}, &round, "the candidate with the fewest votes is excluded: ")
	if err != nil {
		return round, false, err
	}
	round.Note = join(notes, xnote)
	return round, false, nil
}

// exclude excludes losers and passes their papers on at their current
// value (rule 50); what introduces the note.
func (w *wigm) exclude(losers []int, round *sdk.Round, what string) (string, error) {
	var names []string
	for _, c := range losers {
		w.state[c] = excluded
		round.Eliminated = append(round.Eliminated, w.p.Candidates[c].ID)
		names = append(names, fmt.Sprintf("%s (%s)", w.p.Candidates[c].ID, formatFixed(w.votes[c], w.cfg.Decimals)))
	}
	var gone int64
	for _, c := range losers {
		moved := make(map[int]int64)
		g, err := w.move(c, moved, func(pc parcel) (int64, error) { return pc.value, nil })
		if err != nil {
			return "", err
		}
		gone += g
		w.addTransfers(round, c, moved, g)
		w.votes[c], w.papers[c], w.parcels[c] = 0, 0, nil
	}
	w.exhaust += gone
	return what + strings.Join(names, ", ") + "; their papers pass to the next continuing preference at their current value, " +
		formatFixed(gone, w.cfg.Decimals) + " non-transferable", nil
}

// elect records c's election in round.
func (w *wigm) elect(c int, round *sdk.Round) {
	w.state[c] = elected
	w.elected = append(w.elected, c)
	round.Elected = append(round.Elected, w.p.Candidates[c].ID)
}

// transferSurplus transfers the surplus of elected candidate c (rule
// 48): every paper c holds passes on at its transfer value; the
// candidate keeps the quota.
func (w *wigm) transferSurplus(c int, round *sdk.Round) (string, error) {
	w.pending[c] = false
	total := w.votes[c]
	s := total - w.quota
	var tv func(pc parcel) (int64, error)
	var how string
	d := w.cfg.Decimals
	if w.cfg.Variant == Scottish {
		// Rule 48(3): surplus × value of the paper / total votes,
		// to five decimal places, any remainder ignored.
		tv = func(pc parcel) (int64, error) { return mulDiv(s, pc.value, total) }
		one, _ := mulDiv(s, w.scale, total)
		how = fmt.Sprintf("each paper's transfer value is %s × its value / %s, truncated to %d decimals (%s for a paper worth 1)",
			formatFixed(s, d), formatFixed(total, d), d, formatFixed(one, d))
	} else {
		f, err := mulDiv(s, w.scale, total)
		if err != nil {
			return "", err
		}
		tv = func(pc parcel) (int64, error) { return mulDiv(pc.value, f, w.scale) }
		how = fmt.Sprintf("the surplus fraction %s / %s truncated to %d decimals is %s; each paper's value is multiplied by it, truncated",
			formatFixed(s, d), formatFixed(total, d), d, formatFixed(f, d))
	}
	moved := make(map[int]int64)
	gone, err := w.move(c, moved, tv)
	if err != nil {
		return "", err
	}
	var sent int64
	for _, v := range moved {
		sent += v
	}
	loss := s - sent - gone
	w.exhaust += gone
	w.lost += loss
	w.votes[c] = w.quota
	w.parcels[c] = nil
	w.addTransfers(round, c, moved, gone)
	return fmt.Sprintf("surplus of %s (%s over the quota of %s) transferred: %s; %s non-transferable, %s lost to truncation",
		w.p.Candidates[c].ID, formatFixed(s, d), formatFixed(w.quota, d), how,
		formatFixed(gone, d), formatFixed(loss, d)), nil
}

// move passes every parcel of candidate c on to its next continuing
// preference at the value value returns, adding the value each
// candidate receives to moved, and returns the value that became
// non-transferable.
func (w *wigm) move(c int, moved map[int]int64, value func(parcel) (int64, error)) (int64, error) {
	var gone int64
	for _, pc := range w.parcels[c] {
		v, err := value(pc)
		if err != nil {
			return 0, err
		}
		pc.value = v
		sum, err := mulChecked(pc.count, v)
		if err != nil {
			return 0, err
		}
		pos := w.next(int(pc.ballot), int(pc.pos))
		if pos < 0 {
			gone += sum
			continue
		}
		if v == 0 {
			continue // worthless papers need no further tracking
		}
		pc.pos = int32(pos)
		to := int(w.p.Ballots[pc.ballot].Ranks[pos])
		if err := w.credit(to, pc); err != nil {
			return 0, err
		}
		moved[to] += sum
	}
	return gone, nil
}

// addTransfers records the value moved from candidate from in round, in
// candidate order, and the non-transferable value with To "".
func (w *wigm) addTransfers(round *sdk.Round, from int, moved map[int]int64, gone int64) {
	id := w.p.Candidates[from].ID
	for c := range w.p.Candidates {
		if v, ok := moved[c]; ok {
			round.Transfers = append(round.Transfers, sdk.Transfer{From: id, To: w.p.Candidates[c].ID, Value: rational(v, w.scale)})
		}
	}
	if gone > 0 {
		round.Transfers = append(round.Transfers, sdk.Transfer{From: id, Value: rational(gone, w.scale)})
	}
}

// sureLosers returns the candidates the Minneapolis rule defeats
// together as mathematically impossible to elect: the largest set of
// lowest hopeful candidates whose votes together, with every surplus
// (of candidates above the quota, elected or not), are fewer than the
// votes of the lowest candidate outside the set, leaving at least as many
// hopeful candidates as vacancies.
func (w *wigm) sureLosers(hop []int) []int {
	var surplus int64
	for c, s := range w.state {
		if s != excluded && w.votes[c] > w.quota {
			surplus += w.votes[c] - w.quota
		}
	}
	sorted := slices.Clone(hop)
	slices.SortStableFunc(sorted, func(a, b int) int { return cmp.Compare(w.votes[a], w.votes[b]) })
	left := w.seats - len(w.elected)
	best := 0
	sum := surplus
	for k := 1; k < len(sorted) && len(sorted)-k >= left; k++ {
		sum += w.votes[sorted[k-1]]
		if sum < w.votes[sorted[k]] {
			best = k
		}
	}
	return sorted[:best]
}

// roundMinneapolis runs round r by the Minneapolis rule: when the
// candidates at the quota fill the seats, or the hopeful candidates are
// no more than the seats left, they are elected; otherwise the
// mathematically impossible candidates are defeated together; otherwise
// the candidate with the most votes at or above the quota is elected and
// their surplus transferred; otherwise the lowest candidate is defeated.
func (w *wigm) roundMinneapolis(r int) (sdk.Round, bool, error) {
	round := sdk.Round{Number: int64(r), Counts: w.counts()}
	w.history = append(w.history, slices.Clone(w.votes))
	var notes []string
	electAll := func(cands []int) {
		for len(cands) > 0 && len(w.elected) < w.seats {
			c, note := w.pick(cands, true, "election order")
			if note != "" {
				notes = append(notes, note)
			}
			cands = slices.DeleteFunc(cands, func(x int) bool { return x == c })
			w.elect(c, &round)
		}
	}
	var reached, hop []int
	for c, s := range w.state {
		if s == hopeful {
			hop = append(hop, c)
			if w.votes[c] >= w.quota {
				reached = append(reached, c)
			}
		}
	}
	left := w.seats - len(w.elected)
	switch {
	case len(reached) >= left:
		electAll(reached)
		round.Note = join(notes, "the candidates at the quota fill the seats left")
		return round, true, nil
	case len(hop) <= left:
		electAll(hop)
		round.Note = join(notes, "the hopeful candidates are no more than the seats left: all are elected")
		return round, true, nil
	}
	if losers := w.sureLosers(hop); len(losers) > 0 {
		note, err := w.exclude(losers, &round, "mathematically impossible to elect (their votes with every surplus are fewer than the next candidate's), defeated: ")
		round.Note = join(notes, note)
		return round, false, err
	}
	if len(reached) > 0 {
		c, note := w.pick(reached, true, "election")
		if note != "" {
			notes = append(notes, note)
		}
		w.elect(c, &round)
		tnote, err := w.transferSurplus(c, &round)
		round.Note = join(notes, tnote)
		return round, false, err
	}
	c, note := w.pick(hop, false, "defeat")
	if note != "" {
		notes = append(notes, note)
	}
	xnote, err := w.exclude([]int{c}, &round, "the candidate with the fewest votes is defeated: ")
	round.Note = join(notes, xnote)
	return round, false, err
}

// pick returns the candidate of cands with the most (high) or fewest
// votes. Under the Scottish rule a tie goes to the most recent earlier
// round at which the tied candidates' votes differed (rules 49(2) and
// 51(2)), narrowing round by round, and failing that to lots; the other
// variants draw lots. The note explains a tie.
func (w *wigm) pick(cands []int, high bool, what string) (int, string) {
	better := func(a, b int64) bool {
		if high {
			return a > b
		}
		return a < b
	}
	best := func(vals []int64, among []int) []int {
		var out []int
		for _, c := range among {
			switch {
			case len(out) == 0 || better(vals[c], vals[out[0]]):
				out = append(out[:0], c)
			case vals[c] == vals[out[0]]:
				out = append(out, c)
			}
		}
		return out
	}
	tied := best(w.votes, cands)
	if len(tied) == 1 {
		return tied[0], ""
	}
	ids := func(cs []int) string {
		var s []string
		for _, c := range cs {
			s = append(s, w.p.Candidates[c].ID)
		}
		return strings.Join(s, ", ")
	}
	start := ids(tied)
	// history's last entry is the current round. Only the Scottish
	// rule looks back; Minneapolis and RCTab draw lots at once.
	for s := len(w.history) - 2; w.cfg.Variant == Scottish && s >= 0 && len(tied) > 1; s-- {
		narrowed := best(w.history[s], tied)
		if len(narrowed) < len(tied) {
			tied = narrowed
			if len(tied) == 1 {
				note := fmt.Sprintf("tie for %s between %s broken by the votes at round %d, the most recent at which they differed: %s",
					what, start, s+1, w.p.Candidates[tied[0]].ID)
				w.notes = append(w.notes, note)
				return tied[0], note
			}
		}
	}
	c, how := w.lots.Pick(tied)
	earlier := ""
	if w.cfg.Variant == Scottish {
		earlier = ", equal at every earlier round,"
	}
	note := fmt.Sprintf("tie for %s between %s%s broken by lot: %s (%s)", what, ids(tied), earlier, w.p.Candidates[c].ID, how)
	w.notes = append(w.notes, note)
	return c, note
}

// counts returns every candidate's current votes.
func (w *wigm) counts() []sdk.Count {
	out := make([]sdk.Count, len(w.p.Candidates))
	for c, o := range w.p.Candidates {
		out[c] = sdk.Count{Choice: o.ID, Votes: w.papers[c], Weight: rational(w.votes[c], w.scale)}
	}
	return out
}

// explain summarises the count.
func (w *wigm) explain() []string {
	d := w.cfg.Decimals
	name := map[string]string{
		Scottish:    "the Scottish rule (SSI 2007/42)",
		Minneapolis: "the Minneapolis rule",
		RCTab:       "RCTab's multi-winner rule",
	}[w.cfg.Variant]
	lines := []string{
		fmt.Sprintf("single transferable vote by %s, fixed-point arithmetic with %d decimals", name, d),
		fmt.Sprintf("%d seats; valid votes %s; quota %s", w.seats, formatFixed(w.total, d), formatFixed(w.quota, d)),
	}
	var ids []string
	for _, c := range w.elected {
		ids = append(ids, w.p.Candidates[c].ID)
	}
	lines = append(lines, fmt.Sprintf("elected in order: %s", strings.Join(ids, ", ")))
	lines = append(lines, fmt.Sprintf("non-transferable votes %s; lost to truncation %s", formatFixed(w.exhaust, d), formatFixed(w.lost, d)))
	return append(lines, w.notes...)
}

// join joins the non-empty notes with "; ".
func join(notes []string, last string) string {
	return strings.Join(append(notes, last), "; ")
}
