package crypto_test

import (
	"bytes"
	"context"
	"errors"
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

func destroyScope(db *store.DB, k *crypto.Keyring, scope string) error {
	return db.System().Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return k.Destroy(ctx, tx, scope)
	})
}

func master(t testing.TB) *crypto.MasterKey {
	t.Helper()
	m, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustSeal(t testing.TB, k *crypto.Keyring, scope, plaintext string, ad []byte) []byte {
	t.Helper()
	ct, err := k.SealString(context.Background(), scope, plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func wantOpen(t testing.TB, k *crypto.Keyring, scope string, ct, ad []byte, want string) {
	t.Helper()
	got, err := k.OpenString(context.Background(), scope, ct, ad)
	if err != nil || got != want {
		t.Fatalf("Open(%s) = %q, %v; want %q", scope, got, err, want)
	}
}

// keyID returns the id of the key that sealed ct (Tink's TINK prefix:
// version byte 0x01, then the key id big-endian).
func keyID(t testing.TB, ct []byte) [4]byte {
	t.Helper()
	if len(ct) < 5 || ct[0] != 0x01 {
		t.Fatalf("ciphertext has no TINK prefix: % x", ct[:min(len(ct), 5)])
	}
	return [4]byte(ct[1:5])
}

func TestSealOpen(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		createScope(t, db, k, "tenant-a")
		createScope(t, db, k, "tenant-b")
		ad := []byte("users.email:42")
		ct := mustSeal(t, k, "tenant-a", "ada@example.org", ad)
		if bytes.Contains(ct, []byte("ada@")) {
			t.Fatal("plaintext visible in ciphertext")
		}
		keyID(t, ct)
		wantOpen(t, k, "tenant-a", ct, ad, "ada@example.org")
		if again := mustSeal(t, k, "tenant-a", "ada@example.org", ad); bytes.Equal(again, ct) {
			t.Fatal("sealing twice gave the same ciphertext: nonce reused")
		}
		empty := mustSeal(t, k, "tenant-a", "", nil)
		wantOpen(t, k, "tenant-a", empty, nil, "")

		tampered := bytes.Clone(ct)
		tampered[len(tampered)-1] ^= 1
		header := bytes.Clone(ct)
		header[2] ^= 1 // the key id
		cases := []struct {
			name  string
			scope string
			ct    []byte
			ad    []byte
			want  error
		}{
			{"other row", "tenant-a", ct, []byte("users.email:43"), crypto.ErrOpen},
			{"no associated data", "tenant-a", ct, nil, crypto.ErrOpen},
			{"other tenant", "tenant-b", ct, ad, crypto.ErrOpen},
			{"other scope platform", crypto.PlatformScope, ct, ad, crypto.ErrOpen},
			{"tampered body", "tenant-a", tampered, ad, crypto.ErrOpen},
			{"tampered key id", "tenant-a", header, ad, crypto.ErrOpen},
			{"truncated", "tenant-a", ct[:10], ad, crypto.ErrOpen},
			{"empty", "tenant-a", nil, ad, crypto.ErrOpen},
			{"unknown scope", "tenant-c", ct, ad, crypto.ErrNoKey},
			{"invalid scope", "", ct, ad, crypto.ErrNoKey},
			{"invalid scope chars", "Tenant A", ct, ad, crypto.ErrNoKey},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if _, err := k.Open(ctx, c.scope, c.ct, c.ad); !errors.Is(err, c.want) {
					t.Errorf("Open error = %v, want %v", err, c.want)
				}
			})
		}
		if _, err := k.Seal(ctx, "tenant-c", []byte("x"), nil); !errors.Is(err, crypto.ErrNoKey) {
			t.Errorf("Seal for unknown scope = %v, want ErrNoKey", err)
		}
		// A second keyring on the same database (another host) opens it.
		k2 := newKeyring(t, db, m)
		wantOpen(t, k2, "tenant-a", ct, ad, "ada@example.org")
	})
}

func TestCreateKey(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		createScope(t, db, k, "tenant-a")
		err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return k.CreateKey(ctx, tx, "tenant-a")
		})
		if err == nil || !strings.Contains(err.Error(), "already has keys") {
			t.Fatalf("second CreateKey = %v, want already has keys", err)
		}
		if err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return k.CreateKey(ctx, tx, "Not Valid")
		}); !errors.Is(err, crypto.ErrNoKey) {
			t.Fatalf("CreateKey of an invalid scope = %v, want ErrNoKey", err)
		}

		// Keys work inside the creating transaction, before it commits;
		// a rollback leaves nothing in the database.
		rollback := errors.New("rollback")
		err = db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := k.CreateKey(ctx, tx, "tenant-new"); err != nil {
				return err
			}
			ct, err := k.Seal(ctx, "tenant-new", []byte("welcome"), nil)
			if err != nil {
				return err
			}
			if _, err := k.Open(ctx, "tenant-new", ct, nil); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("transaction = %v, want the rollback", err)
		}
		if _, err := newKeyring(t, db, m).Seal(ctx, "tenant-new", []byte("x"), nil); !errors.Is(err, crypto.ErrNoKey) {
			t.Fatalf("rolled-back scope on another host = %v, want ErrNoKey", err)
		}
	})
}

