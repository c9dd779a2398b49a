package voting

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
)

// Import limits.
const (
	// MaxUnitRows is the most rows one units file may hold.
	MaxUnitRows = 20_000
	// MaxUnitBytes is the largest units file.
	MaxUnitBytes = 4 << 20
)

// Owner is an owner named in a units file.
type Owner struct{ Email, Name string }

// UnitRow is one unit of a units file, with every owner its rows name.
type UnitRow struct {
	// Line is the first line naming the unit.
	Line   int
	Label  string
	Weight Weight
	Owners []Owner
}

// ParseUnitsCSV reads a units file: a header with the columns unit,
// weight and, optionally, owner_email and owner_name (any order), then
// one row per unit and owner — a unit with two owners has two rows with
// the same label and weight. Rows with problems are reported by line and
// left out; the file fails as a whole only when it is not CSV, too large
// or lacks the columns. Nothing is stored here.
func ParseUnitsCSV(r io.Reader) ([]UnitRow, []string, error) {
	lr := &io.LimitedReader{R: r, N: MaxUnitBytes + 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the file has no header row", ErrInvalid)
	}
	col := map[string]int{"unit": -1, "weight": -1, "owner_email": -1, "owner_name": -1}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, ok := col[h]; ok {
			col[h] = i
		}
	}
	if col["unit"] < 0 || col["weight"] < 0 {
		return nil, nil, fmt.Errorf("%w: the header must name the columns unit and weight", ErrInvalid)
	}
	var (
		out      []UnitRow
		problems []string
		byLabel  = map[string]int{}
		rows     int
	)
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
			return nil, nil, fmt.Errorf("%w: the file is not valid CSV (line %d)", ErrInvalid, line)
		}
		if lr.N <= 0 {
			return nil, nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrInvalid, MaxUnitBytes)
		}
		line, _ := cr.FieldPos(0)
		if rows++; rows > MaxUnitRows {
			return nil, nil, fmt.Errorf("%w: more than %d rows", ErrInvalid, MaxUnitRows)
		}
		field := func(name string) string {
			if i := col[name]; i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		label, err := CleanLabel(field("unit"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, trimErr(err)))
			continue
		}
		w, err := ParseWeight(field("weight"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, trimErr(err)))
			continue
		}
		var owner *Owner
		if e := strings.ToLower(field("owner_email")); e != "" {
			a, err := mail.ParseAddress(e)
			if err != nil || a.Address != e || len(e) > 254 {
				problems = append(problems, fmt.Sprintf("line %d: not a plain e-mail address", line))
				continue
			}
			name := field("owner_name")
			if len([]rune(name)) > 200 {
				problems = append(problems, fmt.Sprintf("line %d: the owner's name is longer than 200 characters", line))
				continue
			}
			owner = &Owner{Email: e, Name: name}
		}
		i, seen := byLabel[label]
		if !seen {
			i = len(out)
			byLabel[label] = i
			out = append(out, UnitRow{Line: line, Label: label, Weight: w})
		} else if out[i].Weight.String() != w.String() {
			problems = append(problems, fmt.Sprintf("line %d: unit %q has weight %s on line %d", line, label, out[i].Weight, out[i].Line))
			continue
		}
		if owner != nil {
			out[i].Owners = append(out[i].Owners, *owner)
		}
	}
	return out, problems, nil
}

func trimErr(err error) string {
	return strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
}

// WriteUnitsCSV writes units in the format ParseUnitsCSV reads, one row
// per unit and owner (a unit without owners has one row). Cells a
// spreadsheet would run as a formula are prefixed with a quote.
func WriteUnitsCSV(w io.Writer, units []Unit, owners map[string][]Owner) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"unit", "weight", "owner_email", "owner_name"}); err != nil {
		return err
	}
	for _, u := range units {
		os := owners[u.ID]
		if len(os) == 0 {
			os = []Owner{{}}
		}
		for _, o := range os {
			if err := cw.Write([]string{safeCell(u.Label), u.Weight.String(), safeCell(o.Email), safeCell(o.Name)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell defuses spreadsheet formulas ("=HYPERLINK(…)", "+1", "@SUM").
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
