//go:build !wasip1

package sdk

import (
	"errors"
	"reflect"
	"testing"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// countMotion is a minimal simple-majority plugin for the tests.
func countMotion(in *TallyInput) (*TallyOutput, error) {
	if in.BallotID == "fail" {
		return nil, errors.New("cannot count")
	}
	if in.BallotID == "nothing" {
		return nil, nil
	}
	var yes, no, abstain int64
	for _, v := range in.Votes {
		switch v.Choice {
		case ChoiceYes:
			yes++
		case ChoiceNo:
			no++
		default:
			abstain++
		}
	}
	out := &TallyOutput{QuorumMet: yes+no+abstain >= in.Quorum, Decision: DecisionFail,
		Counts:      []Count{{ChoiceYes, yes, Int(yes)}, {ChoiceNo, no, Int(no)}, {ChoiceAbstain, abstain, Int(abstain)}},
		Explanation: []string{}}
	switch {
	case !out.QuorumMet:
		out.Decision = DecisionNoQuorum
	case yes*in.Threshold.Den > in.Threshold.Num*(yes+no):
		out.Decision = DecisionPass
	}
	return out, nil
}

func TestRegisterTally(t *testing.T) {
	RegisterTally(countMotion)
	call := func(in *TallyInput) (*TallyOutput, error) {
		b, err := CallNative(HookTally, Encode(in))
		if err != nil {
			return nil, err
		}
		out := new(TallyOutput)
		return out, Decode(b, out)
	}
	out, err := call(benchFixture())
	if err != nil {
		t.Fatal(err)
	}
	want := &TallyOutput{Decision: DecisionPass, QuorumMet: true,
		Counts: []Count{{"yes", 3, Int(3)}, {"no", 1, Int(1)}, {"abstain", 1, Int(1)}}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %+v\nwant %+v", out, want)
	}

	if _, err := call(&TallyInput{BallotID: "fail"}); err == nil || err.Error() != "cannot count" {
		t.Errorf("plugin error: %v", err)
	}
	if _, err := call(&TallyInput{BallotID: "nothing"}); !errors.Is(err, ErrNoOutput) {
		t.Errorf("no output: %v", err)
	}
	if _, err := CallNative(HookTally, []byte{0xff}); !errors.Is(err, wire.ErrShort) {
		t.Errorf("malformed input: %v", err)
	}
	if _, err := call(&TallyInput{Kind: "referendum"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid input: %v", err)
	}
}

func TestRegisterEveryHook(t *testing.T) {
	RegisterValidateBallot(func(in *ValidateBallotInput) (*ValidateBallotOutput, error) {
		return &ValidateBallotOutput{Valid: in.Closes > in.Opens}, nil
	})
	RegisterScanUpload(func(in *ScanUploadInput) (*ScanUploadOutput, error) {
		return &ScanUploadOutput{Verdict: VerdictClean, DetectedType: in.DeclaredType}, nil
	})
	RegisterScanMessage(func(in *ScanMessageInput) (*ScanMessageOutput, error) {
		return &ScanMessageOutput{Verdict: VerdictQuarantine, Score: int64(len(in.To))}, nil
	})
	RegisterRetention(func(in *RetentionInput) (*RetentionOutput, error) {
		out := &RetentionOutput{}
		for _, r := range in.Records {
			out.Decisions = append(out.Decisions, RetentionDecision{ID: r.ID, Action: ActionKeep, At: in.Now})
		}
		return out, nil
	})
	RegisterEmbargo(func(in *EmbargoInput) (*EmbargoOutput, error) {
		return &EmbargoOutput{Block: in.Country == "KP"}, nil
	})
	RegisterSignupRisk(func(in *SignupInput) (*SignupOutput, error) {
		return &SignupOutput{Action: SignupChallenge, Score: 60}, nil
	})
	tests := []struct {
		hook    Hook
		in      Encoder
		out     Decoder
		wantOut any
	}{
		{HookValidateBallot, &ValidateBallotInput{Kind: KindMotion, Opens: 1, Closes: 2}, &ValidateBallotOutput{}, &ValidateBallotOutput{Valid: true}},
		{HookScanUpload, &ScanUploadInput{DeclaredType: "text/plain"}, &ScanUploadOutput{}, &ScanUploadOutput{Verdict: VerdictClean, DetectedType: "text/plain"}},
		{HookScanMessage, &ScanMessageInput{To: []string{"a", "b"}, SPF: AuthPass, DKIM: AuthPass, DMARC: AuthPass}, &ScanMessageOutput{}, &ScanMessageOutput{Verdict: VerdictQuarantine, Score: 2}},
		{HookRetention, &RetentionInput{Now: 9, Records: []RetentionRecord{{Class: ClassUser, ID: "u"}}}, &RetentionOutput{}, &RetentionOutput{Decisions: []RetentionDecision{{ID: "u", Action: ActionKeep, At: 9}}}},
		{HookEmbargo, &EmbargoInput{Country: "KP"}, &EmbargoOutput{}, &EmbargoOutput{Block: true}},
		{HookSignupRisk, &SignupInput{}, &SignupOutput{}, &SignupOutput{Action: SignupChallenge, Score: 60}},
	}
	for _, tt := range tests {
		b, err := CallNative(tt.hook, Encode(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.hook, err)
			continue
		}
		if err := Decode(b, tt.out); err != nil || !reflect.DeepEqual(tt.out, tt.wantOut) {
			t.Errorf("%s: %+v, %v; want %+v", tt.hook, tt.out, err, tt.wantOut)
		}
	}
}

// The guest path allocates nothing per call once warm when the plugin
// reuses its output: the input is decoded into the registration's value
// with views of the input bytes, the output encoded into a warm buffer.
func TestRegisteredCallAllocations(t *testing.T) {
	out := &TallyOutput{Decision: DecisionPass, QuorumMet: true, Counts: make([]Count, 1), Explanation: []string{"ok"}}
	RegisterTally(func(in *TallyInput) (*TallyOutput, error) {
		out.Counts[0] = Count{Choice: ChoiceYes, Votes: int64(len(in.Votes)), Weight: One()}
		return out, nil
	})
	in := Encode(benchFixture())
	if _, err := CallNative(HookTally, in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = CallNative(HookTally, in) }); n != 0 {
		t.Errorf("%.1f allocations per call", n)
	}
}

// BenchmarkRegisteredTally is a whole native call through the typed
// registration: decode, count, encode.
func BenchmarkRegisteredTally(b *testing.B) {
	RegisterTally(countMotion)
	in := Encode(benchFixture())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CallNative(HookTally, in); err != nil {
			b.Fatal(err)
		}
	}
}
