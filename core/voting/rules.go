package voting

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plenum-vote/plenum/sdk"
)

// Ballot kinds.
const (
	// Motion is a yes/no/abstain decision.
	Motion = sdk.KindMotion
	// Election fills seats among candidates.
	Election = sdk.KindElection
)

// Double-vote resolution presets (Rules.Resolution).
const (
	// FirstWins counts the unit's earliest record.
	FirstWins = "first_wins"
	// LastWins counts the unit's latest record.
	LastWins = "last_wins"
	// PaperWins counts the paper ballot, else the earliest other record.
	PaperWins = "paper_wins"
	// OnlineWins counts the online or proxy vote, else the paper ballot.
	OnlineWins = "online_wins"
	// DiscardBoth counts nothing for a unit with more than one record.
	DiscardBoth = "discard_both"
	// CustomRule evaluates the tenant's CEL expression
	// (Rules.ResolutionExpr) over the unit's records.
	CustomRule = "custom"
)

// Motion choices and their labels.
var motionOptions = []sdk.Option{
	{ID: sdk.ChoiceYes, Label: "For"},
	{ID: sdk.ChoiceNo, Label: "Against"},
	{ID: sdk.ChoiceAbstain, Label: "Abstain"},
}

// Threshold presets (the admin form's choices); "custom" takes the
// fraction and comparison given.
var thresholdPresets = map[string]sdk.Threshold{
	"simple":         {Num: 1, Den: 2, Strict: true},
	"absolute":       {Num: 1, Den: 2, Strict: true},
	"two_thirds":     {Num: 2, Den: 3},
	"three_quarters": {Num: 3, Den: 4},
}

// Methods names the tally plugins a ballot may use and the rules each
// knows; the first rule is the default.
var methods = map[string][]string{
	"majority":  {"simple_majority", "absolute_majority", "qualified"},
	"plurality": {"plurality"},
	"approval":  {"approval"},
	"irv":       {"irv"},
	"stv":       {"stv"},
	"condorcet": {"condorcet"},
}

// MethodsFor lists the tally methods for a kind of ballot.
func MethodsFor(kind string) []string {
	if kind == Motion {
		return []string{"majority"}
	}
	return []string{"plurality", "approval", "irv", "stv", "condorcet"}
}

// Rules are everything that decides how a ballot is cast and counted. They
// are frozen (hashed) when the ballot opens.
type Rules struct {
	// Kind is Motion or Election.
	Kind string `json:"kind"`
	// Description is the text put to the voters.
	Description string `json:"description,omitempty"`
	// Meeting groups ballots of one meeting (a proxy may cover a meeting).
	Meeting string `json:"meeting,omitempty"`
	// Method is the tally plugin's name; Rule the plugin's rule.
	Method string `json:"method"`
	Rule   string `json:"rule"`
	// MethodVersion is the method plugin's version, fixed when the ballot
	// opens.
	MethodVersion string `json:"method_version,omitempty"`
	// Config is the method's configuration, checked by its plugin.
	Config json.RawMessage `json:"config,omitempty"`
	// Options are the candidates of an election; a motion's are fixed.
	Options []sdk.Option `json:"options"`
	// Seats is the number of candidates to elect.
	Seats int64 `json:"seats,omitempty"`
	// Ranked says whether voters rank candidates (IRV, STV, Condorcet)
	// rather than mark them.
	Ranked bool `json:"ranked,omitempty"`
	// MaxMarks bounds the candidates a voter may mark or rank; 0 means
	// Seats for unranked elections and all candidates for ranked ones.
	MaxMarks int `json:"max_marks,omitempty"`
	// Basis is sdk.BasisVotesCast or sdk.BasisEligible.
	Basis string `json:"basis"`
	// Counting is sdk.CountHead, sdk.CountWeight or sdk.CountBoth.
	Counting string `json:"counting"`
	// QuorumHead and QuorumWeight are the shares of the eligible units
	// (by head) and of their weight that must take part; empty for none.
	QuorumHead   string `json:"quorum_head,omitempty"`
	QuorumWeight string `json:"quorum_weight,omitempty"`
	// Threshold is the share a motion needs.
	Threshold sdk.Threshold `json:"threshold"`
	// OpensAt and ClosesAt bound the voting period.
	OpensAt  time.Time `json:"opens_at"`
	ClosesAt time.Time `json:"closes_at"`
	// Secret hides choices from everyone but the count.
	Secret bool `json:"secret"`
	// Changeable lets an online voter change their vote until close.
	Changeable bool `json:"changeable"`
	// Eligibility is a CEL condition over `unit` (label, weight, owners);
	// empty means every unit.
	Eligibility string `json:"eligibility,omitempty"`
	// Resolution is a preset or CustomRule; ResolutionExpr the CEL
	// expression of CustomRule.
	Resolution     string `json:"resolution"`
	ResolutionExpr string `json:"resolution_expr,omitempty"`
}

