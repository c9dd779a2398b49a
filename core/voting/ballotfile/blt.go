package ballotfile

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bltLexer splits a BLT file into tokens: numbers, "=", "-N", quoted
// strings; "#" comments run to the end of the line and /* */ comments
// may span lines. Newlines are white space, as in the original format.
type bltLexer struct {
	r    *bufio.Reader
	line int
}

type bltToken struct {
	text   string
	quoted bool
	// option holds the words of a Droop-style "[name …]" option.
	option []string
	line   int
}

func isWordRune(c rune) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (l *bltLexer) next() (bltToken, error) {
	for {
		c, _, err := l.r.ReadRune()
		if err != nil {
			return bltToken{}, err
		}
		switch {
		case c == '\n':
			l.line++
		case c == ' ' || c == '\t' || c == '\r' || c == '\ufeff':
		case c == '#':
			for {
				c, _, err := l.r.ReadRune()
				if err != nil {
					return bltToken{}, err
				}
				if c == '\n' {
					l.line++
					break
				}
			}
		case c == '/':
			if n, _, err := l.r.ReadRune(); err != nil || n != '*' {
				return bltToken{}, lineErr(l.line, "unexpected '/'")
			}
			prev := rune(0)
			for {
				c, _, err := l.r.ReadRune()
				if err != nil {
					return bltToken{}, lineErr(l.line, "comment not closed")
				}
				if c == '\n' {
					l.line++
				}
				if prev == '*' && c == '/' {
					break
				}
				prev = c
			}
		case c == '"':
			var b strings.Builder
			start := l.line
			for {
				c, _, err := l.r.ReadRune()
				if err != nil {
					return bltToken{}, lineErr(start, "quoted name not closed")
				}
				if c == '"' {
					break
				}
				if c == '\n' {
					l.line++
				}
				if c == utf8.RuneError || b.Len() > 1000 {
					return bltToken{}, lineErr(start, "a name must be valid text of at most 1000 bytes")
				}
				b.WriteRune(c)
			}
			return bltToken{text: b.String(), quoted: true, line: start}, nil
		case c == '=':
			return bltToken{text: "=", line: l.line}, nil
		case c == '[':
			var b strings.Builder
			start := l.line
			for {
				c, _, err := l.r.ReadRune()
				if err != nil {
					return bltToken{}, lineErr(start, "'[' not closed")
				}
				if c == ']' {
					break
				}
				if c == '\n' {
					l.line++
				}
				if b.Len() > 100_000 {
					return bltToken{}, lineErr(start, "option too long")
				}
				b.WriteRune(c)
			}
			words := strings.Fields(b.String())
			if len(words) == 0 {
				return bltToken{}, lineErr(start, "empty option")
			}
			return bltToken{text: "[", option: words, line: start}, nil
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			var b strings.Builder
			b.WriteRune(c)
			for {
				c, _, err := l.r.ReadRune()
				if err != nil {
					break
				}
				if !isWordRune(c) {
					_ = l.r.UnreadRune()
					break
				}
				if b.Len() > 100 {
					return bltToken{}, lineErr(l.line, "nickname too long")
				}
				b.WriteRune(c)
			}
			return bltToken{text: b.String(), line: l.line}, nil
		case c == '-' || c >= '0' && c <= '9':
			var b strings.Builder
			b.WriteRune(c)
			for {
				c, _, err := l.r.ReadRune()
				if err != nil {
					break
				}
				if c < '0' || c > '9' {
					_ = l.r.UnreadRune()
					break
				}
				if b.Len() > 20 {
					return bltToken{}, lineErr(l.line, "number too long")
				}
				b.WriteRune(c)
			}
			return bltToken{text: b.String(), line: l.line}, nil
		default:
			return bltToken{}, lineErr(l.line, "unexpected character %q", c)
		}
	}
}