// Hosts starting at once on an empty database all open the keyring: the
// one that loses the race to create the platform key uses the winner's.
func TestNewKeyringConcurrentStart(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		m := master(t)
		var wg sync.WaitGroup
		rings := make([]*crypto.Keyring, 4)
		errs := make([]error, len(rings))
		for i := range rings {
			wg.Go(func() { rings[i], errs[i] = crypto.NewKeyring(context.Background(), db, m) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("keyring %d: %v", i, err)
			}
		}
		ct := mustSeal(t, rings[0], crypto.PlatformScope, "op", nil)
		for _, k := range rings[1:] {
			wantOpen(t, k, crypto.PlatformScope, ct, nil, "op")
		}
	})
}

func TestBlindIndex(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		createScope(t, db, k, "tenant-a")
		createScope(t, db, k, "tenant-b")
		idx := func(k *crypto.Keyring, scope, domain, v string) []byte {
			t.Helper()
			b, err := k.BlindIndex(ctx, scope, domain, []byte(v))
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != crypto.BlindIndexSize {
				t.Fatalf("index has %d bytes", len(b))
			}
			return b
		}
		a := idx(k, "tenant-a", "user.email", "ada@example.org")
		tests := []struct {
			name                 string
			scope, domain, value string
			equal                bool
		}{
			{"same input", "tenant-a", "user.email", "ada@example.org", true},
			{"other value", "tenant-a", "user.email", "bob@example.org", false},
			{"other scope", "tenant-b", "user.email", "ada@example.org", false},
			{"other domain", "tenant-a", "user.phone", "ada@example.org", false},
		}
		for _, tt := range tests {
			if got := bytes.Equal(a, idx(k, tt.scope, tt.domain, tt.value)); got != tt.equal {
				t.Errorf("%s: equal = %v, want %v", tt.name, got, tt.equal)
			}
		}
		if bytes.Equal(idx(k, "tenant-a", "ab", "c"), idx(k, "tenant-a", "a", "bc")) {
			t.Error("domain and value not separated")
		}
		// Stable across hosts and across data-key rotation.
		if err := k.RotateDataKey(ctx, "tenant-a"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, idx(newKeyring(t, db, m), "tenant-a", "user.email", "ada@example.org")) {
			t.Error("index changed on another host after data-key rotation")
		}
		for _, d := range []string{"", strings.Repeat("d", 256)} {
			if _, err := k.BlindIndex(ctx, "tenant-a", d, []byte("v")); err == nil {
				t.Errorf("domain of %d bytes accepted", len(d))
			}
		}
		if _, err := k.BlindIndex(ctx, "tenant-z", "user.email", []byte("v")); !errors.Is(err, crypto.ErrNoKey) {
			t.Errorf("unknown scope = %v, want ErrNoKey", err)
		}
	})
}

func TestRotateDataKey(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		createScope(t, db, k, "tenant-a")
		createScope(t, db, k, "tenant-b")
		ad := []byte("x")
		old := mustSeal(t, k, "tenant-a", "before", ad)
		otherTenant := mustSeal(t, k, "tenant-b", "b", ad)
		if err := k.RotateDataKey(ctx, "tenant-a"); err != nil {
			t.Fatal(err)
		}
		fresh := mustSeal(t, k, "tenant-a", "after", ad)
		if keyID(t, old) == keyID(t, fresh) {
			t.Error("new ciphertext names the old key id")
		}
		if keyID(t, mustSeal(t, k, "tenant-b", "b", ad)) != keyID(t, otherTenant) {
			t.Error("rotating tenant-a changed tenant-b's key")
		}
		for _, kr := range []*crypto.Keyring{k, newKeyring(t, db, m)} {
			wantOpen(t, kr, "tenant-a", old, ad, "before")
			wantOpen(t, kr, "tenant-a", fresh, ad, "after")
		}
		// Another host seals with the new primary as soon as it loads.
		if keyID(t, mustSeal(t, newKeyring(t, db, m), "tenant-a", "x", ad)) != keyID(t, fresh) {
			t.Error("another host does not seal with the new primary key")
		}
		if err := k.RotateDataKey(ctx, "tenant-z"); !errors.Is(err, crypto.ErrNoKey) {
			t.Errorf("RotateDataKey of unknown scope = %v, want ErrNoKey", err)
		}
		if err := destroyScope(db, k, "tenant-b"); err != nil {
			t.Fatal(err)
		}
		if err := k.RotateDataKey(ctx, "tenant-b"); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Errorf("RotateDataKey of destroyed scope = %v, want ErrKeyDestroyed", err)
		}
	})
}

