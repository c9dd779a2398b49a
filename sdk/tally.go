package sdk

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// Ballot kinds (TallyInput.Kind, ValidateBallotInput.Kind).
const (
	// KindMotion is a yes/no/abstain decision. An empty Kind means a motion.
	KindMotion = "motion"
	// KindElection fills Seats among Options.
	KindElection = "election"
)

// Threshold bases (Basis): what a threshold is a share of.
const (
	// BasisVotesCast measures against the votes cast (the default when
	// empty); which choices count toward the total is the rule's business
	// (a simple majority leaves abstentions out, an absolute majority keeps
	// them).
	BasisVotesCast = "votes_cast"
	// BasisEligible measures against everyone entitled to vote
	// (TallyInput.Eligible): "two thirds of all owners".
	BasisEligible = "eligible"
)

// Counting modes (Counting).
const (
	// CountHead counts one per unit (the default when empty and ByWeight
	// is false).
	CountHead = "head"
	// CountWeight counts each unit's entitlement weight.
	CountWeight = "weight"
	// CountBoth requires the threshold by head and by weight: the double
	// majority of many condominium laws.
	CountBoth = "both"
)

// Motion choices (Vote.Choice for a motion).
const (
	ChoiceYes     = "yes"
	ChoiceNo      = "no"
	ChoiceAbstain = "abstain"
)

// Tally decisions (TallyOutput.Decision).
const (
	// DecisionPass: the motion is carried.
	DecisionPass = "pass"
	// DecisionFail: the motion is rejected.
	DecisionFail = "fail"
	// DecisionNoQuorum: too few took part for any result.
	DecisionNoQuorum = "no_quorum"
	// DecisionElected: the election filled its seats (TallyOutput.Elected).
	DecisionElected = "elected"
	// DecisionTie: the method could not separate candidates or choices and
	// the rules leave the decision to people (a casting vote, a draw).
	DecisionTie = "tie"
	// DecisionInvalid: the votes cannot be counted as the ballot is
	// defined (the explanation says why).
	DecisionInvalid = "invalid"
)

// Threshold is the share of the basis a choice needs: Num/Den, exceeded
// (Strict, ">") or reached (not Strict, "≥"). A simple majority is 1/2
// strict, a two-thirds majority 2/3 not strict. 0/0 means the rule's own
// default.
type Threshold struct {
	Num    int64 `json:"num"`
	Den    int64 `json:"den"`
	Strict bool  `json:"strict"`
}

// Option is one choice of a ballot: a candidate of an election, or a
// motion's yes, no and abstain with the labels voters saw.
type Option struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Eligible is everyone entitled to vote on a ballot, whether they voted
// or not: the basis of BasisEligible thresholds and of quorums expressed
// as shares.
type Eligible struct {
	// Units is the number of units (one vote each).
	Units int64 `json:"units"`
	// Weight is the sum of their entitlement weights (often 1 or
	// 1000/1000).
	Weight Rational `json:"weight"`
}

// Reserved ranking entries (Vote.Ranking). Option ids never begin with
// '#', so these cannot be mistaken for a candidate.
const (
	// RankOvervote stands for a rank at which the voter marked several
	// candidates.
	RankOvervote = "#overvote"
	// RankSkipped stands for a rank the voter left empty.
	RankSkipped = "#skipped"
)

