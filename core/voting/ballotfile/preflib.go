package ballotfile

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
)

// ParsePrefLib reads PrefLib's ordinal formats (.soc, .soi, .toc, .toi):
// metadata lines starting with "#", among them "# NUMBER ALTERNATIVES: n"
// and "# ALTERNATIVE NAME i: name" (and "# TITLE: …"), then lines
// "count: 3,1,{2,4}" where braces hold candidates ranked equal.
func ParsePrefLib(r io.Reader) (*Profile, error) {
	lr := &io.LimitedReader{R: r, N: MaxBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	p := &Profile{}
	n := -1
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if meta, ok := strings.CutPrefix(text, "#"); ok {
			key, val, ok := strings.Cut(meta, ":")
			if !ok {
				continue
			}
			key, val = strings.ToUpper(strings.TrimSpace(key)), strings.TrimSpace(val)
			switch {
			case key == "NUMBER ALTERNATIVES":
				v, err := strconv.Atoi(val)
				if err != nil || v < 1 || v > MaxCandidates || n >= 0 {
					return nil, lineErr(line, "the number of alternatives must be given once, from 1 to %d", MaxCandidates)
				}
				n = v
				p.Candidates = make([]string, n)
				for i := range p.Candidates {
					p.Candidates[i] = "Alternative " + strconv.Itoa(i+1)
				}
			case strings.HasPrefix(key, "ALTERNATIVE NAME "):
				i, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(key, "ALTERNATIVE NAME ")))
				if n < 0 || err != nil || i < 1 || i > n {
					return nil, lineErr(line, "alternative %q named before its number is declared, or out of range", key)
				}
				p.Candidates[i-1] = normalizeName(val)
			case key == "TITLE":
				p.Title = normalizeName(val)
			}
			continue
		}
		if n < 0 {
			return nil, lineErr(line, `the "# NUMBER ALTERNATIVES" line must come before the preferences`)
		}
		if len(p.Ballots) >= MaxLines {
			return nil, lineErr(line, "more than %d ballot lines", MaxLines)
		}
		head, order, ok := strings.Cut(text, ":")
		if !ok {
			return nil, lineErr(line, `expected "count: preferences"`)
		}
		count, err := strconv.ParseInt(strings.TrimSpace(head), 10, 64)
		if err != nil || count < 1 || count > MaxCount {
			return nil, lineErr(line, "the count must be a number from 1 to %d", int64(MaxCount))
		}
		ranks, err := parsePrefLibOrder(line, order, n)
		if err != nil {
			return nil, err
		}
		if err := checkRanks(line, ranks, n); err != nil {
			return nil, err
		}
		p.Ballots = append(p.Ballots, Ballot{Count: count, Ranks: ranks})
	}
	if err := sc.Err(); err != nil {
		return nil, lineErr(line+1, "%s", err.Error())
	}
	if lr.N <= 0 {
		return nil, lineErr(line, "file larger than %d bytes", MaxBytes)
	}
	if n < 0 {
		return nil, lineErr(line, `no "# NUMBER ALTERNATIVES" line`)
	}
	return p, nil
}

// parsePrefLibOrder reads "3,1,{2,4}".
func parsePrefLibOrder(line int, s string, n int) ([]Rank, error) {
	var ranks []Rank
	s = strings.TrimSpace(s)
	for s != "" {
		var group string
		if rest, ok := strings.CutPrefix(s, "{"); ok {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, lineErr(line, "'{' not closed")
			}
			group, s = rest[:end], strings.TrimSpace(rest[end+1:])
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			group, s = s[:end], s[end:]
			if strings.ContainsAny(group, "{}") {
				return nil, lineErr(line, "misplaced brace")
			}
		}
		var r Rank
		for _, f := range strings.Split(group, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 1 || v > n {
				return nil, lineErr(line, "alternative %q does not exist (there are %d)", strings.TrimSpace(f), n)
			}
			r.Candidates = append(r.Candidates, v-1)
		}
		sort.Ints(r.Candidates)
		ranks = append(ranks, r)
		if len(ranks) > n {
			return nil, lineErr(line, "more ranks than alternatives")
		}
		if s != "" {
			rest, ok := strings.CutPrefix(s, ",")
			if !ok {
				return nil, lineErr(line, "expected ',' between ranks")
			}
			s = strings.TrimSpace(rest)
			if s == "" {
				return nil, lineErr(line, "trailing ','")
			}
		}
	}
	if len(ranks) == 0 {
		return nil, lineErr(line, "a ballot without preferences")
	}
	return ranks, nil
}
