package crypto_test

import (
	"context"
	"testing"

	"github.com/plenum-vote/plenum/testkit"
)

// BenchmarkSealOpen64 seals and opens a 64-byte field with a cached key
// (target: ≤ 2 µs per pair).
func BenchmarkSealOpen64(b *testing.B) {
	db := testkit.OpenDB(b, testkit.SQLiteConfig(b))
	ctx := context.Background()
	k := newKeyring(b, db, master(b))
	createScope(b, db, k, "tenant-a")
	field := make([]byte, 64)
	ad := []byte("users.email:0190a6f2-0000-7000-8000-000000000000")
	b.ReportAllocs()
	for b.Loop() {
		ct, err := k.Seal(ctx, "tenant-a", field, ad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Open(ctx, "tenant-a", ct, ad); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlindIndex computes the blind index of an e-mail address.
func BenchmarkBlindIndex(b *testing.B) {
	db := testkit.OpenDB(b, testkit.SQLiteConfig(b))
	ctx := context.Background()
	k := newKeyring(b, db, master(b))
	createScope(b, db, k, "tenant-a")
	v := []byte("ada.lovelace@example.org")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.BlindIndex(ctx, "tenant-a", "user.email", v); err != nil {
			b.Fatal(err)
		}
	}
}
