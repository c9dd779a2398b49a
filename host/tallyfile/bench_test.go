package tallyfile_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/plugins/count/irv"
	"github.com/plenum-vote/plenum/plugins/count/ranked"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// tallyWasm is one plugin call as the host makes it: encode the input,
// call the guest, decode the output.
func tallyWasm(b *testing.B, p *wasm.Plugin, in *sdk.TallyInput, w *wire.Writer) *sdk.TallyOutput {
	w.Reset()
	in.AppendWire(w)
	res, err := p.Call(context.Background(), sdk.HookTally, w.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	var out sdk.TallyOutput
	if err := out.ReadWire(wire.NewReader(res)); err != nil {
		b.Fatal(err)
	}
	return &out
}

// BenchmarkMinneapolis2013 counts the 2013 Minneapolis mayoral election
// (80,101 ballots in 7,084 distinct lines, 36 candidates, 33 rounds)
// natively and through the wasm plugin, input encoding included.
func BenchmarkMinneapolis2013(b *testing.B) {
	c := loadContest(b, "2013_minneapolis_mayor")
	b.Run("native", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := irv.Count(c.in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wasm", func(b *testing.B) {
		p := loadIRV(b)
		var w wire.Writer
		tallyWasm(b, p, c.in, &w) // warm the instance
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			tallyWasm(b, p, c.in, &w)
		}
	})
}

// million returns a synthetic instant-runoff election: 1,000,000 votes,
// one per voter (no Count), each ranking a random prefix (1 to 10
// candidates) of a random order of 10 candidates, from a fixed seed.
// ranked.FromInput groups the identical ones as it would any input.
var million = sync.OnceValue(func() *sdk.TallyInput {
	const n, k = 1_000_000, 10
	rng := rand.New(rand.NewPCG(2026, 5))
	in := &sdk.TallyInput{BallotID: "synthetic-1m", Kind: sdk.KindElection, Rule: "irv", Seats: 1}
	ids := make([]string, k)
	for i := range ids {
		ids[i] = "cand-" + strconv.Itoa(i)
		in.Options = append(in.Options, sdk.Option{ID: ids[i], Label: "Candidate " + strconv.Itoa(i)})
	}
	in.Votes = make([]sdk.Vote, n)
	perm := make([]int, k)
	for i := range in.Votes {
		for j := range perm {
			perm[j] = j
		}
		// Skew first preferences so the count has a shape: lower
		// indexes are likelier to come first.
		rng.Shuffle(k, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		if f := rng.IntN(k); f < perm[0] {
			for j := range perm {
				if perm[j] == f {
					perm[0], perm[j] = perm[j], perm[0]
				}
			}
		}
		r := make([]string, 1+rng.IntN(k))
		for j := range r {
			r[j] = ids[perm[j]]
		}
		in.Votes[i] = sdk.Vote{Voter: "v" + strconv.Itoa(i), Weight: sdk.One(), Ranking: r}
	}
	return in
})

// BenchmarkMillion counts the synthetic 1,000,000-vote election: natively
// from the Go values (irv.Count), natively along the plugin's own path
// (encode, stream-decode, count, encode: the fair baseline), and through
// the wasm plugin (input encoding included); wasm over native-wire is the
// cost of the sandbox.
func BenchmarkMillion(b *testing.B) {
	in := million()
	if p, err := ranked.FromInput(in); err != nil {
		b.Fatal(err)
	} else {
		b.Logf("1,000,000 votes group into %d distinct ballots", len(p.Ballots))
	}
	b.Run("native", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := irv.Count(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("native-wire", func(b *testing.B) {
		// What the plugin does, natively: encode, decode one vote at a
		// time into a reused irv.Stream, count, encode the output.
		var (
			w, ow  wire.Writer
			r      wire.Reader
			head   sdk.TallyInput
			vote   sdk.Vote
			stream irv.Stream
		)
		b.ReportAllocs()
		for b.Loop() {
			w.Reset()
			in.AppendWire(&w)
			r.ResetShared(w.Bytes())
			started := false
			err := head.ReadWireEach(&r, &vote, func(v *sdk.Vote, ranks []int32) error {
				if !started {
					started = true
					if err := stream.Reset(&head); err != nil {
						return err
					}
				}
				return stream.AddIndexed(v, ranks)
			})
			if err != nil {
				b.Fatal(err)
			}
			out, err := stream.Result()
			if err != nil {
				b.Fatal(err)
			}
			ow.Reset()
			out.AppendWire(&ow)
		}
	})
	b.Run("wasm", func(b *testing.B) {
		p := loadIRV(b)
		var w wire.Writer
		out := tallyWasm(b, p, in, &w)
		b.Logf("input %d bytes; %s in %d rounds", len(w.Bytes()), out.Elected, len(out.Rounds))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			tallyWasm(b, p, in, &w)
		}
	})
}
