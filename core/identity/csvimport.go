package identity

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Invitee is one row of a member import.
type Invitee struct {
	// Line is the row's line number in the file, for error messages.
	Line  int
	Email string
	Name  string
	// Role is the role to grant, empty for the default.
	Role string
}

// Import limits.
const (
	// MaxImportRows is the most rows one import may hold.
	MaxImportRows = 5000
	// MaxImportBytes is the largest import file.
	MaxImportBytes = 1 << 20
)

// ParseInvitees reads a CSV of people to invite: columns e-mail, name and
// optionally role, with or without a header row naming them (in any
// order). Rows with problems are reported by line and left out; the file
// as a whole fails only when it is not CSV, too large or has too many
// rows. Nothing is invited here.
func ParseInvitees(r io.Reader) ([]Invitee, []string, error) {
	lr := &io.LimitedReader{R: r, N: MaxImportBytes + 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	cols := map[string]int{"email": 0, "name": 1, "role": 2}
	var (
		out      []Invitee
		problems []string
		seen     = map[string]int{}
	)
	for row := 0; ; row++ {
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
			return nil, nil, fmt.Errorf("%w: the file is not valid CSV (line %d)", ErrInvalid, line)
		}
		line, _ := cr.FieldPos(0)
		if lr.N <= 0 {
			return nil, nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrInvalid, MaxImportBytes)
		}
		if row == 0 && isHeader(rec) {
			cols = map[string]int{"email": -1, "name": -1, "role": -1}
			for i, h := range rec {
				h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
				if h == "e-mail" {
					h = "email"
				}
				if _, ok := cols[h]; ok {
					cols[h] = i
				}
			}
			if cols["email"] < 0 {
				return nil, nil, fmt.Errorf("%w: the header has no email column", ErrInvalid)
			}
			continue
		}
		if len(out)+len(problems) >= MaxImportRows {
			return nil, nil, fmt.Errorf("%w: more than %d rows", ErrInvalid, MaxImportRows)
		}
		field := func(name string) string {
			i := cols[name]
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		rawEmail := strings.TrimPrefix(field("email"), "\ufeff")
		if rawEmail == "" && len(rec) <= 1 && field("name") == "" {
			continue // blank line
		}
		email, err := normalizeEmail(rawEmail)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: not a plain e-mail address", line))
			continue
		}
		name, err := cleanName(field("name"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")))
			continue
		}
		role := strings.ToLower(field("role"))
		if role != "" && !validRoleName(role) {
			problems = append(problems, fmt.Sprintf("line %d: not a role name", line))
			continue
		}
		if first, dup := seen[email]; dup {
			problems = append(problems, fmt.Sprintf("line %d: the same address as line %d", line, first))
			continue
		}
		seen[email] = line
		out = append(out, Invitee{Line: line, Email: email, Name: name, Role: role})
	}
	return out, problems, nil
}

func isHeader(rec []string) bool {
	if len(rec) == 0 {
		return false
	}
	h := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")))
	return h == "email" || h == "e-mail" || h == "name" || h == "role"
}

func validRoleName(s string) bool {
	if len(s) < 2 || len(s) > 40 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
