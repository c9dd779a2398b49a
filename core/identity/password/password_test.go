package password

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// testPolicy is DefaultPolicy with a small blocklist, so that the tests
// of the other rules do not depend on the embedded list.
func testPolicy() Policy {
	p := DefaultPolicy()
	p.Blocklist = NewBlocklist([]string{"Correcthorsebattery", "tr0ub4dor&3xyz"})
	return p
}

type fakeBreach struct {
	breached bool
	err      error
	calls    int
}

func (f *fakeBreach) Breached(ctx context.Context, pw string) (bool, error) {
	f.calls++
	return f.breached, f.err
}

func TestCheck(t *testing.T) {
	ctxUser := Context{
		Email:      "Jane.Doe@example.org",
		TenantName: "Residenz am Stadtpark",
		TenantSlug: "stadtpark-west",
		UserName:   "Jane Doeberg",
	}
	tests := []struct {
		name string
		pw   string
		c    Context
		want Reason // 0: accepted
	}{
		{"ok passphrase", "mellow giraffe under rain", Context{}, 0},
		{"ok umlauts", "Grüße aus dem Büro 2026", Context{}, 0},
		{"ok emoji", "🦊🦊 correct horse battery", Context{}, 0},
		{"ok cjk", "東京の空は青くて広いです", Context{}, 0},
		{"ok exactly 12", "gr4v3l-m00n!", Context{}, 0},
		{"ok with identity context", "mellow giraffe under rain", ctxUser, 0},
		{"ok liberty not keyboard row", "liberty bell rings twice", Context{}, 0},
		{"too short", "short pw 7!", Context{}, TooShort},
		{"too short single factor", "mellow giraffe", Context{SingleFactor: true}, TooShort},
		{"ok single factor", "mellow giraffe now", Context{SingleFactor: true}, 0},
		{"too long", strings.Repeat("ab cd ", 22), Context{}, TooLong},
		{"invalid utf8", "mellow giraffe \xff rain", Context{}, InvalidUTF8},
		{"control tab", "mellow\tgiraffe under rain", Context{}, ControlCharacter},
		{"control newline", "mellow giraffe\nunder rain", Context{}, ControlCharacter},
		{"control nul", "mellow giraffe\x00under rain", Context{}, ControlCharacter},
		{"email", "x jane.doe@example.org x", ctxUser, ContainsIdentity},
		{"email local part", "my name is JANE.DOE ok", ctxUser, ContainsIdentity},
		{"email local part compacted", "janedoe rides bikes", ctxUser, ContainsIdentity},
		{"tenant name", "residenz am stadtpark!!", ctxUser, ContainsIdentity},
		{"tenant name fullwidth", "ＳＴＡＤＴＰＡＲＫ－ＷＥＳＴ rocks", ctxUser, ContainsIdentity},
		{"tenant slug", "Stadtpark-West rules", ctxUser, ContainsIdentity},
		{"user name", "doeberg family home", ctxUser, ContainsIdentity},
		{"same char 4 times", "mellow giraffe aaaa", Context{}, Repetitive},
		{"repeated unit", "abcabcabcabc", Context{}, Repetitive},
		{"repeated unit with space", "dog cat dog cat ", Context{}, Repetitive},
		{"ascending digits", "my giraffe 1234 x", Context{}, Sequential},
		{"ascending letters", "mellow abcd giraffe", Context{}, Sequential},
		{"descending letters", "mellow DCBA giraffe", Context{}, Sequential},
		{"descending digits", "mellow giraffe 9876", Context{}, Sequential},
		{"keyboard qwerty", "qwerty giraffe mellow", Context{}, Sequential},
		{"keyboard asdf", "giraffe asdf mellow", Context{}, Sequential},
		{"keyboard mid row", "giraffe wertyu mellow", Context{}, Sequential},
		{"blocklist", "correcthorsebattery", Context{}, Common},
		{"blocklist case", "TR0UB4DOR&3XYZ", Context{}, Common},
		{"breached", "mellow giraffe under rain", Context{Breached: &fakeBreach{breached: true}}, Breached},
		{"not breached", "mellow giraffe under rain", Context{Breached: &fakeBreach{}}, 0},
	}
	p := testPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(context.Background(), tt.pw, tt.c)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.pw, err)
				}
				return
			}
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("Check(%q) = %v, want a *Violation with reason %v", tt.pw, err, tt.want)
			}
			if v.Reason != tt.want {
				t.Errorf("Check(%q) reason = %v (%q), want %v", tt.pw, v.Reason, v.Message, tt.want)
			}
			if !errors.Is(err, ErrWeak) {
				t.Errorf("errors.Is(%v, ErrWeak) = false", err)
			}
			if v.Message == "" || strings.Contains(v.Message, tt.pw) {
				t.Errorf("Message %q is empty or contains the password", v.Message)
			}
		})
	}
}

