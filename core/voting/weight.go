// Package voting holds what members vote with and on: units with their
// entitlement weights and owners (and, to come, ballots, voting rights,
// votes and tallies). See README.md.
package voting

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid input")

// Weight is a unit's entitlement (ownership share, shares held, votes):
// an exact non-negative rational, never a float, so that weighted tallies
// add up exactly.
type Weight struct{ r big.Rat }

// maxWeightDigits bounds the size of a weight's numerator and denominator.
const maxWeightDigits = 30

// ParseWeight reads "3", "12.5", "0.125" or "1/3". Negative values,
// exponents and more than 30 digits are refused.
func ParseWeight(s string) (Weight, error) {
	s = strings.TrimSpace(s)
	var w Weight
	if s == "" || len(s) > 2*maxWeightDigits+1 || strings.Trim(s, "0123456789./") != "" || strings.Count(s, "/")+strings.Count(s, ".") > 1 {
		return w, fmt.Errorf("%w: a weight is a number such as 1, 12.5 or 1/3", ErrInvalid)
	}
	if _, ok := w.r.SetString(s); !ok {
		return w, fmt.Errorf("%w: a weight is a number such as 1, 12.5 or 1/3", ErrInvalid)
	}
	if w.r.Denom().Sign() == 0 || len(w.r.Num().String()) > maxWeightDigits || len(w.r.Denom().String()) > maxWeightDigits {
		return Weight{}, fmt.Errorf("%w: a weight has at most %d digits above and below the line", ErrInvalid, maxWeightDigits)
	}
	return w, nil
}

// OneWeight is the weight of a unit in a by-head count.
func OneWeight() Weight {
	var w Weight
	w.r.SetInt64(1)
	return w
}

// String is the canonical form: "3", "25/2", "1/3".
func (w Weight) String() string {
	if w.r.IsInt() {
		return w.r.Num().String()
	}
	return w.r.String()
}

// Rat returns the weight as a new big.Rat.
func (w Weight) Rat() *big.Rat { return new(big.Rat).Set(&w.r) }

// Value implements driver.Valuer: stored as its canonical string.
func (w Weight) Value() (driver.Value, error) { return w.String(), nil }

// Scan implements sql.Scanner.
func (w *Weight) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("voting: weight from %T", src)
	}
	p, err := ParseWeight(s)
	if err != nil {
		return fmt.Errorf("voting: stored weight %q: %w", s, err)
	}
	*w = p
	return nil
}
