// Package ranked is the shared representation of ranked ballots for the
// counting methods that read preferences in order (instant runoff, single
// transferable vote). It turns a tally hook's input into candidate
// indexes, groups identical ballots, and offers a deterministic drawing of
// lots for ties.
//
// FromInput converts a whole sdk.TallyInput; a Builder does the same one
// vote at a time, for a plugin that decodes votes as a stream
// (sdk.TallyInput.ReadWireEach), and can be Reset and reused from call to
// call so that a count of a million votes leaves no garbage behind.
//
// It uses the standard library and package sdk only, so that plugins built
// for wasip1 and the host can both import it.
package ranked

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/plenum-vote/plenum/sdk"
)

// Overvote and Skipped mark a rank that names several candidates or none.
const (
	Overvote int32 = -1
	Skipped  int32 = -2
)

// Ballot is a group of identical ballots.
type Ballot struct {
	// Count is how many voters cast this ballot (at least 1).
	Count int64
	// Weight is each voter's entitlement weight (1 when counted by head).
	Weight sdk.Rational
	// Ranks are candidate indexes into Profile.Candidates, most preferred
	// first, or Overvote/Skipped; duplicates are kept as written.
	Ranks []int32
}

// Profile is an election's candidates, seats and grouped ballots.
type Profile struct {
	// Candidates are the ballot's options, in the input's order; a
	// candidate's index is its position here.
	Candidates []sdk.Option
	// Seats is the number to elect (0 when the input does not say).
	Seats int
	// Ballots are the distinct ballots, in the order of their first vote.
	Ballots []Ballot

	index map[string]int
}

// ErrInput is wrapped by FromInput's errors about the tally input.
var ErrInput = errors.New("ranked: bad tally input")

// maxCandidates bounds the candidates so that indexes fit in int32.
const maxCandidates = 1 << 20

// FromInput builds a Profile from a tally input: it maps option ids to
// indexes, the reserved entries sdk.RankOvervote and sdk.RankSkipped to
// Overvote and Skipped, and groups votes with the same ranking and weight
// into one Ballot whose Count is the sum of the votes' counts (a Vote's
// Count of 0 is 1). Ballots keep the order of their first vote.
//
// The weight is the vote's weight when in.EffectiveCounting() is "weight",
// and 1 otherwise. It refuses unknown or duplicate option ids, option ids
// beginning with '#', negative counts and invalid weights.
func FromInput(in *sdk.TallyInput) (*Profile, error) {
	b, err := NewBuilder(in)
	if err != nil {
		return nil, err
	}
	for i := range in.Votes {
		if err := b.Add(&in.Votes[i]); err != nil {
			return nil, err
		}
	}
	return b.Profile(), nil
}

// Builder builds a Profile one vote at a time, for decoders that do not
// hold all the votes (sdk.TallyInput.ReadWireEach). FromInput is
// NewBuilder, Add for each vote, and Profile.
//
// While building, ballots are kept in pointer-free parallel slices (the
// ranks of all ballots one after another in one slice), and the []Ballot
// is made once, by Profile: in a wasm guest a growing slice of pointers
// costs write barriers and the collector's scanning at every step.
type Builder struct {
	p        *Profile
	byWeight bool
	ids      idTable
	groups   groupTable
	ranks    []int32 // the vote being added
	votes    int     // votes added, for error messages

	// Per ballot: count, weight, and the end of its ranks in arena
	// (its start is the previous ballot's end).
	counts  []int64
	weights []sdk.Rational
	ends    []int
	arena   []int32
	ballots []Ballot // Profile's, kept for reuse
}

// NewBuilder starts a Profile of in's options and seats; in.Votes are
// ignored. The counting (in.EffectiveCounting) decides whether votes
// keep their weights. It refuses what FromInput refuses of the options
// and seats.
func NewBuilder(in *sdk.TallyInput) (*Builder, error) {
	b := new(Builder)
	if err := b.Reset(in); err != nil {
		return nil, err
	}
	return b, nil
}

