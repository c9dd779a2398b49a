package plurality

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Lots orders tied options by a drawing of lots from seed and returns
// their ids in the order drawn with a sentence that records the draw.
// Whoever holds the seed can repeat it: with each string preceded by its
// length as 8 bytes big-endian, P = SHA-256(seed, the tied ids in sorted
// order), each id's key is SHA-256(P, id), and the ids are taken by
// ascending key. The order of the ids given does not matter, and a
// different tie draws afresh. Approval and Condorcet counts draw the same
// way.
func Lots(seed string, ids []string) ([]string, string) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(seed)
	for _, id := range sorted {
		field(id)
	}
	prefix := h.Sum(nil)
	type draw struct {
		id  string
		key [sha256.Size]byte
	}
	draws := make([]draw, len(sorted))
	for i, id := range sorted {
		h.Reset()
		h.Write(prefix)
		field(id)
		draws[i].id = id
		h.Sum(draws[i].key[:0])
	}
	slices.SortStableFunc(draws, func(a, b draw) int { return strings.Compare(string(a.key[:]), string(b.key[:])) })
	order := make([]string, len(draws))
	keys := make([]string, len(draws))
	for i, d := range draws {
		order[i] = d.id
		keys[i] = d.id + " " + hex.EncodeToString(d.key[:6])
	}
	return order, fmt.Sprintf("lots drawn with seed %q: SHA-256(seed, tied ids %s, id) orders them %s",
		seed, strings.Join(sorted, ", "), strings.Join(keys, ", "))
}
