package stv

import (
	"slices"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

func TestStream(t *testing.T) {
	in := election(2, "", "A B C", "7 A B", "2 B", "3 C")
	s, err := NewStream(in)
	if err != nil {
		t.Fatal(err)
	}
	// The stream keeps nothing of the votes or the head.
	head := *in
	in.BallotID, in.Options = "reused", nil
	for i := range head.Votes {
		v := head.Votes[i]
		if err := s.Add(&v); err != nil {
			t.Fatal(err)
		}
		v.Ranking[0] = "C"
	}
	out, err := s.Result()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Elected, []string{"A", "B"}) || out.Turnout.Head != 12 {
		t.Fatalf("%v, turnout %+v", out.Elected, out.Turnout)
	}
}

func TestTurnoutExact(t *testing.T) {
	// Weights with large prime denominators overflow an sdk.Rational sum
	// after three votes; the turnout goes on in big.Rat.
	primes := []int64{1_000_000_007, 1_000_000_009, 998_244_353, 999_999_937}
	var tr turnout
	tr.weight = sdk.Int(0)
	for _, p := range primes {
		tr.add(&sdk.Vote{Weight: sdk.Rational{Num: p - 1, Den: p}, Count: 2})
	}
	took, met := tr.result(8, sdk.Int(7))
	if !met || took.Head != 8 || tr.exact == nil || took.Weight != (sdk.Rational{}) {
		t.Fatalf("turnout %+v met %v exact %v", took, met, tr.exact)
	}
	if _, met := tr.result(8, sdk.Int(8)); met {
		t.Error("weight just under 8 met a quorum weight of 8")
	}
}