// ParseBLT reads a BLT file.
func ParseBLT(r io.Reader) (*Profile, error) {
	lr := &io.LimitedReader{R: r, N: MaxBytes + 1}
	lx := &bltLexer{r: bufio.NewReaderSize(lr, 64<<10), line: 1}
	// Tokens are pulled one at a time; peeked holds one pushed back.
	var peeked *bltToken
	next := func() (bltToken, error) {
		if peeked != nil {
			t := *peeked
			peeked = nil
			return t, nil
		}
		t, err := lx.next()
		if err == io.EOF && lr.N <= 0 {
			return t, lineErr(lx.line, "file larger than %d bytes", MaxBytes)
		}
		return t, err
	}
	number := func(what string, min, max int64) (int64, int, error) {
		t, err := next()
		if err == io.EOF {
			return 0, lx.line, lineErr(lx.line, "file ends before the %s", what)
		}
		if err != nil {
			return 0, lx.line, err
		}
		if t.quoted || t.text == "=" {
			return 0, t.line, lineErr(t.line, "expected the %s, found %q", what, t.text)
		}
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil || v < min || v > max {
			return 0, t.line, lineErr(t.line, "the %s must be a number from %d to %d", what, min, max)
		}
		return v, t.line, nil
	}
	nc, _, err := number("number of candidates", 1, MaxCandidates)
	if err != nil {
		return nil, err
	}
	seats, _, err := number("number of seats", 1, nc)
	if err != nil {
		return nil, err
	}
	p := &Profile{Seats: int(seats)}
	n := int(nc)
	nicks := map[string]int{}
	// Withdrawn candidates, each as -N, before the first ballot.
	for {
		t, err := next()
		if err == io.EOF {
			return nil, lineErr(lx.line, "file ends before the ballots")
		}
		if err != nil {
			return nil, err
		}
		if t.option != nil {
			if err := p.applyOption(t, n, nicks); err != nil {
				return nil, err
			}
			continue
		}
		if !strings.HasPrefix(t.text, "-") || t.quoted {
			peeked = &t
			break
		}
		v, err := strconv.Atoi(t.text[1:])
		if err != nil || v < 1 || v > n {
			return nil, lineErr(t.line, "withdrawn candidate %q does not exist", t.text)
		}
		p.Withdrawn = append(p.Withdrawn, v-1)
	}
	// Ballots: count, ranks joined by "=" for equal rankings, 0; a lone 0
	// ends them.
	for {
		count, line, err := number("ballot count", 0, MaxCount)
		if err != nil {
			return nil, err
		}
		if count == 0 {
			break
		}
		if len(p.Ballots) >= MaxLines {
			return nil, lineErr(line, "more than %d ballot lines", MaxLines)
		}
		var ranks []Rank
		joinNext := false
		for {
			t, err := next()
			if err == io.EOF {
				return nil, lineErr(line, "ballot not ended with 0")
			}
			if err != nil {
				return nil, err
			}
			if t.text == "=" {
				if len(ranks) == 0 || joinNext {
					return nil, lineErr(t.line, "'=' must stand between two candidates")
				}
				joinNext = true
				continue
			}
			if t.quoted || t.option != nil {
				return nil, lineErr(t.line, "ballot not ended with 0")
			}
			v, err := strconv.Atoi(t.text)
			if nick, ok := nicks[t.text]; ok && err != nil {
				v, err = nick+1, nil
			}
			if err != nil || v < 0 || v > n {
				return nil, lineErr(t.line, "candidate %q does not exist (there are %d)", t.text, n)
			}
			if v == 0 {
				if joinNext {
					return nil, lineErr(t.line, "'=' must stand between two candidates")
				}
				break
			}
			if len(ranks) > n {
				return nil, lineErr(t.line, "more ranks than candidates")
			}
			if joinNext {
				last := &ranks[len(ranks)-1]
				last.Candidates = append(last.Candidates, v-1)
				sort.Ints(last.Candidates)
				joinNext = false
				continue
			}
			ranks = append(ranks, Rank{Candidates: []int{v - 1}})
		}
		if err := checkRanks(line, ranks, n); err != nil {
			return nil, err
		}
		p.Ballots = append(p.Ballots, Ballot{Count: count, Ranks: ranks})
	}
	// Names, then the title; Wichmann's source and comment may follow.
	for i := 0; i < n+1; i++ {
		t, err := next()
		if err == io.EOF {
			return nil, lineErr(lx.line, "expected %d candidate names and a title", n)
		}
		if err != nil {
			return nil, err
		}
		if !t.quoted {
			return nil, lineErr(t.line, "expected a quoted name, found %q", t.text)
		}
		if i < n {
			p.Candidates = append(p.Candidates, normalizeName(t.text))
		} else {
			p.Title = normalizeName(t.text)
		}
	}
	// What follows the title — Wichmann's quoted source and comment, and
	// in some published files free notes — is not read.
	return p, nil
}

// applyOption records a Droop-style option: "[nick a b c]" names the
// candidates on ballot lines, "[tie c b a]" gives the tie-breaking order
// (earlier wins), "[withdrawn …]" withdraws; other options (such as
// "[droop …]") are counting settings for other programs and are skipped.
func (p *Profile) applyOption(t bltToken, n int, nicks map[string]int) error {
	name, args := t.option[0], t.option[1:]
	resolve := func(s string) (int, error) {
		if i, ok := nicks[s]; ok {
			return i, nil
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > n {
			return 0, lineErr(t.line, "option %s: candidate %q does not exist", name, s)
		}
		return v - 1, nil
	}
	switch name {
	case "nick":
		if len(args) != n {
			return lineErr(t.line, "option nick: %d nicknames for %d candidates", len(args), n)
		}
		for i, a := range args {
			if _, dup := nicks[a]; dup {
				return lineErr(t.line, "option nick: %q given twice", a)
			}
			if _, err := strconv.Atoi(a); err == nil {
				return lineErr(t.line, "option nick: %q is a number", a)
			}
			nicks[a] = i
		}
	case "tie":
		seen := map[int]bool{}
		for _, a := range args {
			i, err := resolve(a)
			if err != nil {
				return err
			}
			if seen[i] {
				return lineErr(t.line, "option tie: a candidate given twice")
			}
			seen[i] = true
			p.TieOrder = append(p.TieOrder, i)
		}
	case "withdrawn":
		for _, a := range args {
			i, err := resolve(a)
			if err != nil {
				return err
			}
			p.Withdrawn = append(p.Withdrawn, i)
		}
	}
	return nil
}
