package audit_test

import "testing"

// FuzzChainVerify mutates one event of a valid chain — a byte of a field,
// its seq, its time, its hashes — or swaps, moves or drops events, then
// verifies it fed in batches of a fuzzed size: the verifier must never
// panic and must always report the change. The seed corpus is in
// testdata/fuzz/FuzzChainVerify.
func FuzzChainVerify(f *testing.F) {
	f.Add(uint16(3), uint8(0), uint8(0), uint8(1), uint8(4))
	f.Add(uint16(0), uint8(5), uint8(3), uint8(0x80), uint8(1))
	f.Add(uint16(9), uint8(7), uint8(0), uint8(0), uint8(10))
	f.Add(uint16(4), uint8(8), uint8(0), uint8(0), uint8(2))
	f.Fuzz(func(t *testing.T, idx uint16, field, pos, flip, batch uint8) {
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
		const kinds = 13
		switch field % kinds {
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
		case 9:
			j := (i + 1 + int(pos)%(len(recs)-1)) % len(recs)
			swapContent(recs, i, j)
		case 10:
			r.Hash = []byte(mutate(string(r.Hash)))
		case 11:
			r.Hash = r.Hash[:int(pos)%len(r.Hash)]
		case 12:
			r.TenantID = mutate(r.TenantID)
		}
		n := int(batch)%len(recs) + 1
		if got := feed(recs, n); len(got) == 0 {
			t.Fatalf("mutation %d of event %d not detected", field%kinds, i)
		}
	})
}
