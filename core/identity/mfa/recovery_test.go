package mfa

import (
	"strings"
	"testing"
)

func TestNormaliseRecoveryCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"k7pq-3mzx-9tfa", "k7pq3mzx9tfa", true},
		{"K7PQ-3MZX-9TFA", "k7pq3mzx9tfa", true},
		{" k7pq 3mzx 9tfa\n", "k7pq3mzx9tfa", true},
		{"k7pq3mzx9tfa", "k7pq3mzx9tfa", true},
		{"--k7pq--3mzx--9tfa--", "k7pq3mzx9tfa", true},
		{"oo11-IiLl-0000", "001111110000", true}, // look-alikes
		{"k7pq-3mzx-9tf", "", false},             // too short
		{"k7pq-3mzx-9tfaa", "", false},           // too long
		{"k7pq-3mzx-9tfu", "", false},            // u is not in the alphabet
		{"k7pq-3mzx-9tf!", "", false},
		{"k7pq-3mzx-9tfé", "", false},
		{"", "", false},
		{strings.Repeat("-", 100) + "k7pq3mzx9tfa", "", false},
	}
	for _, tt := range tests {
		got, ok := normaliseRecoveryCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normaliseRecoveryCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewRecoveryCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := newRecoveryCode()
		if err != nil {
			t.Fatal(err)
		}
		n, ok := normaliseRecoveryCode(c)
		if !ok || len(c) != 14 || strings.ReplaceAll(c, "-", "") != n {
			t.Fatalf("newRecoveryCode() = %q does not normalise to itself (%q, %v)", c, n, ok)
		}
		if seen[n] {
			t.Fatalf("newRecoveryCode() repeated %q", c)
		}
		seen[n] = true
	}
}

func TestRecoveryHashContext(t *testing.T) {
	h := recoveryHash("t1", "u1", "k7pq3mzx9tfa")
	for _, other := range []string{
		recoveryHash("t2", "u1", "k7pq3mzx9tfa"),
		recoveryHash("t1", "u2", "k7pq3mzx9tfa"),
		recoveryHash("t1/u", "1", "k7pq3mzx9tfa"),
		recoveryHash("t1", "u1", "k7pq3mzx9tfb"),
	} {
		if other == h {
			t.Errorf("recovery digests collide across context")
		}
	}
	if len(h) != 64 {
		t.Errorf("digest %q is not hex SHA-256", h)
	}
}

func TestNewDigits(t *testing.T) {
	for _, n := range []int{6, 7, 8} {
		for range 50 {
			d, err := newDigits(n)
			if err != nil {
				t.Fatal(err)
			}
			if len(d) != n || strings.Trim(d, "0123456789") != "" {
				t.Fatalf("newDigits(%d) = %q", n, d)
			}
		}
	}
}

func TestValidPurpose(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"signin", true},
		{"email.change", true},
		{"mfa_reset-2", true},
		{"", false},
		{"Sign", false},
		{"a b", false},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		if got := validPurpose(tt.in); got != tt.ok {
			t.Errorf("validPurpose(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

// FuzzNormaliseRecoveryCode checks that normalising never panics, that an
// accepted code has the canonical shape, and that normalising is
// idempotent and ignores case, dashes and spaces.
func FuzzNormaliseRecoveryCode(f *testing.F) {
	f.Add("k7pq-3mzx-9tfa")
	f.Add("K7PQ 3MZX 9TFA")
	f.Add("oo11-IiLl-0000")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		n, ok := normaliseRecoveryCode(in)
		if !ok {
			if n != "" {
				t.Fatalf("rejected %q but returned %q", in, n)
			}
			return
		}
		if len(n) != recoveryLen {
			t.Fatalf("normalised %q to %q of length %d", in, n, len(n))
		}
		for _, r := range n {
			if !strings.ContainsRune(recoveryAlphabet, r) {
				t.Fatalf("normalised %q to %q with %q outside the alphabet", in, n, r)
			}
		}
		if again, ok := normaliseRecoveryCode(n); !ok || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, n, again, ok)
		}
		shown := strings.ToUpper(n[:4] + "-" + n[4:8] + " " + n[8:])
		if again, ok := normaliseRecoveryCode(shown); !ok || again != n {
			t.Fatalf("formatted %q normalises to %q, %v; want %q", shown, again, ok, n)
		}
	})
}