// The operator's rotation: write the rotated master key (old keys kept),
// then re-wrap. Every step in between keeps working, and afterwards the
// old master key alone no longer opens the database — which is right: its
// file has been replaced, and backups made before still open with the new
// file because it keeps the old keys.
func TestRotateMaster(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m1 := master(t)
		k := newKeyring(t, db, m1)
		for _, s := range []string{"tenant-a", "tenant-b", "tenant-gone"} {
			createScope(t, db, k, s)
		}
		if err := destroyScope(db, k, "tenant-gone"); err != nil {
			t.Fatal(err)
		}
		ad := []byte("x")
		ct := mustSeal(t, k, "tenant-a", "secret", ad)

		m2, err := m1.Rotated()
		if err != nil {
			t.Fatal(err)
		}
		if m2.PrimaryID() == m1.PrimaryID() || m2.Len() != 2 {
			t.Fatalf("rotated master: primary %d (was %d), %d keys", m2.PrimaryID(), m1.PrimaryID(), m2.Len())
		}
		// Key file replaced, records not yet re-wrapped (e.g. a crash).
		wantOpen(t, newKeyring(t, db, m2), "tenant-a", ct, ad, "secret")

		n, err := k.RotateMaster(ctx, m2)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 { // platform, tenant-a, tenant-b; not the destroyed one
			t.Fatalf("re-wrapped %d records, want 3", n)
		}
		wantOpen(t, k, "tenant-a", ct, ad, "secret")
		createScope(t, db, k, "tenant-c") // wrapped under the new primary
		ctC := mustSeal(t, k, "tenant-c", "c", ad)

		k2 := newKeyring(t, db, m2)
		wantOpen(t, k2, "tenant-a", ct, ad, "secret")
		wantOpen(t, k2, "tenant-c", ctC, ad, "c")
		_, err = crypto.NewKeyring(ctx, db, m1)
		if !errors.Is(err, crypto.ErrWrongMasterKey) {
			t.Fatalf("NewKeyring with only the old master = %v, want ErrWrongMasterKey", err)
		}

		// Rerunning is harmless; a fresh, unrelated master key works too.
		if n, err := k.RotateMaster(ctx, m2); err != nil || n != 4 {
			t.Fatalf("second RotateMaster = %d, %v; want 4", n, err)
		}
		m3 := master(t)
		if _, err := k.RotateMaster(ctx, m3); err != nil {
			t.Fatal(err)
		}
		wantOpen(t, newKeyring(t, db, m3), "tenant-c", ctC, ad, "c")
		if _, err := crypto.NewKeyring(ctx, db, m2); !errors.Is(err, crypto.ErrWrongMasterKey) {
			t.Fatalf("NewKeyring with the replaced master = %v, want ErrWrongMasterKey", err)
		}
		if _, err := k.RotateMaster(ctx, nil); err == nil {
			t.Fatal("RotateMaster(nil) succeeded")
		}
	})
}