// Reset starts the Builder over, as NewBuilder(in) would, keeping the
// memory of its earlier use: a plugin that counts call after call reuses
// one Builder so that a large count does not leave its garbage behind.
// The Profile the Builder returned before must no longer be used.
func (b *Builder) Reset(in *sdk.TallyInput) error {
	if in == nil {
		return fmt.Errorf("%w: no input", ErrInput)
	}
	if len(in.Options) > maxCandidates {
		return fmt.Errorf("%w: %d options, at most %d", ErrInput, len(in.Options), maxCandidates)
	}
	if in.Seats < 0 || in.Seats > int64(len(in.Options)) && len(in.Options) > 0 {
		return fmt.Errorf("%w: %d seats for %d options", ErrInput, in.Seats, len(in.Options))
	}
	p := &Profile{
		Candidates: make([]sdk.Option, len(in.Options)),
		Seats:      int(in.Seats),
		index:      make(map[string]int, len(in.Options)),
	}
	*b = Builder{
		p: p, byWeight: in.EffectiveCounting() == sdk.CountWeight, ids: newIDTable(len(in.Options)),
		groups: b.groups.reset(), ranks: b.ranks[:0],
		counts: b.counts[:0], weights: b.weights[:0], ends: b.ends[:0], arena: b.arena[:0], ballots: b.ballots,
	}
	for i, o := range in.Options {
		if o.ID == "" || strings.HasPrefix(o.ID, "#") {
			return fmt.Errorf("%w: option %d: id %q is empty or reserved", ErrInput, i+1, o.ID)
		}
		if _, dup := p.index[o.ID]; dup {
			return fmt.Errorf("%w: option id %q appears twice", ErrInput, o.ID)
		}
		// Copies: the input's strings may be views of a buffer reused by
		// the next call.
		p.Candidates[i] = sdk.Option{ID: strings.Clone(o.ID), Label: strings.Clone(o.Label)}
		p.index[p.Candidates[i].ID] = i
		b.ids.add(p.Candidates[i].ID, int32(i))
	}
	return nil
}

// Add adds one vote: it maps the ranking to indexes and joins the ballot
// with the same ranking and weight, or starts one. Nothing of v is kept.
func (b *Builder) Add(v *sdk.Vote) error { return b.AddIndexed(v, nil) }

// AddIndexed is Add with the ranking already mapped to option indexes,
// as sdk.TallyInput.ReadWireEach delivers it (sdk.RankIndexOvervote and
// sdk.RankIndexSkipped are Overvote and Skipped): it spares the look-up
// of every id. With nil ranks it is Add.
func (b *Builder) AddIndexed(v *sdk.Vote, ranks []int32) error {
	b.votes++
	vi := b.votes
	count := v.Count
	if count < 0 {
		return fmt.Errorf("%w: vote %d: negative count %d", ErrInput, vi, count)
	}
	if count == 0 {
		count = 1
	}
	w := sdk.Rational{Num: 1, Den: 1}
	if b.byWeight {
		var err error
		if w, err = v.Weight.Norm(); err != nil {
			return fmt.Errorf("%w: vote %d: weight %v: %w", ErrInput, vi, v.Weight, err)
		}
		if w.Sign() < 0 {
			return fmt.Errorf("%w: vote %d: negative weight %v", ErrInput, vi, w)
		}
	}
	h := uint64(fnvOffset)
	if ranks != nil {
		n := int32(len(b.p.Candidates))
		for _, c := range ranks {
			if c >= n || c < Skipped {
				return fmt.Errorf("%w: vote %d (voter %q): rank index %d of %d options", ErrInput, vi, v.Voter, c, n)
			}
			h = (h ^ uint64(uint32(c))) * fnvPrime
		}
		return b.group(ranks, h, w, count, vi)
	}
	ranks = b.ranks[:0]
	for _, id := range v.Ranking {
		c, ok := b.ids.get(id)
		if !ok {
			switch id {
			case sdk.RankOvervote:
				c = Overvote
			case sdk.RankSkipped:
				c = Skipped
			default:
				return fmt.Errorf("%w: vote %d (voter %q): unknown option %q", ErrInput, vi, v.Voter, id)
			}
		}
		ranks = append(ranks, c)
		h = (h ^ uint64(uint32(c))) * fnvPrime
	}
	b.ranks = ranks
	return b.group(ranks, h, w, count, vi)
}

// group adds count voters to the ballot of ranks and weight w, whose hash
// so far is h.
func (b *Builder) group(ranks []int32, h uint64, w sdk.Rational, count int64, vi int) error {
	h = (h ^ uint64(w.Num)) * fnvPrime
	h = mix((h ^ uint64(w.Den)) * fnvPrime)
	if g := b.groups.find(h, ranks, w, b); g >= 0 {
		if b.counts[g] > math.MaxInt64-count {
			return fmt.Errorf("%w: vote %d: ballot count overflows", ErrInput, vi)
		}
		b.counts[g] += count
		return nil
	}
	if len(b.counts) >= math.MaxInt32 {
		return fmt.Errorf("%w: vote %d: more than %d distinct ballots", ErrInput, vi, math.MaxInt32)
	}
	b.groups.insert(h, int32(len(b.counts)))
	b.arena = append(b.arena, ranks...)
	b.counts = append(b.counts, count)
	b.weights = append(b.weights, w)
	b.ends = append(b.ends, len(b.arena))
	return nil
}

// ballotRanks returns the ranks of ballot g.
func (b *Builder) ballotRanks(g int) []int32 {
	start := 0
	if g > 0 {
		start = b.ends[g-1]
	}
	return b.arena[start:b.ends[g]:b.ends[g]]
}

