package main

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
)

// synthetic returns an instant-runoff election of n votes, one per voter,
// each ranking a random prefix (1 to k candidates) of a random order of k
// candidates, from a fixed seed.
func synthetic(n, k int) *sdk.TallyInput {
	rng := rand.New(rand.NewPCG(2026, 5))
	in := &sdk.TallyInput{BallotID: "synthetic", Kind: sdk.KindElection, Rule: "irv", Seats: 1}
	ids := make([]string, k)
	for i := range ids {
		ids[i] = "cand-" + strconv.Itoa(i)
		in.Options = append(in.Options, sdk.Option{ID: ids[i], Label: "Candidate " + strconv.Itoa(i)})
	}
	perm := make([]int, k)
	for i := 0; i < n; i++ {
		for j := range perm {
			perm[j] = j
		}
		rng.Shuffle(k, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		r := make([]string, 1+rng.IntN(k))
		for j := range r {
			r[j] = ids[perm[j]]
		}
		in.Votes = append(in.Votes, sdk.Vote{Voter: "v" + strconv.Itoa(i), Weight: sdk.One(), Ranking: r})
	}
	return in
}

// BenchmarkNativeCall is the plugin's tally hook called natively through
// the sdk (decode as it streams, count, encode) on 100,000 votes: the
// baseline of the wasm/native ratio.
func BenchmarkNativeCall(b *testing.B) {
	enc := sdk.Encode(synthetic(100_000, 10))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdk.CallNative(sdk.HookTally, enc); err != nil {
			b.Fatal(err)
		}
	}
}
