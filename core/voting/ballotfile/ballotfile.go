// Package ballotfile reads ranked ballot files into a preference profile:
// the BLT format of Hill, Wichmann and Woodall (with the common
// extensions: comments, equal rankings joined by "=", withdrawn
// candidates), PrefLib's ordinal formats (.soc, .soi, .toc, .toi, with
// ties in braces), and the grouped CSV of ranks that RCTab and many
// election offices publish (rank1,rank2,…,count, with "overvote",
// "undervote" and write-in labels).
//
// Parsers read from an io.Reader and stop at MaxBytes; every refusal is
// an error wrapping ErrInvalid that names the line. Nothing here counts
// votes: the tally plugins do.
package ballotfile

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid ballot file")

// Limits a file must stay within.
const (
	// MaxBytes is the largest file read.
	MaxBytes = 256 << 20
	// MaxCandidates is the most candidates a profile may hold.
	MaxCandidates = 1000
	// MaxCount is the largest count (or weight) of one ballot line.
	MaxCount = 1 << 40
	// MaxLines is the most ballot lines a profile may hold.
	MaxLines = 20_000_000
)

// Rank is one position on a ballot: the candidates marked there (more
// than one for an equal ranking), none for a skipped position
// (undervote), or an overvote.
type Rank struct {
	// Candidates are indices into Profile.Candidates, ascending.
	Candidates []int
	// Overvote marks a position where the voter marked more than one
	// candidate and the file does not say whom (RCTab's "overvote"). A
	// counting rule decides what it means (exhaust, or skip to the next
	// rank).
	Overvote bool
	// Duplicate marks a position that repeats a candidate ranked earlier
	// on the same ballot (published cast-vote records hold such marks). A
	// counting rule decides: skip it, or exhaust the ballot there.
	Duplicate bool
}

// Ballot is one ballot line: Count identical ballots.
type Ballot struct {
	Count int64
	Ranks []Rank
}

// Profile is a parsed ballot file.
type Profile struct {
	Title      string
	Candidates []string
	// Seats is the number to elect (BLT); 0 when the file does not say.
	Seats int
	// Withdrawn are candidates withdrawn before the count.
	Withdrawn []int
	// TieOrder, when the file gives one, breaks ties: earlier wins.
	TieOrder []int
	Ballots  []Ballot
}

// Total returns the number of ballots (the sum of the counts).
func (p *Profile) Total() int64 {
	var n int64
	for _, b := range p.Ballots {
		n += b.Count
	}
	return n
}

// normalizeName collapses runs of white space (some councils' files
// hold double spaces in names) and trims.
func normalizeName(s string) string { return strings.Join(strings.Fields(s), " ") }

func lineErr(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrInvalid, line, fmt.Sprintf(format, args...))
}

// checkRanks refuses a ballot that names a candidate twice.
func checkRanks(line int, ranks []Rank, n int) error {
	seen := make(map[int]bool)
	for _, r := range ranks {
		for _, c := range r.Candidates {
			if c < 0 || c >= n {
				return lineErr(line, "candidate %d does not exist (there are %d)", c+1, n)
			}
			if seen[c] {
				return lineErr(line, "candidate %d is ranked twice", c+1)
			}
			seen[c] = true
		}
	}
	return nil
}