// Profile returns the profile of the votes added. The Builder must not
// be used after.
func (b *Builder) Profile() *Profile {
	if len(b.counts) > 0 {
		if cap(b.ballots) < len(b.counts) {
			b.ballots = make([]Ballot, len(b.counts))
		}
		b.ballots = b.ballots[:len(b.counts)]
		b.p.Ballots = b.ballots
		for g := range b.p.Ballots {
			bal := Ballot{Count: b.counts[g], Weight: b.weights[g]}
			if r := b.ballotRanks(g); len(r) > 0 {
				bal.Ranks = r
			}
			b.p.Ballots[g] = bal
		}
	}
	return b.p
}

// FNV-1a's constants, for hashing ids and rankings.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashString hashes an option id by its length and three of its bytes,
// without a loop: ids that agree there differ by a string comparison in
// the table, and a loop over every byte is what a wasm guest pays most
// for.
func hashString(s string) uint64 {
	n := len(s)
	if n == 0 {
		return mix(fnvOffset)
	}
	return mix(uint64(n) | uint64(s[0])<<16 | uint64(s[n/2])<<24 | uint64(s[n-1])<<32)
}

// mix spreads every bit of h over the low bits a table index uses
// (the finaliser of MurmurHash3).
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// idTable maps option ids to indexes with open addressing: cheaper than
// a map in a wasm guest, where strings hash without hardware help.
type idTable struct {
	slots []idSlot
	mask  uint64
}

type idSlot struct {
	id  string
	idx int32
	set bool
}

func newIDTable(n int) idTable {
	size := 8
	for size < 4*n {
		size *= 2
	}
	return idTable{slots: make([]idSlot, size), mask: uint64(size - 1)}
}

func (t *idTable) add(id string, idx int32) {
	for i := hashString(id) & t.mask; ; i = (i + 1) & t.mask {
		if !t.slots[i].set {
			t.slots[i] = idSlot{id: id, idx: idx, set: true}
			return
		}
	}
}

func (t *idTable) get(id string) (int32, bool) {
	for i := hashString(id) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if !s.set {
			return 0, false
		}
		if s.id == id {
			return s.idx, true
		}
	}
}

// groupTable finds the ballot with a given ranking and weight: an open
// addressing table of ballot indexes (+1, 0 is empty) and their hashes.
type groupTable struct {
	slots  []int32
	hashes []uint64 // per ballot
}

// reset empties t, keeping its memory.
func (t groupTable) reset() groupTable {
	clear(t.slots)
	return groupTable{slots: t.slots, hashes: t.hashes[:0]}
}

// find returns the index of the ballot with hash h, ranks and weight w,
// or -1.
func (t *groupTable) find(h uint64, ranks []int32, w sdk.Rational, b *Builder) int {
	if len(t.slots) == 0 {
		return -1
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		g := t.slots[i] - 1
		if g < 0 {
			return -1
		}
		if t.hashes[g] == h && b.weights[g] == w && equalRanks(b.ballotRanks(int(g)), ranks) {
			return int(g)
		}
	}
}

// insert adds ballot g with hash h, growing the table at half full.
func (t *groupTable) insert(h uint64, g int32) {
	t.hashes = append(t.hashes, h)
	if 2*len(t.hashes) > len(t.slots) {
		t.slots = make([]int32, max(1024, 2*len(t.slots)))
		for j := int32(0); j < g; j++ {
			t.put(t.hashes[j], j)
		}
	}
	t.put(h, g)
}

func (t *groupTable) put(h uint64, g int32) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = g + 1
			return
		}
	}
}

func equalRanks(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Index returns the index of the candidate with option id, and whether
// there is one.
func (p *Profile) Index(id string) (int, bool) {
	if p.index == nil {
		p.index = make(map[string]int, len(p.Candidates))
		for i, o := range p.Candidates {
			p.index[o.ID] = i
		}
	}
	i, ok := p.index[id]
	return i, ok
}

// Lots draws lots deterministically: the same seed and the same calls give
// the same picks, so that anyone can repeat a count and its ties.
//
// Pick n hashes SHA-256(seed, n, the candidates' indexes in ascending
// order) and takes the digest modulo the number of candidates.
type Lots struct {
	seed  string
	drawn int
}

// NewLots returns a drawing of lots from seed.
func NewLots(seed string) *Lots { return &Lots{seed: seed} }

// Pick chooses one of candidates (indexes; order does not matter) and
// returns it with an explanation that names the seed and the draw. It
// returns -1 for no candidates.
func (l *Lots) Pick(candidates []int) (int, string) {
	if len(candidates) == 0 {
		return -1, "no candidates to draw lots between"
	}
	sorted := append([]int(nil), candidates...)
	sort.Ints(sorted)
	l.drawn++
	i := drawIndex(l.seed, l.drawn, sorted)
	return sorted[i], fmt.Sprintf("lots drawn (draw %d, seed %q): SHA-256 of the seed, the draw number and candidates %v picks index %d of %d",
		l.drawn, l.seed, sorted, i, len(sorted))
}