// ThresholdPreset returns the threshold of a preset name ("simple",
// "absolute", "two_thirds", "three_quarters").
func ThresholdPreset(name string) (sdk.Threshold, bool) {
	t, ok := thresholdPresets[name]
	return t, ok
}

// Hash returns the SHA-256 of the rules' canonical JSON: the fingerprint
// frozen when a ballot opens.
func (r *Rules) Hash() string {
	b, _ := json.Marshal(r) // a struct of plain fields always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Normalize fills defaults and checks the rules without the method
// plugin: the plugin's validate_ballot hook checks its own config. It
// returns every problem found, joined.
func (r *Rules) Normalize() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	r.MethodVersion = "" // fixed when the ballot opens, not before
	r.Description = strings.TrimSpace(r.Description)
	r.Meeting = strings.Join(strings.Fields(r.Meeting), " ")
	if !utf8.ValidString(r.Description) || len(r.Description) > 20_000 {
		bad("the description is at most 20,000 bytes of text")
	}
	if utf8.RuneCountInString(r.Meeting) > 100 {
		bad("a meeting name has at most 100 characters")
	}
	switch r.Kind {
	case Motion:
		r.Options = append([]sdk.Option(nil), motionOptions...)
		r.Seats, r.Ranked = 0, false
		if r.Method == "" {
			r.Method = "majority"
		}
	case Election:
		if r.Seats < 1 {
			bad("an election fills at least one seat")
		}
		r.checkOptions(bad)
		if r.Seats >= int64(len(r.Options)) && len(r.Options) > 0 {
			bad("an election needs more candidates (%d) than seats (%d)", len(r.Options), r.Seats)
		}
	default:
		bad("the kind is %q or %q", Motion, Election)
	}
	rules, ok := methods[r.Method]
	switch {
	case !ok:
		bad("unknown counting method %q", r.Method)
	case r.Kind == Election && r.Method == "majority", r.Kind == Motion && r.Method != "majority":
		bad("method %q does not count a %s", r.Method, r.Kind)
	default:
		if r.Rule == "" {
			r.Rule = rules[0]
		}
		if !contains(rules, r.Rule) {
			bad("method %q has no rule %q", r.Method, r.Rule)
		}
		switch r.Method {
		case "irv", "stv", "condorcet":
			r.Ranked = true
		case "plurality", "approval":
			r.Ranked = false
		}
	}
	if r.MaxMarks < 0 || r.MaxMarks > len(r.Options) {
		bad("a voter marks between 0 and %d candidates", len(r.Options))
	}
	if len(r.Config) > 0 && !json.Valid(r.Config) {
		bad("the method's config is not valid JSON")
	}
	if r.Basis == "" {
		r.Basis = sdk.BasisVotesCast
	}
	if r.Basis != sdk.BasisVotesCast && r.Basis != sdk.BasisEligible {
		bad("the counting base is %q or %q", sdk.BasisVotesCast, sdk.BasisEligible)
	}
	if r.Counting == "" {
		r.Counting = sdk.CountHead
	}
	if r.Counting != sdk.CountHead && r.Counting != sdk.CountWeight && r.Counting != sdk.CountBoth {
		bad("counting is by %q, %q or %q", sdk.CountHead, sdk.CountWeight, sdk.CountBoth)
	}
	for _, q := range []*string{&r.QuorumHead, &r.QuorumWeight} {
		if *q == "" || *q == "0" {
			*q = ""
			continue
		}
		w, err := ParseWeight(*q)
		if err != nil || w.Rat().Cmp(big.NewRat(1, 1)) > 0 {
			bad("a quorum is a share between 0 and 1 such as 1/2 or 0.25")
			continue
		}
		*q = w.String()
	}
	if r.Kind == Motion {
		t := r.Threshold
		if t.Den == 0 && t.Num == 0 {
			r.Threshold = thresholdPresets["simple"]
		} else if t.Den <= 0 || t.Num <= 0 || t.Num > t.Den || t.Den > 1_000_000 {
			bad("a threshold is a fraction between 0 and 1 such as 2/3")
		}
		if r.Rule == "qualified" && r.Threshold == (sdk.Threshold{Num: 1, Den: 2, Strict: true}) {
			r.Rule = "simple_majority"
		}
		if r.Rule == "simple_majority" && r.Threshold != (sdk.Threshold{Num: 1, Den: 2, Strict: true}) {
			r.Rule = "qualified"
		}
	} else {
		r.Threshold = sdk.Threshold{}
	}
	r.OpensAt, r.ClosesAt = r.OpensAt.UTC().Truncate(time.Second), r.ClosesAt.UTC().Truncate(time.Second)
	if r.OpensAt.IsZero() || r.ClosesAt.IsZero() || !r.ClosesAt.After(r.OpensAt) {
		bad("the ballot closes after it opens")
	}
	if r.ClosesAt.Sub(r.OpensAt) > 366*24*time.Hour {
		bad("a ballot stays open at most a year")
	}
	if r.Resolution == "" {
		r.Resolution = FirstWins
	}
	switch r.Resolution {
	case FirstWins, LastWins, PaperWins, OnlineWins, DiscardBoth:
		r.ResolutionExpr = ""
	case CustomRule:
		if strings.TrimSpace(r.ResolutionExpr) == "" {
			bad("a custom resolution needs an expression")
		}
	default:
		bad("unknown double-vote rule %q", r.Resolution)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

func (r *Rules) checkOptions(bad func(string, ...any)) {
	if len(r.Options) < 2 || len(r.Options) > 200 {
		bad("an election has 2 to 200 candidates")
	}
	seen := map[string]bool{}
	for i := range r.Options {
		o := &r.Options[i]
		o.Label = strings.Join(strings.Fields(o.Label), " ")
		if o.ID == "" {
			o.ID = fmt.Sprintf("c%d", i+1)
		}
		if o.Label == "" || utf8.RuneCountInString(o.Label) > 200 || !utf8.ValidString(o.Label) {
			bad("candidate %d needs a name of 1 to 200 characters", i+1)
		}
		if !validOptionID(o.ID) {
			bad("candidate id %q is 1 to 40 letters, digits, '-' or '_'", o.ID)
		}
		if seen[o.ID] || seen["label:"+o.Label] {
			bad("candidate %q is listed twice", o.Label)
		}
		seen[o.ID], seen["label:"+o.Label] = true, true
	}
}

func validOptionID(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Marks is how many candidates a voter may mark or rank.
func (r *Rules) Marks() int {
	switch {
	case r.Kind == Motion:
		return 1
	case r.MaxMarks > 0:
		return r.MaxMarks
	case r.Ranked || r.Method == "approval":
		return len(r.Options)
	}
	return int(r.Seats)
}

// Option returns the option with the id.
func (r *Rules) Option(id string) (sdk.Option, bool) {
	for _, o := range r.Options {
		if o.ID == id {
			return o, true
		}
	}
	return sdk.Option{}, false
}

// Describe says the rules in words, for the admin's preview and the
// voters' page.
func (r *Rules) Describe() []string {
	var out []string
	switch r.Kind {
	case Motion:
		cmp := "at least"
		if r.Threshold.Strict {
			cmp = "more than"
		}
		base := "of the votes for and against"
		switch {
		case r.Basis == sdk.BasisEligible:
			base = "of all eligible units"
		case r.Rule == "absolute_majority":
			base = "of all votes cast, abstentions included"
		}
		out = append(out, fmt.Sprintf("The motion passes with %s %d/%d %s, counted %s.", cmp, r.Threshold.Num, r.Threshold.Den, base, countingWords(r.Counting)))
	case Election:
		how := map[string]string{
			"plurality": "each voter marks up to %d; the candidates with most votes win",
			"approval":  "each voter approves of up to %d; the most approved win",
			"irv":       "voters rank up to %d; instant runoff eliminates the last until one has a majority",
			"stv":       "voters rank up to %d; single transferable vote with the Droop quota",
			"condorcet": "voters rank up to %d; the Schulze method ranks the candidates by pairwise contests",
		}[r.Method]
		if how == "" {
			how = "voters mark up to %d"
		}
		out = append(out, fmt.Sprintf("%d of %d candidates are elected; %s, counted %s.", r.Seats, len(r.Options), fmt.Sprintf(how, r.Marks()), countingWords(r.Counting)))
	}
	if r.QuorumHead != "" {
		out = append(out, "Quorum: "+r.QuorumHead+" of the eligible units must take part.")
	}
	if r.QuorumWeight != "" {
		out = append(out, "Quorum: "+r.QuorumWeight+" of the eligible weight must take part.")
	}
	if r.Secret {
		out = append(out, "Secret ballot: nobody sees how a unit voted; the count is published with the receipts counted.")
	} else {
		out = append(out, "Open ballot: the association's officers can see how each unit voted.")
	}
	if r.Changeable {
		out = append(out, "An online vote may be changed until the ballot closes.")
	} else {
		out = append(out, "An online vote is final once cast.")
	}
	if r.Eligibility != "" {
		out = append(out, "Eligible units: those where "+r.Eligibility+".")
	}
	res := map[string]string{
		FirstWins:   "the earliest vote counts",
		LastWins:    "the latest vote counts",
		PaperWins:   "the paper ballot counts",
		OnlineWins:  "the online (or proxy) vote counts",
		DiscardBoth: "no vote counts",
		CustomRule:  "the association's rule decides: " + r.ResolutionExpr,
	}[r.Resolution]
	out = append(out, "If a unit votes more than once (online, on paper or by proxy), "+res+".")
	return out
}

func countingWords(c string) string {
	switch c {
	case sdk.CountWeight:
		return "by entitlement weight"
	case sdk.CountBoth:
		return "both by head and by weight (both must be met)"
	}
	return "one vote per unit"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
