package stv

import (
	"errors"
	"math"
	"math/bits"
	"strconv"

	"github.com/plenum-vote/plenum/sdk"
)

// ErrOverflow is wrapped by the errors of counts whose vote values do not
// fit the fixed-point range (about 9·10^18 units of the last decimal).
var ErrOverflow = errors.New("stv: vote values overflow the fixed-point range")

// pow10 returns 10^d for 0 ≤ d ≤ 18.
func pow10(d int) int64 {
	p := int64(1)
	for range d {
		p *= 10
	}
	return p
}

// mulDiv returns floor(a·b/c) for a, b ≥ 0 and c > 0, computed with a
// 128-bit intermediate product, or ErrOverflow when the quotient does not
// fit in int64.
func mulDiv(a, b, c int64) (int64, error) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, errors.New("stv: mulDiv of a negative value")
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, ErrOverflow
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(q), nil
}

// mulChecked returns a·b or ErrOverflow, for a, b ≥ 0.
func mulChecked(a, b int64) (int64, error) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(lo), nil
}

// addChecked returns a+b or ErrOverflow, for a, b ≥ 0.
func addChecked(a, b int64) (int64, error) {
	s := a + b
	if s < a || s < b {
		return 0, ErrOverflow
	}
	return s, nil
}

// fixedOf returns the rational r as a fixed-point value with scale
// units per 1, rounded down.
func fixedOf(r sdk.Rational, scale int64) (int64, error) {
	r, err := r.Norm()
	if err != nil {
		return 0, err
	}
	if r.Num < 0 {
		return 0, errors.New("stv: negative weight")
	}
	return mulDiv(r.Num, scale, r.Den)
}

// rational returns the fixed-point value v (scale units per 1) as an
// exact Rational in lowest terms.
func rational(v, scale int64) sdk.Rational {
	r, err := sdk.NewRational(v, scale)
	if err != nil {
		return sdk.Rational{Num: v, Den: scale}
	}
	return r
}

// formatFixed formats v with d decimals: formatFixed(123450, 5) is
// "1.23450".
func formatFixed(v int64, d int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if d > 0 {
		for len(s) <= d {
			s = "0" + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// mulDivRem returns a·b mod c for a, b ≥ 0 and c > 0, or ErrOverflow
// when the quotient does not fit in int64.
func mulDivRem(a, b, c int64) (int64, error) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, errors.New("stv: mulDivRem of a negative value")
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, ErrOverflow
	}
	_, r := bits.Div64(hi, lo, uint64(c))
	return int64(r), nil
}
