package audit_test

import (
	"testing"

	"github.com/plenum-vote/plenum/core/audit"
)

// feed checks recs in batches of size n.
func feed(recs []audit.Record, n int) []audit.Problem {
	v := audit.NewChainVerifier("tenant-a")
	for i := 0; i < len(recs); i += n {
		v.Feed(recs[i:min(i+n, len(recs))])
	}
	return v.Problems()
}

// swapContent swaps two events but keeps the stored seq order, as
// renumbering rows in the database does.
func swapContent(recs []audit.Record, i, j int) {
	recs[i], recs[j] = recs[j], recs[i]
	recs[i].Seq, recs[j].Seq = int64(i+1), int64(j+1)
}

func TestChainVerifierKinds(t *testing.T) {
	type want struct {
		kind string
		seq  int64
	}
	tests := []struct {
		name   string
		mutate func([]audit.Record) []audit.Record
		want   []want // the problems, in order
	}{
		{"clean", func(r []audit.Record) []audit.Record { return r }, nil},
		{"edited action", func(r []audit.Record) []audit.Record { r[3].Action = "x.y"; return r }, []want{{audit.Edited, 4}}},
		{"edited time", func(r []audit.Record) []audit.Record { r[0].At = r[0].At.Add(1000); return r }, []want{{audit.Edited, 1}}},
		{"removed middle", func(r []audit.Record) []audit.Record { return append(r[:4], r[5:]...) }, []want{{audit.Removed, 5}}},
		{"removed first", func(r []audit.Record) []audit.Record { return r[1:] }, []want{{audit.Removed, 1}}},
		{"first not genesis", func(r []audit.Record) []audit.Record { r[0].PrevHash = r[5].PrevHash; return r }, []want{{audit.Reordered, 1}}},
		{"removed and renumbered", func(r []audit.Record) []audit.Record {
			r = append(r[:4], r[5:]...)
			for i := 4; i < len(r); i++ {
				r[i].Seq--
			}
			return r
		}, []want{{audit.Removed, 5}, {audit.Edited, 6}, {audit.Edited, 7}, {audit.Edited, 8}, {audit.Edited, 9}}},
		{"adjacent swap", func(r []audit.Record) []audit.Record { swapContent(r, 4, 5); return r },
			[]want{{audit.Reordered, 5}, {audit.Reordered, 6}, {audit.Reordered, 7}}},
		{"distant swap", func(r []audit.Record) []audit.Record { swapContent(r, 1, 8); return r },
			[]want{{audit.Reordered, 2}, {audit.Reordered, 3}, {audit.Reordered, 9}, {audit.Reordered, 10}}},
		{"seq backwards", func(r []audit.Record) []audit.Record { r[3], r[4] = r[4], r[3]; return r },
			[]want{{audit.Removed, 4}, {audit.Reordered, 4}, {audit.Reordered, 6}}},
	}
	for _, tt := range tests {
		for _, batch := range []int{1, 3, 100} {
			recs := tt.mutate(chainOf(10))
			got := feed(recs, batch)
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = got[i].Kind == tt.want[i].kind && got[i].Seq == tt.want[i].seq && got[i].Chain == "tenant-a"
			}
			if !ok {
				t.Errorf("%s, batches of %d: got %+v, want %+v", tt.name, batch, got, tt.want)
			}
		}
	}
}

func TestVerifyChainBoundedWindow(t *testing.T) {
	// A link to an event long before is still told apart from a removal
	// within the window, and reported as a removal beyond it.
	recs := chainOf(3000)
	recs[2000].PrevHash = recs[1500].Hash
	recs[2500].PrevHash = recs[10].Hash
	got := audit.VerifyChain("tenant-a", recs)
	if len(got) != 2 || got[0].Kind != audit.Reordered || got[0].Seq != 2001 || got[1].Kind != audit.Removed || got[1].Seq != 2501 {
		t.Fatalf("got %+v", got)
	}
}
