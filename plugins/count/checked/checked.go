// Package checked is overflow-checked int64 arithmetic for the counting
// methods, which count exactly and refuse a figure that does not fit
// rather than round it.
package checked

import (
	"math"
	"math/bits"
)

// GCD returns the greatest common divisor of a and b (a, b ≥ 0).
func GCD(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Mul returns a·b for a, b ≥ 0 and whether it fits in int64.
func Mul(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// Add returns a+b for a, b ≥ 0 and whether it fits in int64.
func Add(a, b int64) (int64, bool) {
	if a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}
