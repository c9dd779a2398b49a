package sdk

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// Rational is an exact fraction Num/Den. Entitlement weights (a unit's
// share of a building, 125/1000), vote values transferred in a
// single-transferable-vote count and thresholds are Rationals: shares are
// never floating point, so two counts of the same votes always agree.
//
// The zero value is 0. A valid Rational has Den > 0 (or is the zero value)
// and neither part is math.MinInt64. Values need not be in lowest terms;
// the results of Add, Sub, Mul and Norm are.
type Rational struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// Errors of Rational arithmetic.
var (
	// ErrRationalOverflow means a result does not fit in int64/int64.
	ErrRationalOverflow = errors.New("sdk: rational arithmetic overflows int64")
	// ErrRationalInvalid means an operand has Den <= 0 (other than the
	// zero value) or a part equal to math.MinInt64.
	ErrRationalInvalid = errors.New("sdk: invalid rational")
)

// One is the weight of a unit counted by head.
func One() Rational { return Rational{Num: 1, Den: 1} }

// Int returns n as a Rational.
func Int(n int64) Rational { return Rational{Num: n, Den: 1} }

// NewRational returns num/den in lowest terms with a positive
// denominator.
func NewRational(num, den int64) (Rational, error) {
	if den < 0 && den != math.MinInt64 && num != math.MinInt64 {
		num, den = -num, -den
	}
	return Rational{Num: num, Den: den}.Norm()
}

// Valid reports whether r is a usable value: the zero value, or Den > 0
// with neither part math.MinInt64.
func (r Rational) Valid() bool {
	return r == Rational{} || r.Den > 0 && r.Num != math.MinInt64
}

// IsZero reports whether r is 0.
func (r Rational) IsZero() bool { return r.Num == 0 }

// Sign returns -1, 0 or +1 for a valid r.
func (r Rational) Sign() int {
	switch {
	case r.Num < 0:
		return -1
	case r.Num > 0:
		return 1
	}
	return 0
}

// Norm returns r in lowest terms with a positive denominator; 0 is 0/1.
func (r Rational) Norm() (Rational, error) {
	if !r.Valid() {
		return Rational{}, ErrRationalInvalid
	}
	if r.Num == 0 {
		return Rational{Num: 0, Den: 1}, nil
	}
	g := int64(gcd(abs64(r.Num), uint64(r.Den)))
	return Rational{Num: r.Num / g, Den: r.Den / g}, nil
}

// Add returns r+o in lowest terms, or ErrRationalOverflow.
func (r Rational) Add(o Rational) (Rational, error) {
	if !r.Valid() || !o.Valid() {
		return Rational{}, ErrRationalInvalid
	}
	rd, od := den(r), den(o)
	// a/b + c/d = (a·(d/g) + c·(b/g)) / (b/g·d), g = gcd(b, d): the
	// smallest common denominator keeps sums of shares like 125/1000 small.
	g := int64(gcd(uint64(rd), uint64(od)))
	x, ok1 := mul(r.Num, od/g)
	y, ok2 := mul(o.Num, rd/g)
	d, ok3 := mul(rd/g, od)
	if !ok1 || !ok2 || !ok3 {
		return Rational{}, ErrRationalOverflow
	}
	n, ok := add(x, y)
	if !ok {
		return Rational{}, ErrRationalOverflow
	}
	return Rational{Num: n, Den: d}.Norm()
}

// Sub returns r-o in lowest terms, or ErrRationalOverflow.
func (r Rational) Sub(o Rational) (Rational, error) {
	if !o.Valid() {
		return Rational{}, ErrRationalInvalid
	}
	return r.Add(Rational{Num: -o.Num, Den: o.Den})
}

// Mul returns r·o in lowest terms, or ErrRationalOverflow.
func (r Rational) Mul(o Rational) (Rational, error) {
	if !r.Valid() || !o.Valid() {
		return Rational{}, ErrRationalInvalid
	}
	if r.Num == 0 || o.Num == 0 {
		return Rational{Num: 0, Den: 1}, nil
	}
	// Cross-reduce first so that products of reduced values stay small.
	g1 := int64(gcd(abs64(r.Num), uint64(den(o))))
	g2 := int64(gcd(abs64(o.Num), uint64(den(r))))
	n, ok1 := mul(r.Num/g1, o.Num/g2)
	d, ok2 := mul(den(r)/g2, den(o)/g1)
	if !ok1 || !ok2 {
		return Rational{}, ErrRationalOverflow
	}
	return Rational{Num: n, Den: d}.Norm()
}

// Cmp compares r and o and returns -1, 0 or +1. It compares the cross
// products in 128 bits, so it is exact for every pair of valid values and
// cannot overflow; invalid values (see Valid) compare as 0.
func (r Rational) Cmp(o Rational) int {
	if !r.Valid() {
		r = Rational{}
	}
	if !o.Valid() {
		o = Rational{}
	}
	// r.Num·o.Den against o.Num·r.Den; denominators are positive.
	return cmp128(r.Num, den(o), o.Num, den(r))
}

// String formats r as "num/den", or "num" when den is 1.
func (r Rational) String() string {
	if r.Den == 1 || r == (Rational{}) {
		return strconv.FormatInt(r.Num, 10)
	}
	return strconv.FormatInt(r.Num, 10) + "/" + strconv.FormatInt(r.Den, 10)
}

// den returns r's denominator, 1 for the zero value.
func den(r Rational) int64 {
	if r.Den == 0 {
		return 1
	}
	return r.Den
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

// mul returns a·b and whether it fits in int64 (excluding MinInt64).
func mul(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(abs64(a), abs64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if (a < 0) != (b < 0) {
		return -int64(lo), true
	}
	return int64(lo), true
}

// add returns a+b and whether it fits in int64 (excluding MinInt64).
func add(a, b int64) (int64, bool) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) || s == math.MinInt64 {
		return 0, false
	}
	return s, true
}

// cmp128 compares a·b with c·d for b, d > 0, exactly.
func cmp128(a, b, c, d int64) int {
	sa, sc := sign(a), sign(c)
	if sa != sc {
		if sa < sc {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	h1, l1 := bits.Mul64(abs64(a), uint64(b))
	h2, l2 := bits.Mul64(abs64(c), uint64(d))
	m := 0
	switch {
	case h1 < h2 || h1 == h2 && l1 < l2:
		m = -1
	case h1 > h2 || l1 > l2:
		m = 1
	}
	return m * sa
}

func sign(v int64) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
