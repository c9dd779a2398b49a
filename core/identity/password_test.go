package identity

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
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
	h := NewPasswordHasher(OWASPParams())
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	p, salt, key, err := parsePHC(enc)
	if err != nil {
		t.Fatal(err)
	}
	if p != (ArgonParams{Memory: 19456, Time: 2, Threads: 1}) || len(salt) != 16 || len(key) != 32 ||
		!strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("default encoding %q", enc)
	}
	if ok, rehash, err := h.Verify(enc, "correct horse battery staple"); !ok || rehash || err != nil {
		t.Fatalf("Verify = %v %v %v", ok, rehash, err)
	}
}

// TestVerifyReadsParameters builds a hash by hand with parameters the
// hasher does not use: Verify must take them from the string.
func TestVerifyReadsParameters(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("pässwörd"), salt, 3, 256, 2, 32)
	b64 := base64.RawStdEncoding.EncodeToString
	enc := "$argon2id$v=19$m=256,t=3,p=2$" + b64(salt) + "$" + b64(key)
	if ok, _, err := NewPasswordHasher(fast).Verify(enc, "pässwörd"); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if ok, _, _ := NewPasswordHasher(fast).Verify(enc, "passwörd"); ok {
		t.Fatal("wrong password accepted")
	}
	// A key of another length is compared at its own length.
	key16 := argon2.IDKey([]byte("pässwörd"), salt, 1, 64, 1, 16)
	enc16 := "$argon2id$v=19$m=64,t=1,p=1$" + b64(salt) + "$" + b64(key16)
	ok, rehash, err := NewPasswordHasher(fast).Verify(enc16, "pässwörd")
	if !ok || !rehash || err != nil {
		t.Fatalf("16-byte key: ok=%v rehash=%v err=%v; want ok and rehash", ok, rehash, err)
	}
}

func TestNeedsRehash(t *testing.T) {
	current := ArgonParams{Memory: 128, Time: 2, Threads: 2}
	h := NewPasswordHasher(current)
	for _, c := range []struct {
		stored ArgonParams
		want   bool
	}{
		{current, false},
		{ArgonParams{Memory: 256, Time: 3, Threads: 4}, false},
		{ArgonParams{Memory: 64, Time: 2, Threads: 2}, true},
		{ArgonParams{Memory: 128, Time: 1, Threads: 2}, true},
		{ArgonParams{Memory: 128, Time: 2, Threads: 1}, true},
		{ArgonParams{Memory: 1024, Time: 1, Threads: 4}, true},
	} {
		enc, err := NewPasswordHasher(c.stored).Hash("password")
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := h.Verify(enc, "password")
		if !ok || err != nil || rehash != c.want {
			t.Errorf("stored %+v: ok=%v rehash=%v err=%v; want rehash=%v", c.stored, ok, rehash, err, c.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewPasswordHasher(fast)
	const tail = "$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw"
	for _, enc := range []string{
		"", "plain", "$", "$$$$$",
		"$argon2i$v=19$m=64,t=1,p=1" + tail,
		"$argon2d$v=19$m=64,t=1,p=1" + tail,
		"$argon2id$v=18$m=64,t=1,p=1" + tail,
		"$argon2id$m=64,t=1,p=1" + tail,
		"argon2id$v=19$m=64,t=1,p=1" + tail,
		"$argon2id$v=19$m=64,t=1,p=1" + tail + "$",
		"$argon2id$v=19$m=2097152,t=1,p=1" + tail, // 2 GiB
		"$argon2id$v=19$m=99999999999,t=1,p=1" + tail,
		"$argon2id$v=19$m=64,t=11,p=1" + tail,
		"$argon2id$v=19$m=64,t=0,p=1" + tail,
		"$argon2id$v=19$m=64,t=1,p=0" + tail,
		"$argon2id$v=19$m=1024,t=1,p=17" + tail,
		"$argon2id$v=19$m=64,t=1,p=256" + tail,
		"$argon2id$v=19$m=4,t=1,p=1" + tail,
		"$argon2id$v=19$m=64,t=1,p=9" + tail, // m < 8p
		"$argon2id$v=19$m=-64,t=1,p=1" + tail,
		"$argon2id$v=19$m=+64,t=1,p=1" + tail,
		"$argon2id$v=19$m=64,t=1" + tail,
		"$argon2id$v=19$m=64,t=1,p=1,x=1" + tail,
		"$argon2id$v=19$t=1,m=64,p=1" + tail,
		"$argon2id$v=19$m=64,m=64,t=1" + tail,
		"$argon2id$v=19$m=,t=1,p=1" + tail,
		"$argon2id$v=19$m=64;t=1;p=1" + tail,
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5aw", // padded
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5aw",       // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5",               // 6-byte key
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5ax", // non-zero trailing bits
	} {
		ok, rehash, err := h.Verify(enc, "x")
		if !errors.Is(err, ErrMalformedHash) || ok || rehash {
			t.Errorf("Verify(%q) = %v %v %v, want ErrMalformedHash", enc, ok, rehash, err)
		}
	}
}

// FuzzVerify feeds arbitrary encodings to Verify: it must never panic nor
// accept a password with an error, and whatever it accepts must be within
// the bounds. Its seed corpus is in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	h := NewPasswordHasher(fast)
	good, _ := h.Hash("seed password")
	f.Add(good, "seed password")
	f.Add(good, "wrong password")
	f.Fuzz(func(t *testing.T, enc, pw string) {
		p, _, _, perr := parsePHC(enc)
		if perr == nil && (p.Memory > maxMemory || p.Time > maxTime || p.Threads > maxThreads) {
			t.Fatalf("parsed out-of-bounds parameters %+v", p)
		}
		if perr == nil && (p.Memory > 4096 || p.Time > 3) {
			return // valid but costly: parsing is what is fuzzed here
		}
		ok, rehash, err := h.Verify(enc, pw)
		if (err != nil) != (perr != nil) {
			t.Fatalf("Verify error %v, parse error %v", err, perr)
		}
		if err != nil && (ok || rehash) {
			t.Fatal("ok or rehash with an error")
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
