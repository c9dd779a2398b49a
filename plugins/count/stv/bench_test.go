package stv

import (
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"

	"github.com/plenum-vote/plenum/testkit"
)

// BenchmarkCountGlasgowLargestWard counts the Glasgow 2007 ward with the
// most ballots by the Scottish rule and by Meek's method, from the tally
// input (grouping the ballots included).
func BenchmarkCountGlasgowLargestWard(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(testkit.ElectionData(b), "glasgow_2007", "blt", "*.blt"))
	if len(files) == 0 {
		b.Fatal("no Glasgow ballot files")
	}
	var largest *ballotfile.Profile
	for _, f := range files {
		if p := parse(b, f, ballotfile.ParseBLT); largest == nil || p.Total() > largest.Total() {
			largest = p
		}
	}
	b.Logf("%s: %d ballots, %d lines, %d candidates, %d seats", largest.Title, largest.Total(), len(largest.Ballots), len(largest.Candidates), largest.Seats)
	for _, variant := range []string{Scottish, Meek} {
		b.Run(variant, func(b *testing.B) {
			in := toInput(largest, largest.Seats, `{"variant":"`+variant+`"}`)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Count(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