// Vote is one counted vote, after double votes and proxies are resolved.
//
// # Notes
//
// In an election, Ranking holds option ids, most preferred first, and
// may hold the reserved entries RankOvervote and RankSkipped where a
// paper or imported ballot was marked so; what they mean for the count is
// the method's rule (an instant runoff may exhaust the ballot at an
// overvote or skip to the next rank). An id repeated in a Ranking is a
// duplicate: methods skip the later occurrences.
//
// Count lets one Vote stand for several identical voters (imported ballot
// files group them); 0 and 1 both mean one voter. The Weight applies to
// each of them.
type Vote struct {
	// Voter identifies the unit that cast the vote (pseudonymous).
	Voter string `json:"voter"`
	// Choice is a motion's choice: "yes", "no" or "abstain" (or an option
	// id for a motion with other options). Empty in elections.
	Choice string `json:"choice,omitempty"`
	// Weight is the unit's entitlement weight.
	Weight Rational `json:"weight"`
	// Ranking lists the option ids the voter marked in an election, most
	// preferred first; methods without ranking (plurality, approval) read
	// it as the set of marked options.
	Ranking []string `json:"ranking,omitempty"`
	// Count is how many identical voters this vote stands for; 0 and 1
	// both mean one.
	Count int64 `json:"count,omitempty"`
}

// TallyInput is the input of the tally hook: a closed ballot's definition
// and its votes.
type TallyInput struct {
	// BallotID identifies the ballot.
	BallotID string `json:"ballot_id"`
	// Kind is "motion" (also when empty) or "election".
	Kind string `json:"kind,omitempty"`
	// Rule is the counting method the ballot was defined with, e.g.
	// "simple_majority", "qualified", "plurality", "irv", "stv".
	Rule string `json:"rule"`
	// Config is the ballot's method configuration (JSON, as checked by
	// validate_ballot), e.g. {"quota":"droop"}; nil when none. The
	// tenant's configuration of the plugin is sdk.Config().
	Config json.RawMessage `json:"config,omitempty"`
	// Options are the ballot's options; required for elections.
	Options []Option `json:"options,omitempty"`
	// Seats is the number of options to elect (elections).
	Seats int64 `json:"seats,omitempty"`
	// Basis is "votes_cast" (also when empty) or "eligible".
	Basis string `json:"basis,omitempty"`
	// Counting is "head", "weight" or "both". When empty, ByWeight
	// decides between head and weight.
	Counting string `json:"counting,omitempty"`
	// Quorum is the least number of units that must take part for any
	// result; 0 for none. The host converts quorums set as shares of the
	// eligible units into this absolute number.
	Quorum int64 `json:"quorum"`
	// QuorumWeight is the least total weight that must take part; zero
	// for none.
	QuorumWeight Rational `json:"quorum_weight,omitzero"`
	// Threshold is the share a motion (or a candidate, for methods that
	// use one) needs.
	Threshold Threshold `json:"threshold"`
	// ByWeight counts weights instead of heads. It is the older spelling
	// of Counting "weight"; a plugin should read EffectiveCounting.
	ByWeight bool `json:"by_weight,omitempty"`
	// Eligible is everyone entitled to vote; zero when not given.
	Eligible Eligible `json:"eligible,omitzero"`
	// Votes are the counted votes.
	Votes []Vote `json:"votes"`
}

// EffectiveCounting returns Counting, or what ByWeight implies when it is
// empty: "weight" or "head".
func (in *TallyInput) EffectiveCounting() string {
	switch {
	case in.Counting != "":
		return in.Counting
	case in.ByWeight:
		return CountWeight
	}
	return CountHead
}

// Count is one choice's or candidate's total.
type Count struct {
	// Choice is the motion choice or the option id.
	Choice string `json:"choice"`
	// Votes is the number of units (by head).
	Votes int64 `json:"votes"`
	// Weight is their weight, or, in a transferable-vote count, the value
	// of the votes the option holds.
	Weight Rational `json:"weight"`
}

// Transfer moves vote value between options in a transferable-vote count.
type Transfer struct {
	From string `json:"from"`
	// To is the receiving option id, or "" for votes that exhaust.
	To    string   `json:"to"`
	Value Rational `json:"value"`
}

// Round is one round of a multi-round count (instant runoff, STV).
type Round struct {
	// Number counts rounds from 1.
	Number int64 `json:"number"`
	// Counts are the totals at the start of the round.
	Counts     []Count    `json:"counts"`
	Eliminated []string   `json:"eliminated,omitempty"`
	Elected    []string   `json:"elected,omitempty"`
	Transfers  []Transfer `json:"transfers,omitempty"`
	// Note explains the round (a tie broken, a surplus transferred).
	Note string `json:"note,omitempty"`
}