func TestCheckEmbeddedBlocklist(t *testing.T) {
	p := DefaultPolicy()
	for _, pw := range []string{"Password1234!", "qwertyuiop12", "iloveyou2024", "P@ssw0rd2024!", "Homeowners2023", "plenumplenum", "Sunshine1987!!", "condominium123"} {
		err := p.Check(context.Background(), pw, Context{})
		var v *Violation
		if !errors.As(err, &v) {
			t.Errorf("Check(%q) = %v, want a violation", pw, err)
			continue
		}
		// Some of these break an earlier rule too (qwerty, 1234, doubled).
		if v.Reason != Common && v.Reason != Sequential && v.Reason != Repetitive {
			t.Errorf("Check(%q) reason = %v, want common", pw, v.Reason)
		}
	}
	// Entries that break no other rule must be reported as common.
	for _, pw := range []string{"iloveyou2024", "Homeowners2023", "Sunshine1987!!", "Welcome2026!", "f00tb4ll1999"} {
		err := p.Check(context.Background(), pw, Context{})
		var v *Violation
		if !errors.As(err, &v) || v.Reason != Common {
			t.Errorf("Check(%q) = %v, want reason common", pw, err)
		}
	}
}

func TestCheckNormalisation(t *testing.T) {
	nfc := "Grüße aus dem Bü"   // 16 code points, precomposed
	nfd := norm.NFD.String(nfc) // 18 code points, decomposed
	if utf8.RuneCountInString(nfd) == utf8.RuneCountInString(nfc) {
		t.Fatal("test strings do not differ in code points")
	}
	p := testPolicy()
	p.MinLength = 16
	for _, pw := range []string{nfc, nfd} {
		if err := p.Check(context.Background(), pw, Context{}); err != nil {
			t.Errorf("Check(%+q) = %v, want nil", pw, err)
		}
	}
	p.MinLength = 17
	for _, pw := range []string{nfc, nfd} {
		var v *Violation
		if err := p.Check(context.Background(), pw, Context{}); !errors.As(err, &v) || v.Reason != TooShort {
			t.Errorf("Check(%+q) with MinLength 17 = %v, want too short", pw, err)
		}
	}
}

func TestCheckBreachError(t *testing.T) {
	p := testPolicy()
	boom := errors.New("boom")
	err := p.Check(context.Background(), "mellow giraffe under rain", Context{Breached: &fakeBreach{err: boom}})
	if !errors.Is(err, boom) || errors.Is(err, ErrWeak) {
		t.Fatalf("Check = %v, want the wrapped checker error", err)
	}
	// A weak password is rejected without asking the checker.
	f := &fakeBreach{breached: true}
	_ = p.Check(context.Background(), "short", Context{Breached: f})
	if f.calls != 0 {
		t.Errorf("checker called %d times for a short password", f.calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Check(ctx, "mellow giraffe under rain", Context{Breached: &fakeBreach{}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with cancelled context = %v, want context.Canceled", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"default", DefaultPolicy(), true},
		{"zero means defaults", Policy{}, true},
		{"min 8", Policy{MinLength: 8}, true},
		{"min 7", Policy{MinLength: 7}, false},
		{"single factor 14", Policy{MinLengthSingleFactor: 14}, false},
		{"single factor below min", Policy{MinLength: 20, MinLengthSingleFactor: 16}, false},
		{"max 63", Policy{MaxLength: 63}, false},
		{"max 1024", Policy{MaxLength: 1024}, true},
		{"max 1025", Policy{MaxLength: 1025}, false},
		{"min above max", Policy{MinLength: 100, MinLengthSingleFactor: 100, MaxLength: 80}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	for r := TooShort; r <= Breached; r++ {
		if s := r.String(); s == "" || s == "unknown" {
			t.Errorf("Reason(%d).String() = %q", r, s)
		}
	}
	if s := Reason(0).String(); s != "unknown" {
		t.Errorf("Reason(0).String() = %q, want unknown", s)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "Password1234!", "Grüße aus dem Büro 2026", "🦊🦊 correct horse battery", "\xff\xfe", "abcabcabcabc", "qwertyuiop12"} {
		f.Add(s, "jane@example.org", "Stadtpark", false)
	}
	p := DefaultPolicy()
	f.Fuzz(func(t *testing.T, pw, email, tenant string, single bool) {
		err := p.Check(context.Background(), pw, Context{Email: email, TenantName: tenant, TenantSlug: tenant, UserName: tenant, SingleFactor: single})
		if err != nil && !errors.Is(err, ErrWeak) {
			t.Fatalf("Check(%q) = %v, not a violation", pw, err)
		}
		if err == nil && !utf8.ValidString(pw) {
			t.Fatalf("Check accepted invalid UTF-8 %q", pw)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	p := DefaultPolicy()
	c := Context{Email: "jane.doe@example.org", TenantName: "Residenz am Stadtpark", TenantSlug: "stadtpark", UserName: "Jane Doe"}
	ctx := context.Background()
	if err := p.Check(ctx, "mellow giraffe under rain", c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Check(ctx, "mellow giraffe under rain", c); err != nil {
			b.Fatal(err)
		}
	}
}
