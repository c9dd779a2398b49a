package sdk

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// The vote count's presence bit comes after the older ones, whose
// meaning stays, and a motion still spends one byte on all of them.
func TestTallyPresenceBits(t *testing.T) {
	for _, tt := range []struct {
		name string
		bit  uint64
		want uint64
	}{
		{"kind", tallyInKind, 1 << 0},
		{"eligible", tallyInEligible, 1 << 7},
		{"rankings", tallyInRankings, 1 << 8},
		{"counts", tallyInCounts, 1 << 9},
		{"rank indexes", tallyInRankIndexes, 1 << 10},
	} {
		if tt.bit != tt.want {
			t.Errorf("%s bit = %#x, want %#x", tt.name, tt.bit, tt.want)
		}
	}
	motion := benchFixture()
	grouped := benchFixture()
	grouped.Votes[0].Count = 1 // 1 is one voter, but it is written as given
	a, b := Encode(motion), Encode(grouped)
	if len(b) <= len(a) {
		t.Fatalf("a vote count added no bytes: %d and %d", len(a), len(b))
	}
	// With no counts, the encoding is what it was before counts existed:
	// the mask of a motion is the single byte 0.
	var back TallyInput
	if err := Decode(a, &back); err != nil || back.Votes[0].Count != 0 {
		t.Fatalf("decode: %v, count %d", err, back.Votes[0].Count)
	}
	if !bytes.Equal(Encode(&back), a) {
		t.Fatal("re-encoding changed the bytes")
	}
}

// Decoding a vote without a count into a value that held one clears it.
func TestVoteCountCleared(t *testing.T) {
	in := &TallyInput{BallotID: "b", Votes: []Vote{{Voter: "u", Weight: One(), Count: 7}}}
	if err := Decode(Encode(in), in); err != nil || in.Votes[0].Count != 7 {
		t.Fatalf("decode: %v %+v", err, in.Votes)
	}
	if err := Decode(Encode(&TallyInput{BallotID: "b", Votes: []Vote{{Voter: "u", Weight: One()}}}), in); err != nil || in.Votes[0].Count != 0 {
		t.Fatalf("decode into used: %v %+v", err, in.Votes)
	}
}

// ReadWireEach sees the votes ReadWire keeps, one at a time.
func TestReadWireEach(t *testing.T) {
	for name, v := range hookValues() {
		want, ok := v.(*TallyInput)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b := Encode(want)
			var in TallyInput
			var got []Vote
			var scratch Vote
			err := in.ReadWireEach(wire.NewReader(b), &scratch, func(v *Vote, ranks []int32) error {
				for j, k := range ranks {
					id := map[int32]string{RankIndexOvervote: RankOvervote, RankIndexSkipped: RankSkipped}[k]
					if k >= 0 {
						id = in.Options[k].ID
					}
					if id != v.Ranking[j] {
						t.Fatalf("rank %d: index %d is %q, ranking says %q", j, k, id, v.Ranking[j])
					}
				}
				c := *v
				c.Ranking = append([]string(nil), v.Ranking...)
				if len(c.Ranking) == 0 {
					c.Ranking = nil
				}
				got = append(got, c)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			head := *want
			head.Votes = nil
			in.Votes = nil
			if !reflect.DeepEqual(&in, &head) {
				t.Fatalf("head:\n got  %+v\n want %+v", in, head)
			}
			if !reflect.DeepEqual(got, want.Votes) {
				t.Fatalf("votes:\n got  %+v\n want %+v", got, want.Votes)
			}
			for n := 0; n < len(b); n++ {
				if err := new(TallyInput).ReadWireEach(wire.NewReader(b[:n]), &scratch, func(*Vote, []int32) error { return nil }); err == nil {
					t.Fatalf("cut at %d of %d bytes decoded", n, len(b))
				}
			}
		})
	}
	stop := errors.New("stop")
	in := election()
	if err := new(TallyInput).ReadWireEach(wire.NewReader(Encode(in)), &Vote{}, func(*Vote, []int32) error { return stop }); err != stop {
		t.Fatalf("fn's error: %v", err)
	}
}

// Rankings travel as option indexes when every entry is an option or a
// mark, as strings otherwise; both decode to the same ranking.
func TestRankingEncodings(t *testing.T) {
	indexed := &TallyInput{BallotID: "b", Kind: KindElection, Options: []Option{{"a", "A"}, {"b", "B"}},
		Votes: []Vote{{Voter: "v", Weight: One(), Ranking: []string{"b", RankSkipped, "a", RankOvervote}}}}
	other := &TallyInput{BallotID: "b", Kind: KindElection, Options: []Option{{"a", "A"}},
		Votes: []Vote{{Voter: "v", Weight: One(), Ranking: []string{"a", "z"}}}}
	for _, tt := range []struct {
		name    string
		in      *TallyInput
		indexes bool
	}{{"indexed", indexed, true}, {"unknown id", other, false}} {
		var r wire.Reader
		r.Reset(Encode(tt.in))
		var head TallyInput
		if mask := head.readHead(&r); (mask&tallyInRankIndexes != 0) != tt.indexes {
			t.Errorf("%s: mask %#x", tt.name, mask)
		}
		var back TallyInput
		if err := Decode(Encode(tt.in), &back); err != nil || !reflect.DeepEqual(back.Votes, tt.in.Votes) {
			t.Errorf("%s: %v %+v", tt.name, err, back.Votes)
		}
	}
	// An index beyond the options is refused.
	b := Encode(indexed)
	b[len(b)-3] = 9 // the second code, the skipped rank (1), becomes option 7
	if err := Decode(b, &TallyInput{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad index: %v", err)
	}
	if err := new(TallyInput).ReadWireEach(wire.NewReader(b), &Vote{}, func(*Vote, []int32) error { return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad index, each: %v", err)
	}
}