// Turnout is who took part: units by head and their weight.
type Turnout struct {
	Head   int64    `json:"head"`
	Weight Rational `json:"weight"`
}

// TallyOutput is the result of the tally hook.
type TallyOutput struct {
	// Decision is "pass", "fail", "no_quorum", "elected", "tie" or
	// "invalid".
	Decision string `json:"decision"`
	// QuorumMet says whether the quorum was reached.
	QuorumMet bool `json:"quorum_met"`
	// Turnout is who took part, for the quorum's explanation; zero when
	// the plugin does not report it.
	Turnout Turnout `json:"turnout,omitzero"`
	// Counts are the final totals per choice or option.
	Counts []Count `json:"counts"`
	// Elected lists the elected option ids in order of election.
	Elected []string `json:"elected,omitempty"`
	// Rounds details a multi-round count.
	Rounds []Round `json:"rounds,omitempty"`
	// Explanation says in words how the decision was reached.
	Explanation []string `json:"explanation"`
}

// Presence bits of the optional parts of a TallyInput on the wire. A
// motion uses none of them, so the guest's decoder, whose every call is
// dear under the host's deadline checks, reads one byte for all of them.
// A decoder refuses bits it does not know.
const (
	tallyInKind uint64 = 1 << iota
	tallyInConfig
	tallyInOptions
	tallyInSeats
	tallyInBasis
	tallyInCounting
	tallyInQuorumWeight
	tallyInEligible
	tallyInRankings // every vote carries a ranking
	tallyInCounts   // every vote carries a count
	// Rankings are written as option indexes rather than ids: 0 for
	// RankOvervote, 1 for RankSkipped, k+2 for Options[k]. The encoder
	// chooses it when every ranking entry is an option or a mark; it
	// spares a guest the look-up of every id (see ReadWireEach).
	tallyInRankIndexes
	tallyInAll = tallyInRankIndexes<<1 - 1
)

// Ranking entries as option indexes (ReadWireEach): an index into
// TallyInput.Options, or one of these for the reserved marks.
const (
	RankIndexOvervote int32 = -1
	RankIndexSkipped  int32 = -2
)

// rankCodes maps each ranking entry of in to its wire code (see
// tallyInRankIndexes), or returns nil when an entry is neither an option
// nor a mark.
func (in *TallyInput) rankCodes() []uint32 {
	if len(in.Options) == 0 || len(in.Options) > 1<<24 {
		return nil
	}
	ids := make(map[string]uint32, len(in.Options)+2)
	ids[RankOvervote], ids[RankSkipped] = 0, 1
	for k, o := range in.Options {
		if _, dup := ids[o.ID]; dup {
			return nil
		}
		ids[o.ID] = uint32(k) + 2
	}
	n := 0
	for i := range in.Votes {
		n += len(in.Votes[i].Ranking)
	}
	codes := make([]uint32, 0, n)
	for i := range in.Votes {
		for _, id := range in.Votes[i].Ranking {
			c, ok := ids[id]
			if !ok {
				return nil
			}
			codes = append(codes, c)
		}
	}
	return codes
}

