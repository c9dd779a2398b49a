package crypto_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

func newKeyring(t testing.TB, db *store.DB, master *crypto.MasterKey) *crypto.Keyring {
	t.Helper()
	k, err := crypto.NewKeyring(context.Background(), db, master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func createScope(t testing.TB, db *store.DB, k *crypto.Keyring, scope string) {
	t.Helper()
	err := db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return k.CreateKey(ctx, tx, scope)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func master(t testing.TB) *crypto.MasterKey {
	t.Helper()
	m, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSealOpen(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		createScope(t, db, k, "tenant-a")
		createScope(t, db, k, "tenant-b")
		ad := []byte("users.email:42")
		ct, err := k.Seal(ctx, "tenant-a", []byte("ada@example.org"), ad)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ct, []byte("ada@")) {
			t.Fatal("plaintext visible in ciphertext")
		}
		pt, err := k.Open(ctx, "tenant-a", ct, ad)
		if err != nil || string(pt) != "ada@example.org" {
			t.Fatalf("Open = %q, %v", pt, err)
		}
		tampered := bytes.Clone(ct)
		tampered[len(tampered)-1] ^= 1
		cases := []struct {
			name  string
			scope string
			ct    []byte
			ad    []byte
			want  error
		}{
			{"other row", "tenant-a", ct, []byte("users.email:43"), crypto.ErrOpen},
			{"other tenant", "tenant-b", ct, ad, crypto.ErrOpen},
			{"tampered", "tenant-a", tampered, ad, crypto.ErrOpen},
			{"truncated", "tenant-a", ct[:10], ad, crypto.ErrOpen},
			{"empty", "tenant-a", nil, ad, crypto.ErrOpen},
			{"unknown scope", "tenant-c", ct, ad, crypto.ErrNoKey},
			{"invalid scope", "", ct, ad, crypto.ErrNoKey},
		}
		for _, c := range cases {
			if _, err := k.Open(ctx, c.scope, c.ct, c.ad); !errors.Is(err, c.want) {
				t.Errorf("%s: Open error = %v, want %v", c.name, err, c.want)
			}
		}
		// A second keyring on the same database (another host) opens it.
		k2 := newKeyring(t, db, m)
		if pt, err := k2.Open(ctx, "tenant-a", ct, ad); err != nil || string(pt) != "ada@example.org" {
			t.Fatalf("second keyring Open = %q, %v", pt, err)
		}
	})
}

func TestBlindIndex(t *testing.T) {
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	ctx := context.Background()
	k := newKeyring(t, db, master(t))
	createScope(t, db, k, "tenant-a")
	createScope(t, db, k, "tenant-b")
	idx := func(scope, domain, v string) []byte {
		b, err := k.BlindIndex(ctx, scope, domain, []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 32 {
			t.Fatalf("index has %d bytes", len(b))
		}
		return b
	}
	a := idx("tenant-a", "user.email", "ada@example.org")
	if !bytes.Equal(a, idx("tenant-a", "user.email", "ada@example.org")) {
		t.Error("index not stable")
	}
	if bytes.Equal(a, idx("tenant-b", "user.email", "ada@example.org")) {
		t.Error("index equal across tenants")
	}
	if bytes.Equal(a, idx("tenant-a", "user.phone", "ada@example.org")) {
		t.Error("index equal across domains")
	}
	if bytes.Equal(idx("tenant-a", "ab", "c"), idx("tenant-a", "a", "bc")) {
		t.Error("domain and value not separated")
	}
}

func TestRotation(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m1 := master(t)
		k := newKeyring(t, db, m1)
		createScope(t, db, k, "tenant-a")
		ad := []byte("x")
		old, _ := k.Seal(ctx, "tenant-a", []byte("before"), ad)
		if err := k.RotateDataKey(ctx, "tenant-a"); err != nil {
			t.Fatal(err)
		}
		fresh, _ := k.Seal(ctx, "tenant-a", []byte("after"), ad)
		if bytes.Equal(old[:5], fresh[:5]) {
			t.Error("new ciphertext names the old key id")
		}
		for _, ct := range [][]byte{old, fresh} {
			if _, err := k.Open(ctx, "tenant-a", ct, ad); err != nil {
				t.Fatalf("Open after data key rotation: %v", err)
			}
		}
		m2, err := m1.Rotated()
		if err != nil {
			t.Fatal(err)
		}
		if m2.PrimaryID() == m1.PrimaryID() || m2.Len() != 2 {
			t.Fatalf("rotated master: primary %d (was %d), %d keys", m2.PrimaryID(), m1.PrimaryID(), m2.Len())
		}
		n, err := k.RotateMaster(ctx, m2)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 { // platform + tenant-a
			t.Fatalf("re-wrapped %d records, want 2", n)
		}
		createScope(t, db, k, "tenant-b")
		// A fresh host with the new master key opens old and new data.
		k2 := newKeyring(t, db, m2)
		for _, ct := range [][]byte{old, fresh} {
			if _, err := k2.Open(ctx, "tenant-a", ct, ad); err != nil {
				t.Fatalf("Open with rotated master: %v", err)
			}
		}
		// Only the old master key no longer opens the re-wrapped records.
		if _, err := crypto.NewKeyring(ctx, db, m1); !errors.Is(err, crypto.ErrWrongMasterKey) {
			t.Fatalf("NewKeyring with the old master = %v, want ErrWrongMasterKey", err)
		}
	})
}

