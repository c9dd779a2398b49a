package audit_test

import (
	"testing"

	"github.com/plenum-vote/plenum/core/audit"
)

// FuzzChainVerify flips one byte of one field of a valid chain, or swaps or
// drops events: the verifier must never panic and must always report the
// change.
func FuzzChainVerify(f *testing.F) {
	f.Add(uint16(3), uint8(0), uint8(0), uint8(1))
	f.Add(uint16(0), uint8(5), uint8(3), uint8(0x80))
	f.Add(uint16(9), uint8(7), uint8(0), uint8(0))
	f.Add(uint16(4), uint8(8), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, idx uint16, field, pos, flip uint8) {
		recs := chainOf(10)
		i := int(idx) % len(recs)
		r := &recs[i]
		mutate := func(s string) string {
			b := []byte(s)
			if len(b) == 0 {
				return "x"
			}
			b[int(pos)%len(b)] ^= flip | 1
			return string(b)
		}
		switch field % 9 {
		case 0:
			r.Action = mutate(r.Action)
		case 1:
			r.Actor = mutate(r.Actor)
		case 2:
			r.Details = mutate(r.Details)
		case 3:
			r.Seq += int64(flip) + 1
		case 4:
			r.At = r.At.Add(1000)
		case 5:
			r.PersonalDigest = []byte(mutate(string(r.PersonalDigest)))
		case 6:
			r.PrevHash = []byte(mutate(string(r.PrevHash)))
		case 7:
			j := (i + 1) % len(recs)
			recs[i], recs[j] = recs[j], recs[i]
		case 8:
			if i == len(recs)-1 {
				i = 0
			}
			recs = append(recs[:i], recs[i+1:]...)
		}
		v := audit.NewChainVerifier("tenant-a")
		v.Feed(recs)
		if len(v.Problems()) == 0 {
			t.Fatalf("mutation %d of event %d not detected", field%9, i)
		}
	})
}