// AppendWire appends in's wire encoding to w.
func (in *TallyInput) AppendWire(w *wire.Writer) {
	var mask uint64
	if in.Kind != "" {
		mask |= tallyInKind
	}
	if len(in.Config) > 0 {
		mask |= tallyInConfig
	}
	if len(in.Options) > 0 {
		mask |= tallyInOptions
	}
	if in.Seats != 0 {
		mask |= tallyInSeats
	}
	if in.Basis != "" {
		mask |= tallyInBasis
	}
	if in.Counting != "" {
		mask |= tallyInCounting
	}
	if in.QuorumWeight != (Rational{}) {
		mask |= tallyInQuorumWeight
	}
	if in.Eligible != (Eligible{}) {
		mask |= tallyInEligible
	}
	for i := range in.Votes {
		if len(in.Votes[i].Ranking) > 0 {
			mask |= tallyInRankings
			break
		}
	}
	for i := range in.Votes {
		if in.Votes[i].Count != 0 {
			mask |= tallyInCounts
			break
		}
	}
	var codes []uint32
	if mask&tallyInRankings != 0 {
		if codes = in.rankCodes(); codes != nil {
			mask |= tallyInRankIndexes
		}
	}
	w.String(in.BallotID)
	w.String(in.Rule)
	w.Int(in.Quorum)
	w.Int(in.Threshold.Num)
	w.Int(in.Threshold.Den)
	w.Bool(in.Threshold.Strict)
	w.Bool(in.ByWeight)
	w.Uint(mask)
	if mask&tallyInKind != 0 {
		w.String(in.Kind)
	}
	if mask&tallyInConfig != 0 {
		w.Blob(in.Config)
	}
	if mask&tallyInOptions != 0 {
		appendOptions(w, in.Options)
	}
	if mask&tallyInSeats != 0 {
		w.Int(in.Seats)
	}
	if mask&tallyInBasis != 0 {
		w.String(in.Basis)
	}
	if mask&tallyInCounting != 0 {
		w.String(in.Counting)
	}
	if mask&tallyInQuorumWeight != 0 {
		appendRational(w, in.QuorumWeight)
	}
	if mask&tallyInEligible != 0 {
		w.Int(in.Eligible.Units)
		appendRational(w, in.Eligible.Weight)
	}
	w.Uint(uint64(len(in.Votes)))
	for i := range in.Votes {
		v := &in.Votes[i]
		w.String(v.Voter)
		w.String(v.Choice)
		w.Int(v.Weight.Num)
		w.Int(v.Weight.Den)
		switch {
		case mask&tallyInRankIndexes != 0:
			w.Uint(uint64(len(v.Ranking)))
			for _, c := range codes[:len(v.Ranking)] {
				w.Uint(uint64(c))
			}
			codes = codes[len(v.Ranking):]
		case mask&tallyInRankings != 0:
			appendStrings(w, v.Ranking)
		}
		if mask&tallyInCounts != 0 {
			w.Int(v.Count)
		}
	}
}

// ReadWire decodes in from r, reusing in's slices, and checks its enums
// and numbers.
//
// The common path (a motion) is written out with checks inline: in a wasm
// guest under the host's deadline checks, each function call costs about
// 0.1 µs, which is what decides the cost of a plugin call.
func (in *TallyInput) ReadWire(r *wire.Reader) error {
	mask := in.readHead(r)
	n := r.Len(4)
	in.Votes = resize(in.Votes, n)
	// Rankings that outgrow the slice they had share chunks instead of
	// taking one allocation each: a large election's first decode would
	// otherwise allocate once per vote.
	var chunk []string
	for i := range in.Votes {
		v := &in.Votes[i]
		v.Voter = r.String()
		v.Choice = r.String()
		v.Weight = Rational{Num: r.Int(), Den: r.Int()}
		if !v.Weight.Valid() {
			invalid(r, "vote weight", v.Weight)
		}
		if mask&tallyInRankings != 0 {
			k := r.Len(1)
			if cap(v.Ranking) < k {
				if cap(chunk)-len(chunk) < k {
					chunk = make([]string, 0, max(k, 4096))
				}
				start := len(chunk)
				chunk = chunk[:start+k]
				v.Ranking = chunk[start : start+k : start+k]
			}
			v.Ranking = v.Ranking[:k]
			if mask&tallyInRankIndexes != 0 {
				for j := range v.Ranking {
					v.Ranking[j] = in.rankID(r)
				}
			} else {
				for j := range v.Ranking {
					v.Ranking[j] = r.String()
				}
			}
		} else {
			v.Ranking = v.Ranking[:0]
		}
		v.Count = 0
		if mask&tallyInCounts != 0 {
			v.Count = readCount(r, "vote count")
		}
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("tally input: %w", err)
	}
	return nil
}

