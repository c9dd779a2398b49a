package password

import (
	"sync"
	"testing"
)

func TestLoadBlocklist(t *testing.T) {
	b, err := LoadBlocklist()
	if err != nil {
		t.Fatal(err)
	}
	n, err := b.Len()
	if err != nil {
		t.Fatal(err)
	}
	if n < 100_000 {
		t.Errorf("embedded blocklist has %d entries, want at least 100000", n)
	}
	if len(blocklistGz) > 3<<20 {
		t.Errorf("embedded blocklist is %d bytes compressed, want below 3 MiB", len(blocklistGz))
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"password1234!", true},
		{"Password1234!", true},
		{"PASSWORD", true},
		{"p@ssw0rd", true},
		{"p4ssw0rd2024", true},
		{"qwertyuiop12", true},
		{"iloveyou2024", true},
		{"letmein!", true},
		{"passwordpassword", true},
		{"homeowners1999", true},
		{"cooperative!!", true},
		{"plenum2026", true},
		{"december1950", true},
		{"frühling2024", true},
		{"winter12", true},
		{"pass", false},         // shorter than 8: not listed
		{"iloveyou2049", false}, // year out of range
		{"mellow giraffe under rain", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := b.Contains(tt.pw)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Contains(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}

func TestNewBlocklist(t *testing.T) {
	b := NewBlocklist([]string{"Zebra", "apple", "", "APPLE", "mango"})
	if n, _ := b.Len(); n != 3 {
		t.Errorf("Len() = %d, want 3", n)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"apple", true}, {"ZEBRA", true}, {"mango", true}, {"", false}, {"appl", false}, {"apples", false},
	}
	for _, tt := range tests {
		if got, _ := b.Contains(tt.pw); got != tt.want {
			t.Errorf("Contains(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
	empty := NewBlocklist(nil)
	if got, err := empty.Contains("x"); got || err != nil {
		t.Errorf("empty Contains = %v, %v", got, err)
	}
}

func TestBlocklistConcurrentLoad(t *testing.T) {
	b := embeddedBlocklist()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if ok, err := b.Contains("iloveyou2024"); !ok || err != nil {
				t.Errorf("Contains = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
}

func BenchmarkBlocklistContains(b *testing.B) {
	bl, err := LoadBlocklist()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		bl.Contains("Mellow giraffe under rain")
	}
}

func BenchmarkLoadBlocklist(b *testing.B) {
	for b.Loop() {
		if _, err := LoadBlocklist(); err != nil {
			b.Fatal(err)
		}
	}
}