func TestDestroy(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		other := newKeyring(t, db, m) // a second host
		createScope(t, db, k, "tenant-a")
		ad := []byte("x")
		ct, _ := k.Seal(ctx, "tenant-a", []byte("secret"), ad)
		if _, err := other.Open(ctx, "tenant-a", ct, ad); err != nil {
			t.Fatal(err)
		}
		err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return k.Destroy(ctx, tx, "tenant-a") })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Open(ctx, "tenant-a", ct, ad); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Fatalf("Open after destroy = %v", err)
		}
		if _, err := k.Seal(ctx, "tenant-a", []byte("more"), ad); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Fatalf("Seal after destroy = %v", err)
		}
		// A host that never cached the key cannot open it either.
		third := newKeyring(t, db, m)
		if _, err := third.Open(ctx, "tenant-a", ct, ad); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Fatalf("third host Open = %v", err)
		}
		err = db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return k.Destroy(ctx, tx, crypto.PlatformScope) })
		if err == nil {
			t.Fatal("platform key destroyed")
		}
	})
}

// A host that cached a key stops using it within the cache TTL once
// another host destroys it.
func TestDestroySeenByOtherHostAfterTTL(t *testing.T) {
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	ctx := context.Background()
	m := master(t)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	k := newKeyring(t, db, m)
	other, err := crypto.NewKeyring(ctx, db, m, crypto.Options{CacheTTL: time.Minute, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	createScope(t, db, k, "tenant-a")
	ct, _ := k.Seal(ctx, "tenant-a", []byte("s"), nil)
	if _, err := other.Open(ctx, "tenant-a", ct, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return k.Destroy(ctx, tx, "tenant-a") }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := other.Open(ctx, "tenant-a", ct, nil); !errors.Is(err, crypto.ErrKeyDestroyed) {
		t.Fatalf("after TTL Open = %v, want ErrKeyDestroyed", err)
	}
}

func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "master.key")
	if err := crypto.GenerateMasterKeyFile(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	if err := crypto.GenerateMasterKeyFile(p); err == nil {
		t.Fatal("existing key file replaced")
	}
	m, err := crypto.LoadMasterKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b64, err := m.Base64()
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := crypto.ParseMasterKey(b64); err != nil || m2.PrimaryID() != m.PrimaryID() {
		t.Fatalf("ParseMasterKey = %v", err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.LoadMasterKeyFile(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("not a keyset"), 0o600)
	for _, tc := range []struct {
		name string
		load func() error
	}{
		{"missing file", func() error { _, err := crypto.LoadMasterKeyFile(filepath.Join(dir, "none")); return err }},
		{"garbage file", func() error { _, err := crypto.LoadMasterKeyFile(bad); return err }},
		{"bad base64", func() error { _, err := crypto.ParseMasterKey("!!!"); return err }},
		{"base64 of garbage", func() error { _, err := crypto.ParseMasterKey("aGVsbG8="); return err }},
	} {
		err := tc.load()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line", tc.name, err)
		}
	}
}

func TestWrongMasterKey(t *testing.T) {
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	newKeyring(t, db, master(t))
	_, err := crypto.NewKeyring(context.Background(), db, master(t))
	if !errors.Is(err, crypto.ErrWrongMasterKey) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("NewKeyring with another master = %v", err)
	}
}

func TestConcurrentSealOpen(t *testing.T) {
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	ctx := context.Background()
	k := newKeyring(t, db, master(t))
	for _, s := range []string{"t-1", "t-2", "t-3"} {
		createScope(t, db, k, s)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			scope := []string{"t-1", "t-2", "t-3"}[g%3]
			for i := 0; i < 200; i++ {
				ct, err := k.Seal(ctx, scope, []byte("v"), []byte{byte(i)})
				if err != nil {
					errs <- err
					return
				}
				if _, err := k.Open(ctx, scope, ct, []byte{byte(i)}); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
