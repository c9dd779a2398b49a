package checked

import (
	"math"
	"testing"
)

func TestChecked(t *testing.T) {
	if GCD(12, 18) != 6 || GCD(7, 0) != 7 {
		t.Error("GCD")
	}
	for _, c := range []struct {
		a, b int64
		mul  bool
		add  bool
	}{
		{3, 4, true, true},
		{math.MaxInt64, 1, true, false},
		{math.MaxInt64 / 2, 3, false, true},
		{1 << 32, 1 << 31, false, true},
		{1 << 31, 1 << 31, true, true},
	} {
		if _, ok := Mul(c.a, c.b); ok != c.mul {
			t.Errorf("Mul(%d, %d) fits = %v", c.a, c.b, ok)
		}
		if _, ok := Add(c.a, c.b); ok != c.add {
			t.Errorf("Add(%d, %d) fits = %v", c.a, c.b, ok)
		}
	}
}
