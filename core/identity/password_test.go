package identity

import (
	"errors"
	"strings"
	"testing"
)

var fast = ArgonParams{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h := NewPasswordHasher(fast)
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
	ok, rehash, err := h.Verify(enc, "correct horse battery staple")
	if !ok || rehash || err != nil {
		t.Fatalf("Verify right password = %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(enc, "correct horse battery stapl"); ok {
		t.Fatal("wrong password accepted")
	}
	stronger := NewPasswordHasher(ArgonParams{Memory: 128, Time: 2, Threads: 1})
	if ok, rehash, _ := stronger.Verify(enc, "correct horse battery staple"); !ok || !rehash {
		t.Fatalf("weaker stored parameters: ok=%v rehash=%v, want both", ok, rehash)
	}
	if enc2, _ := h.Hash("correct horse battery staple"); enc2 == enc {
		t.Fatal("same salt twice")
	}
}

func TestDefaultsAreOWASP(t *testing.T) {
	enc, err := NewPasswordHasher(OWASPParams()).Hash("x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(enc, "$m=19456,t=2,p=1$") {
		t.Fatalf("default parameters in %q", enc)
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewPasswordHasher(fast)
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=99,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
	} {
		if _, _, err := h.Verify(enc, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, want ErrMalformedHash", enc, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	h := NewPasswordHasher(fast)
	good, _ := h.Hash("seed password")
	f.Add(good, "seed password")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$", "")
	f.Add("$$$$$", "x")
	f.Fuzz(func(t *testing.T, enc, pw string) {
		ok, _, err := h.Verify(enc, pw)
		if err != nil && ok {
			t.Fatal("ok with error")
		}
	})
}

func TestOperatorPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{strings.Repeat("a", 14), false},
		{strings.Repeat("a", 15), true},
		{"ünïcödé pässwörd ✓", true},
		{strings.Repeat("x", 129), false},
		{"\xff\xfe invalid utf-8 bytes here", false},
	} {
		if err := CheckOperatorPassword(tc.pw); (err == nil) != tc.ok {
			t.Errorf("CheckOperatorPassword(%q) = %v", tc.pw, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		p, err := GeneratePassword()
		if err != nil || len(p) != 24 || CheckOperatorPassword(p) != nil || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("GeneratePassword = %q, %v", p, err)
		}
		if seen[p] {
			t.Fatal("repeated password")
		}
		seen[p] = true
	}
}

func BenchmarkPasswordVerify(b *testing.B) {
	h := NewPasswordHasher(OWASPParams())
	enc, _ := h.Hash("correct horse battery staple")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, _, _ := h.Verify(enc, "correct horse battery staple"); !ok {
			b.Fatal("no match")
		}
	}
}