// ReadWireEach decodes in from r like ReadWire but keeps none of the
// votes: it decodes each vote into v, reusing v's ranking, and calls fn
// with it; in.Votes is left empty. An error of fn stops the decoding and
// is returned as it is. When the input carries rankings as option
// indexes (the encoder's choice whenever every entry is an option or a
// mark), fn also gets them in ranks: indexes into in.Options, or
// RankIndexOvervote and RankIndexSkipped; otherwise ranks is nil. ranks
// is reused for the next vote.
//
// A method that reduces votes as they come (grouping identical rankings)
// uses it to count an election of a million votes without holding them
// all: in a wasm guest that saves the memory and, above all, the garbage
// collector's work. v's strings are views or copies of r's input as r is
// shared or copying.
func (in *TallyInput) ReadWireEach(r *wire.Reader, v *Vote, fn func(v *Vote, ranks []int32) error) error {
	mask := in.readHead(r)
	n := r.Len(4)
	in.Votes = in.Votes[:0]
	var ranks []int32
	for i := 0; i < n; i++ {
		v.Voter = r.String()
		v.Choice = r.String()
		v.Weight = Rational{Num: r.Int(), Den: r.Int()}
		if !v.Weight.Valid() {
			invalid(r, "vote weight", v.Weight)
		}
		v.Ranking = v.Ranking[:0]
		ranks = ranks[:0]
		if mask&tallyInRankings != 0 {
			k := r.Len(1)
			if cap(v.Ranking) < k {
				v.Ranking = make([]string, k)
			}
			v.Ranking = v.Ranking[:k]
			if mask&tallyInRankIndexes != 0 {
				if cap(ranks) < k {
					ranks = make([]int32, k)
				}
				ranks = ranks[:k]
				for j := range v.Ranking {
					c := r.Uint()
					switch {
					case c >= 2 && c-2 < uint64(len(in.Options)):
						ranks[j] = int32(c - 2)
						v.Ranking[j] = in.Options[c-2].ID
					case c == 0:
						ranks[j], v.Ranking[j] = RankIndexOvervote, RankOvervote
					case c == 1:
						ranks[j], v.Ranking[j] = RankIndexSkipped, RankSkipped
					default:
						invalid(r, "ranking index", c)
					}
				}
			} else {
				for j := range v.Ranking {
					v.Ranking[j] = r.String()
				}
			}
		}
		v.Count = 0
		if mask&tallyInCounts != 0 {
			v.Count = readCount(r, "vote count")
		}
		if r.Err() != nil {
			break
		}
		var idx []int32
		if mask&tallyInRankIndexes != 0 {
			idx = ranks
		}
		if err := fn(v, idx); err != nil {
			return err
		}
	}
	return finish(r, "tally input")
}

// rankID reads one index-encoded ranking entry and returns its id.
func (in *TallyInput) rankID(r *wire.Reader) string {
	c := r.Uint()
	switch {
	case c >= 2 && c-2 < uint64(len(in.Options)):
		return in.Options[c-2].ID
	case c == 0:
		return RankOvervote
	case c == 1:
		return RankSkipped
	}
	invalid(r, "ranking index", c)
	return ""
}

