// Command genblocklist builds the list of common passwords that package
// password embeds.
//
// The list is built, not downloaded: the base words and the mutation
// rules are written below. Every base word is combined with leetspeak
// spellings (a→4/@, e→3, i→1, o→0, s→5/$, one choice per letter class),
// an optional suffix (a year from 1950 to 2030 or one of the digit runs
// 1, 12, 123, 1234, 12345, 123456) and an optional "!" or "!!". Every base
// word is also doubled ("passwordpassword"). Entries are lower-cased, kept
// only when they are between 8 and 64 code points long, sorted,
// de-duplicated and written one a line, gzip-compressed.
//
// Usage:
//
//	go run ./internal/genblocklist -o blocklist.txt.gz
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	minLen = 8
	maxLen = 64
)

// common holds well-known most-common passwords and words.
var common = []string{
	"password", "passwort", "motdepasse", "contraseña", "passw0rd", "pass", "secret",
	"qwerty", "qwertz", "azerty", "qwertyuiop", "qwertzuiop", "azertyuiop",
	"asdf", "asdfgh", "asdfghjkl", "zxcvbnm", "yxcvbnm", "1q2w3e4r", "1q2w3e4r5t",
	"1qaz2wsx", "qazwsx", "zaq12wsx", "q1w2e3r4", "abc123", "abcdef", "abcd1234",
	"123456789", "1234567890", "0987654321", "987654321", "11111111", "00000000",
	"12341234", "123123123", "112233", "121212", "654321", "666666", "696969",
	"iloveyou", "iloveu", "letmein", "welcome", "willkommen", "bienvenue",
	"admin", "administrator", "root", "master", "login", "user", "guest", "test",
	"dragon", "monkey", "football", "baseball", "basketball", "soccer", "hockey",
	"sunshine", "princess", "shadow", "superman", "batman", "spiderman", "starwars",
	"pokemon", "trustno1", "whatever", "freedom", "hello", "hallo", "bonjour",
	"charlie", "michael", "jennifer", "jessica", "ashley", "daniel", "thomas",
	"robert", "jordan", "hunter", "ranger", "buster", "tigger", "summer", "ginger",
	"pepper", "cookie", "cheese", "butter", "coffee", "chocolate", "computer",
	"internet", "samsung", "google", "apple", "microsoft", "facebook", "linkedin",
	"mustang", "ferrari", "porsche", "harley", "killer", "lovely", "loveme",
	"flower", "angel", "family", "forever", "friends", "purple", "orange", "yellow",
	"silver", "golden", "diamond", "matrix", "thunder", "phoenix", "liverpool",
	"chelsea", "arsenal", "barcelona", "madrid", "berlin", "paris", "london",
	"schalke", "bayern", "borussia", "hamburg", "zürich", "wien", "geheim",
	"schatz", "hallo123", "changeme", "default", "nothing", "access", "security",
	"letmein1", "passpass", "blahblah", "asdfasdf", "qwerqwer", "zaq1xsw2",
	"snoopy", "garfield", "mickey", "minnie", "bubbles", "sparky", "lucky",
	"winner", "zombie", "ninja", "pirate", "wizard", "merlin", "gandalf",
	"jesus", "christ", "heaven", "angels", "blessed", "faith", "soleil", "amour",
	"liebe", "sonne", "mondschein", "fussball", "hundehund", "katze", "maus",
}

// months holds month names in English, German and French.
var months = []string{
	"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december",
	"januar", "februar", "märz", "maerz", "mai", "juni", "juli", "oktober", "dezember",
	"janvier", "février", "fevrier", "mars", "avril", "juin", "juillet", "août",
	"aout", "septembre", "octobre", "novembre", "décembre", "decembre",
}

// seasons holds season names in English, German and French.
var seasons = []string{
	"spring", "summer", "autumn", "fall", "winter",
	"frühling", "fruehling", "sommer", "herbst",
	"printemps", "été", "automne", "hiver",
}

// domain holds words of the associations' domain.
var domain = []string{
	"condo", "condominium", "association", "homeowners", "homeowner", "hoa",
	"cooperative", "coop", "member", "members", "membership", "board",
	"boardmember", "vote", "voting", "ballot", "election", "plenum", "assembly",
	"meeting", "general", "chairman", "chairwoman", "president", "treasurer",
	"secretary", "committee", "council", "tenant", "tenants", "landlord",
	"owner", "owners", "property", "building", "apartment", "residence",
	"community", "neighbour", "neighbor", "verein", "verband", "mitglied",
	"vorstand", "abstimmung", "wahl", "versammlung", "genossenschaft",
	"eigentümer", "eigentuemer", "hausverwaltung", "copropriété", "copropriete",
	"syndic", "assemblée", "assemblee", "membre", "conseil", "vote2024",
}

// suffixes returns the strings appended to every variant.
func suffixes() []string {
	out := []string{"", "1", "12", "123", "1234", "12345", "123456"}
	for y := 1950; y <= 2030; y++ {
		out = append(out, strconv.Itoa(y))
	}
	return out
}

// leetClasses lists the letters that leetspeak replaces and their
// replacements.
var leetClasses = []struct {
	from rune
	to   []rune
}{
	{'a', []rune{'4', '@'}},
	{'e', []rune{'3'}},
	{'i', []rune{'1'}},
	{'o', []rune{'0'}},
	{'s', []rune{'5', '$'}},
}

// leet returns w and its leetspeak spellings: for each letter class
// present in w, either keep the letter or replace every occurrence by one
// of its replacements.
func leet(w string) []string {
	out := []string{w}
	for _, c := range leetClasses {
		if !strings.ContainsRune(w, c.from) {
			continue
		}
		n := len(out)
		for i := 0; i < n; i++ {
			for _, r := range c.to {
				out = append(out, strings.ReplaceAll(out[i], string(c.from), string(r)))
			}
		}
	}
	return out
}

func build() []string {
	seen := map[string]struct{}{}
	add := func(s string) {
		s = strings.ToLower(s)
		if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
			return
		}
		seen[s] = struct{}{}
	}
	sfx := suffixes()
	var bases []string
	for _, list := range [][]string{common, months, seasons, domain} {
		bases = append(bases, list...)
	}
	for _, b := range bases {
		b = strings.ToLower(b)
		add(b + b)
		add(b + b + "1")
		for _, v := range leet(b) {
			for _, s := range sfx {
				for _, tail := range []string{"", "!", "!!"} {
					add(v + s + tail)
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func run(path string) error {
	words := build()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("genblocklist: %w", err)
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return fmt.Errorf("genblocklist: %w", err)
	}
	bw := bufio.NewWriter(zw)
	for _, w := range words {
		bw.WriteString(w)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("genblocklist: write %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("genblocklist: compress %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("genblocklist: close %s: %w", path, err)
	}
	fmt.Fprintf(os.Stderr, "genblocklist: %d entries written to %s\n", len(words), path)
	return nil
}

func main() {
	out := flag.String("o", "blocklist.txt.gz", "output file")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
