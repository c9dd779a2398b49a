package ballotfile

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// ParseCSV reads a grouped CSV of ranks: a header naming the rank
// columns and a final "count" column, then one line per distinct ballot
// ("A,B,undervote,12"). A cell is a candidate's name, "undervote" (or
// empty) for a skipped rank, or "overvote"; a candidate repeated later
// on the same line is kept as a Duplicate rank for the counting rule. Candidates are numbered in
// the order they first appear; an undeclared write-in label (e.g. "UWI")
// is a candidate like any other, which counting rules usually eliminate
// first.
func ParseCSV(r io.Reader) (*Profile, error) {
	lr := &io.LimitedReader{R: r, N: MaxBytes + 1}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, lineErr(1, "no header: %s", csvProblem(err))
	}
	if len(head) < 2 || !strings.EqualFold(strings.TrimSpace(head[len(head)-1]), "count") {
		return nil, lineErr(1, `the header must name the rank columns and end with "count"`)
	}
	nranks := len(head) - 1
	if nranks > MaxCandidates {
		return nil, lineErr(1, "more than %d rank columns", MaxCandidates)
	}
	cr.FieldsPerRecord = len(head)
	p := &Profile{}
	index := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, lineErr(line, "%s", csvProblem(err))
		}
		line, _ := cr.FieldPos(0)
		if lr.N <= 0 {
			return nil, lineErr(line, "file larger than %d bytes", MaxBytes)
		}
		if len(p.Ballots) >= MaxLines {
			return nil, lineErr(line, "more than %d ballot lines", MaxLines)
		}
		count, err := strconv.ParseInt(strings.TrimSpace(rec[nranks]), 10, 64)
		if err != nil || count < 1 || count > MaxCount {
			return nil, lineErr(line, "the count must be a number from 1 to %d", int64(MaxCount))
		}
		ranks := make([]Rank, 0, nranks)
		for _, cell := range rec[:nranks] {
			name := normalizeName(cell)
			switch strings.ToLower(name) {
			case "", "undervote":
				ranks = append(ranks, Rank{})
				continue
			case "overvote":
				ranks = append(ranks, Rank{Overvote: true})
				continue
			}
			if len(name) > 1000 {
				return nil, lineErr(line, "a candidate name longer than 1000 bytes")
			}
			i, ok := index[name]
			if ok && ranked(ranks, i) {
				ranks = append(ranks, Rank{Duplicate: true})
				continue
			}
			if !ok {
				if len(p.Candidates) >= MaxCandidates {
					return nil, lineErr(line, "more than %d candidates", MaxCandidates)
				}
				i = len(p.Candidates)
				index[name] = i
				p.Candidates = append(p.Candidates, name)
			}
			ranks = append(ranks, Rank{Candidates: []int{i}})
		}
		// Trailing skipped ranks say nothing; drop them.
		for len(ranks) > 0 && len(ranks[len(ranks)-1].Candidates) == 0 && !ranks[len(ranks)-1].Overvote && !ranks[len(ranks)-1].Duplicate {
			ranks = ranks[:len(ranks)-1]
		}
		p.Ballots = append(p.Ballots, Ballot{Count: count, Ranks: ranks})
	}
	return p, nil
}

// ranked reports whether candidate c is marked in ranks.
func ranked(ranks []Rank, c int) bool {
	for _, r := range ranks {
		for _, x := range r.Candidates {
			if x == c {
				return true
			}
		}
	}
	return false
}

func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
