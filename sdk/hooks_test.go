package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// benchFixture is shared/bench/tally-fixture.json as a TallyInput: five
// votes yes/no/yes/abstain/yes, quorum 5, simple majority (more than 1/2
// of yes and no).
func benchFixture() *TallyInput {
	in := &TallyInput{BallotID: "poll-2025-0042", Kind: KindMotion, Rule: "simple_majority", Quorum: 5,
		Threshold: Threshold{Num: 1, Den: 2, Strict: true}}
	for i, c := range []string{ChoiceYes, ChoiceNo, ChoiceYes, ChoiceAbstain, ChoiceYes} {
		in.Votes = append(in.Votes, Vote{Voter: "u-100" + string(rune('1'+i)), Choice: c, Weight: One()})
	}
	return in
}

// election is a three-seat ranked election.
func election() *TallyInput {
	return &TallyInput{
		BallotID: "board-2026", Kind: KindElection, Rule: "stv", Config: json.RawMessage(`{"quota":"droop"}`),
		Options: []Option{{"ana", "Ana Costa"}, {"ben", "Ben Okafor"}, {"chloe", "Chloé Martin"}, {"dev", "Dev Patel"}},
		Seats:   3, Basis: BasisVotesCast, Counting: CountHead, Quorum: 4, QuorumWeight: Rational{1, 2},
		Eligible: Eligible{Units: 6, Weight: Rational{1, 1}},
		Votes: []Vote{
			{Voter: "u1", Weight: One(), Ranking: []string{"ana", "ben"}},
			{Voter: "u2", Weight: One(), Ranking: []string{"chloe"}},
			{Voter: "u3", Weight: One(), Ranking: []string{"dev", "chloe", "ana"}},
		},
	}
}

// hookValues returns one full value of every input and output type.
func hookValues() map[string]interface {
	Encoder
	Decoder
} {
	return map[string]interface {
		Encoder
		Decoder
	}{
		"tally input motion":   benchFixture(),
		"tally input election": election(),
		"tally input grouped ranked": &TallyInput{
			BallotID: "mayor-2013", Kind: KindElection, Rule: "irv", Options: []Option{{"a", "A"}, {"b", "B"}},
			Seats: 1, Counting: CountHead,
			Votes: []Vote{
				{Voter: "line-1", Weight: One(), Ranking: []string{"a", RankSkipped, "b"}, Count: 3864},
				{Voter: "line-2", Weight: One(), Ranking: []string{RankOvervote, "b", "b"}},
				{Voter: "line-3", Weight: One(), Count: 1},
			},
		},
		"tally input counts without rankings": &TallyInput{BallotID: "m", Rule: "simple_majority",
			Votes: []Vote{{Voter: "u", Choice: ChoiceYes, Weight: One(), Count: 2}}},
		"tally output": &TallyOutput{
			Decision: DecisionElected, QuorumMet: true, Turnout: Turnout{Head: 3, Weight: Rational{1, 2}},
			Counts:  []Count{{"ana", 1, Rational{1, 1}}, {"chloe", 1, Rational{4, 3}}},
			Elected: []string{"chloe", "ana"},
			Rounds: []Round{{Number: 1, Counts: []Count{{"dev", 1, One()}}, Eliminated: []string{"dev"},
				Transfers: []Transfer{{From: "dev", To: "chloe", Value: One()}, {From: "dev", Value: Rational{1, 3}}}, Note: "dev has fewest"}},
			Explanation: []string{"quota 1", "chloe elected"},
		},
		"validate_ballot input": &ValidateBallotInput{Kind: KindMotion, Rule: "qualified", Config: json.RawMessage(`{}`),
			Options: []Option{{"yes", "For"}}, Quorum: -1, Threshold: Threshold{3, 2, false}, Counting: CountBoth, Opens: 10, Closes: 5},
		"validate_ballot output": &ValidateBallotOutput{Problems: []Problem{{"closes", "must close after it opens"}}},
		"scan_upload input": &ScanUploadInput{Name: "minutes.pdf", DeclaredType: "application/pdf", Size: 9,
			SHA256: "ab", Content: []byte("%PDF-1.7\n"), Path: []string{"a.zip", "b.zip"}},
		"scan_upload output": &ScanUploadOutput{Verdict: VerdictSuspicious, DetectedType: "application/pdf",
			Findings: []Finding{{Rule: "javascript", Severity: SeverityHigh, Message: "/JS action", Offset: 4096}}},
		"scan_message input": &ScanMessageInput{From: "a@b.example", DisplayName: "Board", To: []string{"x@y"},
			TenantDomains: []string{"y"}, SPF: AuthSoftfail, DKIM: AuthNone, DMARC: AuthFail,
			Headers: []Header{{"List-Unsubscribe", "<mailto:u@b.example>"}}, TextBody: "hi",
			Links: []Link{{"here", "http://203.0.113.7/"}}, Attachments: []Attachment{{"a.exe", "application/x-msdownload", 10, VerdictMalicious}}},
		"scan_message output": &ScanMessageOutput{Verdict: VerdictReject, Score: 95,
			Reasons: []Finding{{Rule: "dmarc-fail", Severity: SeverityHigh, Message: "DMARC failed"}}},
		"retention input": &RetentionInput{Now: 1800000000, Records: []RetentionRecord{
			{Class: ClassUpload, ID: "up-1", Created: 1700000000, LegalHold: true}}},
		"retention output": &RetentionOutput{Decisions: []RetentionDecision{{ID: "up-1", Action: ActionKeep, At: 1800086400, Reason: "legal hold"}}},
		"embargo input":    &EmbargoInput{IP: "175.45.176.3", Country: "KP", TenantBlocked: []string{"CH"}},
		"embargo output":   &EmbargoOutput{Block: true, Reason: "embargoed country KP"},
		"signup input": &SignupInput{EmailDomain: "mailinator.com", DomainHasMX: true, DisposableHint: true, Country: "DE",
			PerIP: 1, PerSubnet: 2, PerDomain: 30, DeviceHash: "a1", InvitationUsed: false},
		"signup output": &SignupOutput{Action: SignupChallenge, Score: 60, Reasons: []string{"disposable e-mail domain"}},
	}
}

