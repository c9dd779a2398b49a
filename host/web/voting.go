package web

// Voting pages: the member's home, the vote page, results with charts,
// the published receipts, and the admin's ballot pages.
const (
	PageBallot       = "ballot"        // data: BallotData
	PageResults      = "results"       // data: ResultsData
	PageAdminBallots = "admin_ballots" // data: AdminBallotsData
	PageAdminBallot  = "admin_ballot"  // data: AdminBallotData
	PageReceipt      = "receipt"       // data: ReceiptData
)

// ReceiptData fills PageReceipt, the confirmation of a vote.
type ReceiptData struct {
	Frame
	Ballot                         BallotView
	Unit, Receipt, CastAt, Channel string
	Revision                       int
}

// UnitLine is one of a member's units on their home page.
type UnitLine struct {
	Label, Weight string
}

// BallotLine is a ballot in a list.
type BallotLine struct {
	ID, Title, State string
	// When says when it closes or closed, in words.
	When string
	// Units is how many units the member votes for; Voted how many did.
	Units, Voted int
}

// ProxyLine is a proxy the member gave or holds.
type ProxyLine struct {
	ID, Unit, Scope, Other string
	Holder                 bool
}

// BallotView is what every voting page shows of a ballot.
type BallotView struct {
	ID, Title, Description, Kind, State, Method string
	Rules                                       []string
	Opens, Closes                               string
	Accepting, Ranked, Secret, Changeable       bool
	Marks                                       int
	RulesHash                                   string
}

// OptionView is a choice on the vote form.
type OptionView struct {
	ID, Label string
}

// VoteUnit is a unit the member may vote for on the ballot.
type VoteUnit struct {
	ID, Label, Weight  string
	Proxy, Voted, Mine bool
	Receipt, CastAt    string
	// CanVote says the form is offered (not voted, or the vote may change).
	CanVote bool
}

// BallotData fills PageBallot.
type BallotData struct {
	Frame
	Ballot  BallotView
	Options []OptionView
	Units   []VoteUnit
	// Ranks are the rank numbers offered for ranked ballots (1..Marks).
	Ranks []int
	// Receipt is the code of the vote just cast.
	Receipt string
	// Published links to the results.
	Published bool
	// Meeting is the ballot's meeting, for proxies covering all of it.
	Meeting string
}

// Bar is one bar of a server-rendered SVG bar chart. Y and W are in the
// chart's units; the template draws the label, the bar and the value.
type Bar struct {
	Label, Value string
	Y, W         int
	// Mark highlights the bar (elected, winning choice).
	Mark bool
}

// Chart is a horizontal bar chart drawn as SVG by the template.
type Chart struct {
	Title         string
	Width, Height int
	Bars          []Bar
}

// CountRow is one line of a result table.
type CountRow struct {
	Label, Votes, Weight, Share string
	Mark                        bool
}

// RoundView is one round of a multi-round count.
type RoundView struct {
	Number              int64
	Rows                []CountRow
	Elected, Eliminated []string
	Transfers           []string
	Note                string
	Chart               Chart
}

// TurnoutView shows participation and the quorum.
type TurnoutView struct {
	Voted, Eligible, Share              string
	VotedWeight, EligibleWeight, WShare string
	QuorumUnits, QuorumWeight           string
	QuorumMet                           bool
	Online, Paper, Proxy                int64
	Chart                               Chart
}

// ResultView is a tallied ballot's result.
type ResultView struct {
	Decision    string
	Passed      bool
	Explanation []string
	Counts      []CountRow
	Elected     []string
	Rounds      []RoundView
	Chart       Chart
}

// ResultsData fills PageResults.
type ResultsData struct {
	Frame
	Ballot  BallotView
	Result  *ResultView
	Turnout *TurnoutView
	// Receipts are the counted receipt codes; Check the code looked up and
	// Found whether it is among them.
	Receipts []string
	Check    string
	Checked  bool
	Found    bool
}

// BallotForm is the admin's ballot form, as typed.
type BallotForm struct {
	Title, Description, Meeting, Kind, Method string
	Threshold, Num, Den                       string
	Strict                                    bool
	Basis, Counting, QuorumHead, QuorumWeight string
	Seats, MaxMarks, Candidates               string
	Opens, Closes                             string
	Secret, Changeable                        bool
	Eligibility, Resolution, ResolutionExpr   string
	Config                                    string
}

// AdminBallotsData fills PageAdminBallots: the list and the new-ballot
// form with its preview.
type AdminBallotsData struct {
	Frame
	Ballots []BallotLine
	Form    BallotForm
	Preview []string
	CanEdit bool
}

// ParticipantRow is a unit's participation, for officers.
type ParticipantRow struct {
	UnitID, Label string
	Records       []RecordRow
}

// RecordRow is one vote record without its choice (or with it, for open
// ballots).
type RecordRow struct {
	VoteID, Channel, CastBy, CastAt, Choice string
	Revision                                int
	Scan                                    bool
}

// ResolutionRow is a double-vote decision.
type ResolutionRow struct {
	UnitID, Unit, Status, Reason, DecidedBy string
	Records                                 []RecordRow
}

// AdminBallotData fills PageAdminBallot.
type AdminBallotData struct {
	Frame
	Ballot       BallotView
	Form         BallotForm
	Preview      []string
	Turnout      *TurnoutView
	Participants []ParticipantRow
	Resolutions  []ResolutionRow
	Result       *ResultView
	Options      []OptionView
	// Units lists the eligible units for paper entry.
	Units []OptionView
	// Can* say which actions the officer's permissions allow.
	CanManage, CanPaper, CanSeeChoices bool
}
