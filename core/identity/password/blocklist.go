package password

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

//go:embed blocklist.txt.gz
var blocklistGz []byte

// Blocklist is a sorted list of common passwords, looked up
// case-insensitively by binary search. A Blocklist is safe for concurrent
// use.
type Blocklist struct {
	once sync.Once
	load func() (string, error) // nil when data is set
	err  error
	data string   // entries, each followed by '\n'
	offs []uint32 // start of each entry in data
}

// LoadBlocklist decompresses the embedded blocklist described in the
// package documentation. It takes some tens of milliseconds; load it once
// and share it.
func LoadBlocklist() (*Blocklist, error) {
	b := embeddedBlocklist()
	if err := b.init(); err != nil {
		return nil, err
	}
	return b, nil
}

// embeddedBlocklist returns a Blocklist that decompresses the embedded
// list on first use.
func embeddedBlocklist() *Blocklist {
	return &Blocklist{load: decompressEmbedded}
}

func decompressEmbedded() (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blocklistGz))
	if err != nil {
		return "", fmt.Errorf("password: open embedded blocklist: %w", err)
	}
	var sb strings.Builder
	sb.Grow(9 << 20)
	if _, err := io.Copy(&sb, zr); err != nil {
		return "", fmt.Errorf("password: decompress embedded blocklist: %w", err)
	}
	if err := zr.Close(); err != nil {
		return "", fmt.Errorf("password: decompress embedded blocklist: %w", err)
	}
	return sb.String(), nil
}

// NewBlocklist returns a Blocklist holding words, lower-cased, sorted and
// de-duplicated; empty words are dropped. Use it for a list of one's own
// or in tests.
func NewBlocklist(words []string) *Blocklist {
	ws := make([]string, 0, len(words))
	for _, w := range words {
		if w = strings.ToLower(w); w != "" && !strings.Contains(w, "\n") {
			ws = append(ws, w)
		}
	}
	slices.Sort(ws)
	ws = slices.Compact(ws)
	var sb strings.Builder
	for _, w := range ws {
		sb.WriteString(w)
		sb.WriteByte('\n')
	}
	data := sb.String()
	return &Blocklist{load: func() (string, error) { return data, nil }}
}

// init loads the list once and builds the offset table.
func (b *Blocklist) init() error {
	b.once.Do(func() {
		if b.load == nil {
			return
		}
		data, err := b.load()
		if err != nil {
			b.err = err
			return
		}
		if len(data) > 1<<32-1 {
			b.err = fmt.Errorf("password: blocklist of %d bytes is too large", len(data))
			return
		}
		offs := make([]uint32, 0, strings.Count(data, "\n")+1)
		for start := 0; start < len(data); {
			i := strings.IndexByte(data[start:], '\n')
			if i < 0 {
				// No final newline: add one so every entry ends in '\n'.
				data += "\n"
				i = len(data) - 1 - start
			}
			if i > 0 {
				offs = append(offs, uint32(start))
			}
			start += i + 1
		}
		b.data, b.offs = data, offs
		if !slices.IsSortedFunc(offs, func(x, y uint32) int { return strings.Compare(b.entry(int(x)), b.entry(int(y))) }) {
			b.err = fmt.Errorf("password: blocklist is not sorted")
		}
	})
	return b.err
}

// entry returns the entry that starts at byte off.
func (b *Blocklist) entry(off int) string {
	s := b.data[off:]
	return s[:strings.IndexByte(s, '\n')]
}

// Len returns the number of entries, loading the list if need be.
func (b *Blocklist) Len() (int, error) {
	if err := b.init(); err != nil {
		return 0, err
	}
	return len(b.offs), nil
}

// Contains reports whether pw, lower-cased, is on the list. It loads the
// list on first use and returns an error only when that fails.
func (b *Blocklist) Contains(pw string) (bool, error) {
	if err := b.init(); err != nil {
		return false, err
	}
	pw = strings.ToLower(pw)
	_, found := slices.BinarySearchFunc(b.offs, pw, func(off uint32, target string) int {
		return strings.Compare(b.entry(int(off)), target)
	})
	return found, nil
}