// Wrapped records are bound to their scope: one copied over another's row
// does not open, and a master rotation meeting it changes nothing.
func TestWrappedKeyBoundToScope(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		createScope(t, db, k, "tenant-a")
		createScope(t, db, k, "tenant-b")
		ct := mustSeal(t, k, "tenant-a", "a", nil)
		err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE tenant_keys SET aead_keyset = (SELECT aead_keyset FROM tenant_keys WHERE tenant_id = 'tenant-a'),
				prf_keyset = (SELECT prf_keyset FROM tenant_keys WHERE tenant_id = 'tenant-a') WHERE tenant_id = 'tenant-b'`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		k2 := newKeyring(t, db, m)
		if _, err := k2.Open(ctx, "tenant-b", ct, nil); !errors.Is(err, crypto.ErrWrongMasterKey) {
			t.Fatalf("Open with a copied record = %v, want ErrWrongMasterKey", err)
		}
		if n, err := k2.RotateMaster(ctx, master(t)); !errors.Is(err, crypto.ErrWrongMasterKey) || n != 0 {
			t.Fatalf("RotateMaster over a copied record = %d, %v; want ErrWrongMasterKey", n, err)
		}
		// The failed rotation rolled back: the old master still opens.
		wantOpen(t, newKeyring(t, db, m), "tenant-a", ct, nil, "a")
	})
}

func TestDestroy(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		other := newKeyring(t, db, m) // a second host, with the key cached
		createScope(t, db, k, "tenant-a")
		ad := []byte("x")
		ct := mustSeal(t, k, "tenant-a", "secret", ad)
		wantOpen(t, other, "tenant-a", ct, ad, "secret")

		// A Destroy that rolls back changes nothing in the database.
		rollback := errors.New("rollback")
		err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := other.Destroy(ctx, tx, "tenant-a"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		wantOpen(t, newKeyring(t, db, m), "tenant-a", ct, ad, "secret")

		if err := destroyScope(db, k, "tenant-a"); err != nil {
			t.Fatal(err)
		}
		var live int
		if err := db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return tx.QueryRowContext(ctx, "SELECT count(*) FROM tenant_keys WHERE tenant_id = 'tenant-a' AND (aead_keyset IS NOT NULL OR prf_keyset IS NOT NULL OR destroyed_at IS NULL)").Scan(&live)
		}); err != nil || live != 0 {
			t.Fatalf("destroyed record still holds keys (%d, %v)", live, err)
		}
		third := newKeyring(t, db, m) // a host that never cached the key
		for name, kr := range map[string]*crypto.Keyring{"destroying host": k, "fresh host": third} {
			if _, err := kr.Open(ctx, "tenant-a", ct, ad); !errors.Is(err, crypto.ErrKeyDestroyed) {
				t.Errorf("%s: Open after destroy = %v", name, err)
			}
			if _, err := kr.Seal(ctx, "tenant-a", []byte("more"), ad); !errors.Is(err, crypto.ErrKeyDestroyed) {
				t.Errorf("%s: Seal after destroy = %v", name, err)
			}
			if _, err := kr.BlindIndex(ctx, "tenant-a", "user.email", []byte("v")); !errors.Is(err, crypto.ErrKeyDestroyed) {
				t.Errorf("%s: BlindIndex after destroy = %v", name, err)
			}
		}
		for _, tt := range []struct {
			scope string
			want  error
		}{
			{"tenant-a", crypto.ErrKeyDestroyed},
			{"tenant-z", crypto.ErrNoKey},
			{"", crypto.ErrNoKey},
		} {
			if err := destroyScope(db, k, tt.scope); !errors.Is(err, tt.want) {
				t.Errorf("Destroy(%q) = %v, want %v", tt.scope, err, tt.want)
			}
		}
		if err := destroyScope(db, k, crypto.PlatformScope); err == nil {
			t.Fatal("platform key destroyed")
		}
	})
}

// A host that cached a key stops using it within the cache TTL once
// another host destroys it.
func TestDestroySeenByOtherHostAfterTTL(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
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
		ct := mustSeal(t, k, "tenant-a", "s", nil)
		wantOpen(t, other, "tenant-a", ct, nil, "s")
		if err := destroyScope(db, k, "tenant-a"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(30 * time.Second)
		mu.Unlock()
		wantOpen(t, other, "tenant-a", ct, nil, "s") // cached, within the TTL
		mu.Lock()
		now = now.Add(31 * time.Second)
		mu.Unlock()
		if _, err := other.Open(ctx, "tenant-a", ct, nil); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Fatalf("after TTL Open = %v, want ErrKeyDestroyed", err)
		}
	})
}

func TestWrongMasterKey(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		newKeyring(t, db, master(t))
		_, err := crypto.NewKeyring(context.Background(), db, master(t))
		if !errors.Is(err, crypto.ErrWrongMasterKey) {
			t.Fatalf("NewKeyring with another master = %v, want ErrWrongMasterKey", err)
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "wrong master key?") {
			t.Fatalf("error is not one clear line: %q", msg)
		}
		if _, err := crypto.NewKeyring(context.Background(), db, nil); err == nil {
			t.Fatal("NewKeyring without a master key succeeded")
		}
	})
}

// Seal and Open from many goroutines while the data key rotates and
// another host reloads keys on every call; run with -race.
func TestConcurrentSealOpen(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := master(t)
		k := newKeyring(t, db, m)
		reloading, err := crypto.NewKeyring(ctx, db, m, crypto.Options{CacheTTL: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		scopes := []string{"t-1", "t-2", "t-3"}
		for _, s := range scopes {
			createScope(t, db, k, s)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for g := range 12 {
			wg.Go(func() {
				scope := scopes[g%len(scopes)]
				for i := range 150 {
					ad := []byte{byte(g), byte(i)}
					ct, err := k.Seal(ctx, scope, []byte("v"), ad)
					if err != nil {
						errs <- err
						return
					}
					if _, err := k.Open(ctx, scope, ct, ad); err != nil {
						errs <- err
						return
					}
					if i%15 == 0 { // a DB read each time: keep it occasional
						if _, err := reloading.Open(ctx, scope, ct, ad); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Go(func() {
			for i := range 3 {
				if err := k.RotateDataKey(ctx, scopes[i]); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