func fresh(v any) interface {
	Encoder
	Decoder
} {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface().(interface {
		Encoder
		Decoder
	})
}

func TestWireRoundTrip(t *testing.T) {
	for name, v := range hookValues() {
		t.Run(name, func(t *testing.T) {
			b := Encode(v)
			for _, shared := range []bool{false, true} {
				back := fresh(v)
				r := wire.NewReader(bytes.Clone(b))
				if shared {
					r = wire.NewSharedReader(bytes.Clone(b))
				}
				if err := back.ReadWire(r); err != nil {
					t.Fatalf("shared=%v: %v", shared, err)
				}
				if !reflect.DeepEqual(v, back) {
					t.Fatalf("shared=%v: round trip changed the value:\n%+v\n%+v", shared, v, back)
				}
			}
			// Decoding into a used value replaces it entirely.
			used := fresh(v)
			for other, ov := range hookValues() {
				if reflect.TypeOf(ov) == reflect.TypeOf(v) && other != name {
					if err := Decode(Encode(ov), used); err != nil {
						t.Fatal(err)
					}
				}
			}
			// (Reused slices stay empty rather than nil.)
			if err := Decode(b, used); err != nil || normalise(v) != normalise(used) {
				t.Fatalf("decode into a used value: %v\n%+v\n%+v", err, v, used)
			}
			// Every cut of the encoding fails cleanly, and so does any
			// trailing byte.
			for n := 0; n < len(b); n++ {
				if err := Decode(b[:n], fresh(v)); err == nil {
					t.Fatalf("cut at %d of %d bytes decoded", n, len(b))
				}
			}
			if err := Decode(append(bytes.Clone(b), 0), fresh(v)); !errors.Is(err, wire.ErrTrailing) {
				t.Fatalf("trailing byte: %v", err)
			}
		})
	}
}

func TestCopyingDecodeSharesNothing(t *testing.T) {
	b := Encode(election())
	var in TallyInput
	if err := Decode(b, &in); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if !reflect.DeepEqual(&in, election()) {
		t.Fatal("the decoded value changed with its input")
	}
}

