package sdk

import (
	"errors"
	"math"
	"testing"
)

func TestRationalNorm(t *testing.T) {
	tests := []struct {
		num, den int64
		want     Rational
		err      error
	}{
		{125, 1000, Rational{1, 8}, nil},
		{0, 7, Rational{0, 1}, nil},
		{6, -4, Rational{-3, 2}, nil},
		{-6, -4, Rational{3, 2}, nil},
		{1, 0, Rational{}, ErrRationalInvalid},
		{math.MinInt64, 1, Rational{}, ErrRationalInvalid},
		{1, math.MinInt64, Rational{}, ErrRationalInvalid},
		{math.MaxInt64, math.MaxInt64, Rational{1, 1}, nil},
	}
	for _, tt := range tests {
		got, err := NewRational(tt.num, tt.den)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NewRational(%d, %d) = %v, %v; want %v, %v", tt.num, tt.den, got, err, tt.want, tt.err)
		}
	}
	if z, err := (Rational{}).Norm(); err != nil || z != (Rational{0, 1}) {
		t.Errorf("zero value: %v, %v", z, err)
	}
}

func TestRationalArithmetic(t *testing.T) {
	r := func(n, d int64) Rational { return Rational{n, d} }
	big := int64(math.MaxInt64)
	tests := []struct {
		name string
		op   func(a, b Rational) (Rational, error)
		a, b Rational
		want Rational
		err  error
	}{
		{"add shares", Rational.Add, r(180, 1000), r(220, 1000), r(2, 5), nil},
		{"add different dens", Rational.Add, r(1, 3), r(1, 6), r(1, 2), nil},
		{"add zero value", Rational.Add, Rational{}, r(3, 4), r(3, 4), nil},
		{"add negative", Rational.Add, r(1, 2), r(-3, 4), r(-1, 4), nil},
		{"add overflow", Rational.Add, r(big, 1), r(1, 1), Rational{}, ErrRationalOverflow},
		{"add den overflow", Rational.Add, r(1, big), r(1, big-1), Rational{}, ErrRationalOverflow},
		{"add invalid", Rational.Add, r(1, 0), r(1, 1), Rational{}, ErrRationalInvalid},
		{"sub", Rational.Sub, r(3, 4), r(1, 4), r(1, 2), nil},
		{"sub to negative", Rational.Sub, r(1, 4), r(3, 4), r(-1, 2), nil},
		{"mul", Rational.Mul, r(2, 3), r(3, 4), r(1, 2), nil},
		{"mul cross-reduces", Rational.Mul, r(big, 2), r(2, big), r(1, 1), nil},
		{"mul overflow", Rational.Mul, r(big, 1), r(2, 1), Rational{}, ErrRationalOverflow},
		{"mul zero", Rational.Mul, Rational{}, r(big, 1), r(0, 1), nil},
	}
	for _, tt := range tests {
		got, err := tt.op(tt.a, tt.b)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s: %v op %v = %v, %v; want %v, %v", tt.name, tt.a, tt.b, got, err, tt.want, tt.err)
		}
	}
}

func TestRationalCmp(t *testing.T) {
	r := func(n, d int64) Rational { return Rational{n, d} }
	big := int64(math.MaxInt64)
	tests := []struct {
		a, b Rational
		want int
	}{
		{r(1, 2), r(2, 4), 0},
		{r(3, 5), r(2, 3), -1},
		{r(2, 3), r(3, 5), 1},
		{r(-1, 2), r(1, 3), -1},
		{r(-1, 2), r(-1, 3), -1},
		{Rational{}, r(0, 9), 0},
		// Cross products far beyond int64: still exact.
		{r(big, big-1), r(big-1, big-2), -1},
		{r(big-1, big), r(big-2, big-1), 1},
		{r(-big, 1), r(big, 1), -1},
		{r(5, 0), r(0, 1), 0}, // invalid compares as 0
	}
	for _, tt := range tests {
		if got := tt.a.Cmp(tt.b); got != tt.want {
			t.Errorf("%v.Cmp(%v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRationalString(t *testing.T) {
	for r, want := range map[Rational]string{{}: "0", {3, 1}: "3", {3, 5}: "3/5", {-1, 4}: "-1/4"} {
		if got := r.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", r, got, want)
		}
	}
}

// FuzzRationalCmp checks Cmp against Sub's sign wherever Sub does not
// overflow, and that Add and Sub undo each other.
func FuzzRationalCmp(f *testing.F) {
	f.Add(int64(1), int64(2), int64(2), int64(3))
	f.Add(int64(math.MaxInt64), int64(1), int64(-math.MaxInt64), int64(7))
	f.Fuzz(func(t *testing.T, a, b, c, d int64) {
		x, y := Rational{a, b}, Rational{c, d}
		if !x.Valid() || !y.Valid() {
			return
		}
		if diff, err := x.Sub(y); err == nil && diff.Sign() != x.Cmp(y) {
			t.Fatalf("%v - %v = %v but Cmp = %d", x, y, diff, x.Cmp(y))
		}
		if s, err := x.Add(y); err == nil {
			back, err := s.Sub(y)
			if err == nil && back.Cmp(x) != 0 {
				t.Fatalf("(%v + %v) - %v = %v", x, y, y, back)
			}
		}
	})
}
