package ranked

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
)

// drawIndex returns SHA-256(len(seed), seed, draw, candidates) modulo
// len(candidates), each number as 8 bytes big-endian.
func drawIndex(seed string, draw int, candidates []int) int {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(len(seed)))
	h.Write(b[:])
	h.Write([]byte(seed))
	binary.BigEndian.PutUint64(b[:], uint64(draw))
	h.Write(b[:])
	for _, c := range candidates {
		binary.BigEndian.PutUint64(b[:], uint64(c))
		h.Write(b[:])
	}
	d := new(big.Int).SetBytes(h.Sum(nil))
	return int(d.Mod(d, big.NewInt(int64(len(candidates)))).Int64())
}