func TestDecodeRejectsInvalidValues(t *testing.T) {
	tests := []struct {
		name string
		v    Encoder
		into Decoder
	}{
		{"tally kind", &TallyInput{Kind: "referendum"}, &TallyInput{}},
		{"tally basis", &TallyInput{Basis: "present"}, &TallyInput{}},
		{"tally counting", &TallyInput{Counting: "proportional"}, &TallyInput{}},
		{"tally by_weight with head", &TallyInput{Counting: CountHead, ByWeight: true}, &TallyInput{}},
		{"tally negative quorum", &TallyInput{Quorum: -1}, &TallyInput{}},
		{"tally negative seats", &TallyInput{Seats: -1}, &TallyInput{}},
		{"tally threshold above 1", &TallyInput{Threshold: Threshold{3, 2, false}}, &TallyInput{}},
		{"tally zero denominator", &TallyInput{Votes: []Vote{{Voter: "u", Weight: Rational{1, 0}}}}, &TallyInput{}},
		{"tally negative denominator", &TallyInput{Eligible: Eligible{Weight: Rational{1, -2}}}, &TallyInput{}},
		{"tally reserved option id", &TallyInput{Kind: KindElection, Options: []Option{{"#overvote", "x"}}}, &TallyInput{}},
		{"tally negative vote count", &TallyInput{Votes: []Vote{{Voter: "u", Weight: One(), Count: -2}}}, &TallyInput{}},
		{"tally decision", &TallyOutput{Decision: "maybe"}, &TallyOutput{}},
		{"tally empty decision", &TallyOutput{}, &TallyOutput{}},
		{"tally count weight", &TallyOutput{Decision: DecisionPass, Counts: []Count{{"yes", 1, Rational{1, 0}}}}, &TallyOutput{}},
		{"tally negative count", &TallyOutput{Decision: DecisionPass, Counts: []Count{{"yes", -1, One()}}}, &TallyOutput{}},
		{"validate kind", &ValidateBallotInput{Kind: "poll"}, &ValidateBallotInput{}},
		{"validate valid with problems", &ValidateBallotOutput{Valid: true, Problems: []Problem{{"x", "y"}}}, &ValidateBallotOutput{}},
		{"upload verdict", &ScanUploadOutput{Verdict: "fine"}, &ScanUploadOutput{}},
		{"upload severity", &ScanUploadOutput{Verdict: VerdictClean, Findings: []Finding{{Severity: "urgent"}}}, &ScanUploadOutput{}},
		{"upload negative size", &ScanUploadInput{Size: -1}, &ScanUploadInput{}},
		{"message auth", &ScanMessageInput{SPF: "ok", DKIM: AuthPass, DMARC: AuthPass}, &ScanMessageInput{}},
		{"message empty auth", &ScanMessageInput{}, &ScanMessageInput{}},
		{"message attachment verdict", &ScanMessageInput{SPF: AuthPass, DKIM: AuthPass, DMARC: AuthPass,
			Attachments: []Attachment{{Verdict: "unknown"}}}, &ScanMessageInput{}},
		{"message verdict", &ScanMessageOutput{Verdict: "spam"}, &ScanMessageOutput{}},
		{"message score", &ScanMessageOutput{Verdict: VerdictDeliver, Score: 101}, &ScanMessageOutput{}},
		{"retention class", &RetentionInput{Records: []RetentionRecord{{Class: "invoice"}}}, &RetentionInput{}},
		{"retention negative time", &RetentionInput{Records: []RetentionRecord{{Class: ClassUser, Created: -5}}}, &RetentionInput{}},
		{"retention action", &RetentionOutput{Decisions: []RetentionDecision{{Action: "archive"}}}, &RetentionOutput{}},
		{"embargo country", &EmbargoInput{Country: "kp"}, &EmbargoInput{}},
		{"embargo tenant country", &EmbargoInput{TenantBlocked: []string{"CHE"}}, &EmbargoInput{}},
		{"signup action", &SignupOutput{Action: "maybe"}, &SignupOutput{}},
		{"signup score", &SignupOutput{Action: SignupAllow, Score: -1}, &SignupOutput{}},
		{"signup velocity", &SignupInput{PerIP: -1}, &SignupInput{}},
	}
	for _, tt := range tests {
		if err := Decode(Encode(tt.v), tt.into); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
}

// The fixture's encoding stays small: 113 bytes, of which 68 are the five
// votes (voter, choice, weight) and 38 the ballot id, rule and kind
// strings; everything a motion leaves out costs one presence byte.
func TestBenchFixtureSize(t *testing.T) {
	if n := len(Encode(benchFixture())); n > 113 {
		t.Errorf("bench fixture is %d bytes on the wire", n)
	}
}

func TestEffectiveCounting(t *testing.T) {
	tests := []struct {
		in   TallyInput
		want string
	}{
		{TallyInput{}, CountHead},
		{TallyInput{ByWeight: true}, CountWeight},
		{TallyInput{Counting: CountBoth}, CountBoth},
		{TallyInput{Counting: CountWeight, ByWeight: true}, CountWeight},
	}
	for _, tt := range tests {
		if got := tt.in.EffectiveCounting(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and
// whatever decodes must encode back to the same bytes' meaning.
func FuzzDecode(f *testing.F) {
	for _, v := range hookValues() {
		f.Add(Encode(v))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range hookValues() {
			d := fresh(v)
			if err := Decode(b, d); err != nil {
				continue
			}
			again := fresh(v)
			if err := Decode(Encode(d), again); err != nil || !reflect.DeepEqual(normalise(d), normalise(again)) {
				t.Fatalf("%T: re-encoding a decoded value changes it: %v", d, err)
			}
		}
	})
}

// normalise maps empty slices to nil (the wire does not tell them apart)
// by a JSON round trip.
func normalise(v any) string {
	b, _ := json.Marshal(v)
	return string(bytes.ReplaceAll(b, []byte("[]"), []byte("null")))
}
