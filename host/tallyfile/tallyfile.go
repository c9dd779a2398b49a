// Package tallyfile turns a ballot file (BLT, PrefLib, RCTab-style CSV,
// read by core/voting/ballotfile) into the input of the tally hook, so
// that published elections can be counted by the same code, native or
// wasm, that counts Plenum's own ballots.
package tallyfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plenum-vote/plenum/core/voting/ballotfile"
	"github.com/plenum-vote/plenum/sdk"
)

// Ballot file formats (Parse).
const (
	FormatBLT     = "blt"
	FormatPrefLib = "preflib"
	FormatCSV     = "csv"
)

// ErrFormat is returned for a format Parse does not know.
var ErrFormat = errors.New("tallyfile: unknown ballot file format")

// FormatOf returns the format of a file by its extension: .blt, .csv, and
// PrefLib's .soc, .soi, .toc and .toi; "" when unknown.
func FormatOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".blt":
		return FormatBLT
	case ".csv":
		return FormatCSV
	case ".soc", ".soi", ".toc", ".toi":
		return FormatPrefLib
	}
	return ""
}

// Parse reads a ballot file in format (FormatBLT, FormatPrefLib or
// FormatCSV). Its errors are ballotfile's, which name the line.
func Parse(r io.Reader, format string) (*ballotfile.Profile, error) {
	switch format {
	case FormatBLT:
		return ballotfile.ParseBLT(r)
	case FormatPrefLib:
		return ballotfile.ParsePrefLib(r)
	case FormatCSV:
		return ballotfile.ParseCSV(r)
	}
	return nil, fmt.Errorf("%w %q: use blt, preflib or csv", ErrFormat, format)
}

// Options say how to present a profile to a counting method.
type Options struct {
	// BallotID names the ballot (default: the profile's title, or
	// "ballot-file").
	BallotID string
	// Rule is the counting method, e.g. "irv" or "stv".
	Rule string
	// Seats to fill; 0 takes the file's, or 1 when the file does not say.
	Seats int
	// Config is the method configuration (JSON), or nil.
	Config json.RawMessage
}

// Input converts a parsed ballot file into a tally input: candidates
// become options (id and label: the name), each ballot line one vote of
// weight 1 with Count identical voters, counted by head.
//
// Ranks map as follows. A rank naming one candidate is that candidate's
// id; a rank naming several (an equal ranking, or RCTab's "overvote") is
// sdk.RankOvervote; an empty rank is sdk.RankSkipped. A duplicate mark
// (the parser does not say whom it repeats) becomes the id of a candidate
// ranked earlier on the same ballot, which methods skip as a duplicate.
// Withdrawn candidates are removed from the options and from every
// ranking, and ranks that named only them disappear, as if they had never
// stood. The file's tie order, if any, is not used.
func Input(p *ballotfile.Profile, opt Options) (*sdk.TallyInput, error) {
	if len(p.Candidates) == 0 {
		return nil, errors.New("tallyfile: the file names no candidates")
	}
	withdrawn := make([]bool, len(p.Candidates))
	for _, w := range p.Withdrawn {
		if w < 0 || w >= len(p.Candidates) {
			return nil, fmt.Errorf("tallyfile: withdrawn candidate %d does not exist", w+1)
		}
		withdrawn[w] = true
	}
	in := &sdk.TallyInput{
		BallotID: opt.BallotID, Kind: sdk.KindElection, Rule: opt.Rule, Config: opt.Config,
		Counting: sdk.CountHead,
	}
	if in.BallotID == "" {
		in.BallotID = p.Title
	}
	if in.BallotID == "" {
		in.BallotID = "ballot-file"
	}
	for i, name := range p.Candidates {
		if withdrawn[i] {
			continue
		}
		if name == "" || strings.HasPrefix(name, "#") {
			return nil, fmt.Errorf("tallyfile: candidate %d: name %q is empty or begins with '#', which is reserved", i+1, name)
		}
		in.Options = append(in.Options, sdk.Option{ID: name, Label: name})
	}
	if len(in.Options) == 0 {
		return nil, errors.New("tallyfile: every candidate is withdrawn")
	}
	switch {
	case opt.Seats > 0:
		in.Seats = int64(opt.Seats)
	case p.Seats > 0:
		in.Seats = int64(p.Seats)
	default:
		in.Seats = 1
	}
	in.Votes = make([]sdk.Vote, 0, len(p.Ballots))
	for bi, b := range p.Ballots {
		if b.Count < 1 {
			return nil, fmt.Errorf("tallyfile: ballot line %d: count %d", bi+1, b.Count)
		}
		v := sdk.Vote{Voter: "line-" + strconv.Itoa(bi+1), Weight: sdk.One(), Count: b.Count}
		if b.Count == 1 {
			v.Count = 0
		}
		v.Ranking = make([]string, 0, len(b.Ranks))
		first := "" // a candidate ranked earlier, for duplicates
		for _, r := range b.Ranks {
			var live []int
			for _, c := range r.Candidates {
				if c < 0 || c >= len(p.Candidates) {
					return nil, fmt.Errorf("tallyfile: ballot line %d: candidate %d does not exist", bi+1, c+1)
				}
				if !withdrawn[c] {
					live = append(live, c)
				}
			}
			switch {
			case r.Overvote:
				v.Ranking = append(v.Ranking, sdk.RankOvervote)
			case r.Duplicate:
				if first != "" {
					v.Ranking = append(v.Ranking, first)
				}
			case len(r.Candidates) == 0:
				v.Ranking = append(v.Ranking, sdk.RankSkipped)
			case len(live) == 0:
				// Only withdrawn candidates: the rank disappears.
			case len(live) == 1:
				id := p.Candidates[live[0]]
				if first == "" {
					first = id
				}
				v.Ranking = append(v.Ranking, id)
			default:
				v.Ranking = append(v.Ranking, sdk.RankOvervote)
			}
		}
		in.Votes = append(in.Votes, v)
	}
	return in, nil
}