// readHead reads everything of a TallyInput before its votes and returns
// the presence mask.
func (in *TallyInput) readHead(r *wire.Reader) uint64 {
	in.BallotID = r.String()
	in.Rule = r.String()
	in.Quorum = r.Int()
	in.Threshold = Threshold{Num: r.Int(), Den: r.Int(), Strict: r.Bool()}
	in.ByWeight = r.Bool()
	mask := r.Uint()
	if in.Quorum < 0 {
		invalid(r, "quorum", in.Quorum)
	}
	if t := in.Threshold; t.Num < 0 || t.Den < 0 || t.Num > t.Den {
		invalid(r, "threshold", Rational{Num: t.Num, Den: t.Den})
	}
	if mask&^tallyInAll != 0 {
		invalid(r, "presence bits", mask)
	}
	if mask == 0 {
		// A motion with nothing optional: clear the optional parts.
		in.Kind, in.Config, in.Options, in.Seats, in.Basis, in.Counting = "", nil, in.Options[:0], 0, "", ""
		in.QuorumWeight, in.Eligible = Rational{}, Eligible{}
	} else {
		in.readOptional(r, mask)
	}
	return mask
}

// readOptional reads the parts of a TallyInput that mask says are there
// and clears the others.
func (in *TallyInput) readOptional(r *wire.Reader, mask uint64) {
	in.Kind, in.Config, in.Options, in.Seats, in.Basis, in.Counting = "", nil, in.Options[:0], 0, "", ""
	in.QuorumWeight, in.Eligible = Rational{}, Eligible{}
	if mask&tallyInKind != 0 {
		if in.Kind = r.String(); !validKind(in.Kind) {
			invalid(r, "kind", in.Kind)
		}
	}
	if mask&tallyInConfig != 0 {
		in.Config = r.Blob()
	}
	if mask&tallyInOptions != 0 {
		in.Options = readOptions(r, in.Options)
		for _, o := range in.Options {
			if strings.HasPrefix(o.ID, "#") {
				invalid(r, "option id (ids beginning with '#' are reserved)", o.ID)
			}
		}
	}
	if mask&tallyInSeats != 0 {
		in.Seats = readCount(r, "seats")
	}
	if mask&tallyInBasis != 0 {
		if in.Basis = r.String(); !validBasis(in.Basis) {
			invalid(r, "basis", in.Basis)
		}
	}
	if mask&tallyInCounting != 0 {
		if in.Counting = r.String(); !validCounting(in.Counting) {
			invalid(r, "counting", in.Counting)
		}
	}
	if in.ByWeight && in.Counting == CountHead {
		invalid(r, "by_weight", "true with counting head")
	}
	if mask&tallyInQuorumWeight != 0 {
		in.QuorumWeight = readRational(r, "quorum_weight")
	}
	if mask&tallyInEligible != 0 {
		in.Eligible.Units = readCount(r, "eligible units")
		in.Eligible.Weight = readRational(r, "eligible weight")
	}
}

// Presence bits of the optional parts of a TallyOutput on the wire.
const (
	tallyOutTurnout uint64 = 1 << iota
	tallyOutElected
	tallyOutRounds
	tallyOutAll = tallyOutRounds<<1 - 1
)

// AppendWire appends out's wire encoding to w.
func (out *TallyOutput) AppendWire(w *wire.Writer) {
	w.String(out.Decision)
	w.Bool(out.QuorumMet)
	w.Uint(uint64(len(out.Counts)))
	for i := range out.Counts {
		c := &out.Counts[i]
		w.String(c.Choice)
		w.Int(c.Votes)
		w.Int(c.Weight.Num)
		w.Int(c.Weight.Den)
	}
	w.Uint(uint64(len(out.Explanation)))
	for _, e := range out.Explanation {
		w.String(e)
	}
	var mask uint64
	if out.Turnout != (Turnout{}) {
		mask |= tallyOutTurnout
	}
	if len(out.Elected) > 0 {
		mask |= tallyOutElected
	}
	if len(out.Rounds) > 0 {
		mask |= tallyOutRounds
	}
	w.Uint(mask)
	if mask != 0 {
		out.appendOptional(w, mask)
	}
}

