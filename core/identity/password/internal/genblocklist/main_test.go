package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLeet(t *testing.T) {
	tests := []struct {
		word string
		want []string // must all be present
		n    int
	}{
		{"xyz", []string{"xyz"}, 1},
		{"pass", []string{"pass", "p4ss", "p@ss", "pa55", "pa$$", "p455", "p@$$"}, 9},
		{"iloveyou", []string{"iloveyou", "1loveyou", "il0vey0u", "1l0v3y0u"}, 8},
	}
	for _, tt := range tests {
		got := leet(tt.word)
		if len(got) != tt.n {
			t.Errorf("leet(%q) has %d variants %q, want %d", tt.word, len(got), got, tt.n)
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("leet(%q) lacks %q", tt.word, w)
			}
		}
	}
}

func TestBuild(t *testing.T) {
	words := build()
	if !slices.IsSorted(words) {
		t.Error("not sorted")
	}
	if len(slices.Compact(slices.Clone(words))) != len(words) {
		t.Error("duplicates")
	}
	for _, w := range words {
		if n := utf8.RuneCountInString(w); n < minLen || n > maxLen || w != strings.ToLower(w) || strings.ContainsAny(w, "\r\n") {
			t.Fatalf("bad entry %q", w)
		}
	}
	for _, w := range []string{"password1234!", "qwertyuiop12", "iloveyou2024", "passwordpassword", "plenum2026!!", "h0m30wn3r5"} {
		if _, ok := slices.BinarySearch(words, w); !ok {
			t.Errorf("%q missing", w)
		}
	}

	// The committed list must be what the generator builds now; run go
	// generate in core/identity/password when this fails.
	f, err := os.Open(filepath.Join("..", "..", "blocklist.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, w := range words {
		want.WriteString(w)
		want.WriteByte('\n')
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("blocklist.txt.gz is out of date: run go generate ./core/identity/password")
	}
}