func (out *TallyOutput) appendOptional(w *wire.Writer, mask uint64) {
	if mask&tallyOutTurnout != 0 {
		w.Int(out.Turnout.Head)
		appendRational(w, out.Turnout.Weight)
	}
	if mask&tallyOutElected != 0 {
		appendStrings(w, out.Elected)
	}
	if mask&tallyOutRounds != 0 {
		w.Uint(uint64(len(out.Rounds)))
		for i := range out.Rounds {
			rd := &out.Rounds[i]
			w.Int(rd.Number)
			appendCounts(w, rd.Counts)
			appendStrings(w, rd.Eliminated)
			appendStrings(w, rd.Elected)
			w.Uint(uint64(len(rd.Transfers)))
			for _, t := range rd.Transfers {
				w.String(t.From)
				w.String(t.To)
				appendRational(w, t.Value)
			}
			w.String(rd.Note)
		}
	}
}

// ReadWire decodes out from r, reusing out's slices, and checks the
// decision and the numbers.
func (out *TallyOutput) ReadWire(r *wire.Reader) error {
	if out.Decision = r.String(); !validDecision(out.Decision) {
		invalid(r, "decision", out.Decision)
	}
	out.QuorumMet = r.Bool()
	out.Counts = readCounts(r, out.Counts)
	out.Explanation = readStrings(r, out.Explanation)
	mask := r.Uint()
	if mask&^tallyOutAll != 0 {
		invalid(r, "presence bits", mask)
	}
	out.Turnout, out.Elected, out.Rounds = Turnout{}, out.Elected[:0], out.Rounds[:0]
	if mask&tallyOutTurnout != 0 {
		out.Turnout.Head = readCount(r, "turnout head")
		out.Turnout.Weight = readRational(r, "turnout weight")
	}
	if mask&tallyOutElected != 0 {
		out.Elected = readStrings(r, out.Elected)
	}
	if mask&tallyOutRounds != 0 {
		out.Rounds = resize(out.Rounds, r.Len(6))
		for i := range out.Rounds {
			rd := &out.Rounds[i]
			rd.Number = readCount(r, "round number")
			rd.Counts = readCounts(r, rd.Counts)
			rd.Eliminated = readStrings(r, rd.Eliminated)
			rd.Elected = readStrings(r, rd.Elected)
			rd.Transfers = resize(rd.Transfers, r.Len(4))
			for j := range rd.Transfers {
				t := &rd.Transfers[j]
				t.From, t.To = r.String(), r.String()
				t.Value = readRational(r, "transfer value")
			}
			rd.Note = r.String()
		}
	}
	return finish(r, "tally output")
}

func appendThreshold(w *wire.Writer, t Threshold) {
	w.Int(t.Num)
	w.Int(t.Den)
	w.Bool(t.Strict)
}

func appendOptions(w *wire.Writer, os []Option) {
	w.Uint(uint64(len(os)))
	for _, o := range os {
		w.String(o.ID)
		w.String(o.Label)
	}
}

func readOptions(r *wire.Reader, dst []Option) []Option {
	dst = resize(dst, r.Len(2))
	for i := range dst {
		dst[i] = Option{ID: r.String(), Label: r.String()}
	}
	return dst
}

func appendCounts(w *wire.Writer, cs []Count) {
	w.Uint(uint64(len(cs)))
	for i := range cs {
		c := &cs[i]
		w.String(c.Choice)
		w.Int(c.Votes)
		appendRational(w, c.Weight)
	}
}

func readCounts(r *wire.Reader, dst []Count) []Count {
	dst = resize(dst, r.Len(4))
	for i := range dst {
		dst[i] = Count{Choice: r.String(), Votes: readCount(r, "count votes"), Weight: readRational(r, "count weight")}
	}
	return dst
}

func validKind(s string) bool { return s == "" || s == KindMotion || s == KindElection }

func validBasis(s string) bool { return s == "" || s == BasisVotesCast || s == BasisEligible }

func validCounting(s string) bool {
	return s == "" || s == CountHead || s == CountWeight || s == CountBoth
}

func validDecision(s string) bool {
	switch s {
	case DecisionPass, DecisionFail, DecisionNoQuorum, DecisionElected, DecisionTie, DecisionInvalid:
		return true
	}
	return false
}
