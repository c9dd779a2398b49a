package crypto

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// PlatformScope is the scope of the platform's own data (operator accounts,
// platform audit events). NewKeyring creates its keys when they are missing.
const PlatformScope = "platform"

// DefaultCacheTTL is how long unwrapped keys stay cached when
// Options.CacheTTL is not set.
const DefaultCacheTTL = 5 * time.Minute

// ErrNoKey is returned for a scope that has no data keys (or is not a
// valid scope id).
var ErrNoKey = errors.New("no data key for this scope")

// ErrKeyDestroyed is returned for a scope whose data keys were destroyed
// (crypto-shredded): what was sealed with them is gone for good.
var ErrKeyDestroyed = errors.New("data key destroyed")

// ErrWrongMasterKey is returned when the master key does not unwrap a
// stored data-key record: the master key is not the one the database was
// created with, or the record was altered or copied from another scope.
var ErrWrongMasterKey = errors.New("master key does not open the stored data keys")

// ErrOpen is returned when a ciphertext does not open: it was altered,
// belongs to another scope or row (other associated data), or is not a
// ciphertext at all. The cause is deliberately not told apart.
var ErrOpen = errors.New("ciphertext does not open")

// keyRecord is one scope's wrapped data keys (table tenant_keys).
type keyRecord struct {
	bun.BaseModel `bun:"table:tenant_keys"`
	TenantID      string     `bun:"tenant_id,pk"`
	AEADKeyset    []byte     `bun:"aead_keyset"`
	PRFKeyset     []byte     `bun:"prf_keyset"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	RotatedAt     *time.Time `bun:"rotated_at"`
	DestroyedAt   *time.Time `bun:"destroyed_at"`
}

// scopeKeys are one scope's unwrapped primitives, or a marker that the
// scope was destroyed. Entries are immutable once cached.
type scopeKeys struct {
	aead      tink.AEAD
	prf       *prf.Set
	expires   time.Time
	destroyed bool
}

// Options tune a Keyring. The zero value is ready to use.
type Options struct {
	// CacheTTL bounds how long unwrapped keys stay in memory, and so how
	// long a key destroyed by another host keeps working here. Default
	// DefaultCacheTTL.
	CacheTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Keyring seals and opens personal data with per-scope data keys wrapped
// by the master key, and computes blind indexes. It is safe for concurrent
// use; create one per process with NewKeyring.
type Keyring struct {
	db   *store.DB
	opts Options

	master   atomic.Pointer[MasterKey]
	rotateMu sync.Mutex // serialises RotateMaster and RotateDataKey

	mu        sync.RWMutex
	cache     map[string]*scopeKeys
	lastSweep time.Time
}

// NewKeyring opens the keyring stored in db under master. It creates the
// platform scope's keys when they are missing and checks that master
// unwraps them, so a wrong master key stops start-up here with one line
// wrapping ErrWrongMasterKey. At most one Options value is used.
func NewKeyring(ctx context.Context, db *store.DB, master *MasterKey, opts ...Options) (*Keyring, error) {
	if db == nil {
		return nil, errors.New("open keyring: no database")
	}
	if master == nil || master.aead == nil {
		return nil, errors.New("open keyring: no master key: load one with LoadMasterKeyFile or ParseMasterKey")
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	k := &Keyring{db: db, opts: o, cache: make(map[string]*scopeKeys)}
	k.master.Store(master)
	err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*keyRecord)(nil)).Where("tenant_id = ?", PlatformScope).Count(ctx)
		if err != nil {
			return fmt.Errorf("read platform key: %w", err)
		}
		if n == 0 {
			return k.CreateKey(ctx, tx, PlatformScope)
		}
		return nil
	})
	// Another host starting at the same time may have created it first.
	if err != nil && !store.IsUniqueViolation(err) {
		return nil, fmt.Errorf("open keyring: %w", err)
	}
	// Unwrap what is stored, not what may have been cached above.
	k.drop(PlatformScope)
	if _, err := k.load(ctx, PlatformScope); err != nil {
		if errors.Is(err, ErrWrongMasterKey) {
			return nil, fmt.Errorf("%w: wrong master key? (use the key file or PLENUM_MASTER_KEY this database was created with)", ErrWrongMasterKey)
		}
		return nil, fmt.Errorf("open keyring: %w", err)
	}
	return k, nil
}

// Associated data binding a wrapped keyset to its purpose and scope.
func aeadAD(scope string) []byte { return []byte("plenum/aead/" + scope) }
func prfAD(scope string) []byte  { return []byte("plenum/prf/" + scope) }

// CreateKey creates the data keys of scope inside the caller's system
// transaction (the caller creates the tenant row and its audit event in
// the same transaction) and caches them at once, so that sealing works
// before the transaction commits. Scope ids are fresh, so a rolled-back
// creation leaves nothing but a cache entry that expires.
func (k *Keyring) CreateKey(ctx context.Context, tx bun.Tx, scope string) error {
	if !store.ValidTenantID(scope) {
		return fmt.Errorf("create data key: invalid scope %q: %w", scope, ErrNoKey)
	}
	ah, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return fmt.Errorf("create data key of %s: %w", scope, err)
	}
	ph, err := keyset.NewHandle(prf.HMACSHA256PRFKeyTemplate())
	if err != nil {
		return fmt.Errorf("create index key of %s: %w", scope, err)
	}
	master := k.master.Load()
	rec := &keyRecord{TenantID: scope, CreatedAt: k.opts.Now().UTC().Truncate(time.Microsecond)}
	if rec.AEADKeyset, err = wrap(ah, master, aeadAD(scope)); err != nil {
		return err
	}
	if rec.PRFKeyset, err = wrap(ph, master, prfAD(scope)); err != nil {
		return err
	}
	if _, err := tx.NewInsert().Model(rec).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("create data key of %s: the scope already has keys: %w", scope, err)
		}
		return fmt.Errorf("create data key of %s: %w", scope, err)
	}
	sk, err := k.primitives(ah, ph)
	if err != nil {
		return fmt.Errorf("create data key of %s: %w", scope, err)
	}
	k.put(scope, sk)
	return nil
}

func wrap(h *keyset.Handle, master *MasterKey, ad []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), master.aead, ad); err != nil {
		return nil, fmt.Errorf("wrap data key: %w", err)
	}
	return buf.Bytes(), nil
}

// unwrap opens a wrapped keyset with the first of masters that can. The
// cause of a failure is not reported: it is ErrWrongMasterKey either way.
func unwrap(b []byte, ad []byte, masters ...*MasterKey) (*keyset.Handle, error) {
	for _, m := range masters {
		if m == nil {
			continue
		}
		if h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(b)), m.aead, ad); err == nil {
			return h, nil
		}
	}
	return nil, ErrWrongMasterKey
}

// unwrapRecord unwraps both keysets of a live record.
func unwrapRecord(r *keyRecord, masters ...*MasterKey) (ah, ph *keyset.Handle, err error) {
	if ah, err = unwrap(r.AEADKeyset, aeadAD(r.TenantID), masters...); err != nil {
		return nil, nil, err
	}
	if ph, err = unwrap(r.PRFKeyset, prfAD(r.TenantID), masters...); err != nil {
		return nil, nil, err
	}
	return ah, ph, nil
}

func (k *Keyring) primitives(ah, ph *keyset.Handle) (*scopeKeys, error) {
	a, err := aead.New(ah)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	p, err := prf.NewPRFSet(ph)
	if err != nil {
		return nil, fmt.Errorf("index key: %w", err)
	}
	return &scopeKeys{aead: a, prf: p, expires: k.opts.Now().Add(k.opts.CacheTTL)}, nil
}

// put caches sk for scope and, at most once per TTL, drops expired entries
// so that keys of scopes no longer in use do not stay in memory.
func (k *Keyring) put(scope string, sk *scopeKeys) {
	now := k.opts.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cache[scope] = sk
	if now.Sub(k.lastSweep) < k.opts.CacheTTL {
		return
	}
	k.lastSweep = now
	for s, e := range k.cache {
		if !now.Before(e.expires) {
			delete(k.cache, s)
		}
	}
}

func (k *Keyring) drop(scope string) {
	k.mu.Lock()
	delete(k.cache, scope)
	k.mu.Unlock()
}

// keys returns the unwrapped keys of scope, from the cache or the database.
func (k *Keyring) keys(ctx context.Context, scope string) (*scopeKeys, error) {
	k.mu.RLock()
	sk := k.cache[scope]
	k.mu.RUnlock()
	if sk != nil && k.opts.Now().Before(sk.expires) {
		if sk.destroyed {
			return nil, ErrKeyDestroyed
		}
		return sk, nil
	}
	return k.load(ctx, scope)
}

// load reads and unwraps the keys of scope and caches them (or the fact
// that they were destroyed).
func (k *Keyring) load(ctx context.Context, scope string) (*scopeKeys, error) {
	if !store.ValidTenantID(scope) {
		return nil, fmt.Errorf("invalid scope %q: %w", scope, ErrNoKey)
	}
	rec := new(keyRecord)
	err := k.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(rec).Where("tenant_id = ?", scope).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("scope %s: %w", scope, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("load data key of %s: %w", scope, err)
	}
	if rec.DestroyedAt != nil || rec.AEADKeyset == nil || rec.PRFKeyset == nil {
		k.put(scope, &scopeKeys{destroyed: true, expires: k.opts.Now().Add(k.opts.CacheTTL)})
		return nil, fmt.Errorf("scope %s: %w", scope, ErrKeyDestroyed)
	}
	ah, ph, err := unwrapRecord(rec, k.master.Load())
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w", scope, err)
	}
	sk, err := k.primitives(ah, ph)
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w", scope, err)
	}
	k.put(scope, sk)
	return sk, nil
}

// Seal encrypts plaintext with scope's primary data key. associatedData
// must name where the value lives (table, column, row id) so that a
// ciphertext cannot be moved to another row; Open needs the same bytes.
// The result starts with Tink's 5-byte prefix naming the key.
func (k *Keyring) Seal(ctx context.Context, scope string, plaintext, associatedData []byte) ([]byte, error) {
	sk, err := k.keys(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	ct, err := sk.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal for %s: %w", scope, err)
	}
	return ct, nil
}

// Open decrypts a ciphertext made by Seal for the same scope and
// associated data, with whichever of the scope's keys sealed it. A
// ciphertext that does not open is ErrOpen; a destroyed scope is
// ErrKeyDestroyed; an unknown one ErrNoKey.
func (k *Keyring) Open(ctx context.Context, scope string, ciphertext, associatedData []byte) ([]byte, error) {
	sk, err := k.keys(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	pt, err := sk.aead.Decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// SealString is Seal for a string.
func (k *Keyring) SealString(ctx context.Context, scope, plaintext string, associatedData []byte) ([]byte, error) {
	return k.Seal(ctx, scope, []byte(plaintext), associatedData)
}

// OpenString is Open returning a string.
func (k *Keyring) OpenString(ctx context.Context, scope string, ciphertext, associatedData []byte) (string, error) {
	b, err := k.Open(ctx, scope, ciphertext, associatedData)
	return string(b), err
}

// BlindIndexSize is the length of a blind index in bytes.
const BlindIndexSize = 32

// BlindIndex returns a keyed digest (HMAC-SHA256 PRF, BlindIndexSize
// bytes) of value for equality look-ups of sealed values: equal values in
// the same scope and domain give equal indexes; across scopes or domains
// they are unrelated, and nothing else about the value can be learnt from
// it without the key. domain (1 to 255 bytes) names the use, e.g.
// "user.email". Normalise value first (e.g. lower-case an e-mail address).
// The index key does not rotate with RotateDataKey, so stored indexes stay
// valid.
func (k *Keyring) BlindIndex(ctx context.Context, scope, domain string, value []byte) ([]byte, error) {
	if domain == "" || len(domain) > 255 {
		return nil, fmt.Errorf("blind index: domain must be 1 to 255 bytes, got %d", len(domain))
	}
	sk, err := k.keys(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("blind index: %w", err)
	}
	// A length prefix separates domain from value: ("ab", "c") and
	// ("a", "bc") give different inputs.
	in := make([]byte, 0, 2+len(domain)+len(value))
	in = append(in, byte(len(domain)>>8), byte(len(domain)))
	in = append(in, domain...)
	in = append(in, value...)
	out, err := sk.prf.ComputePrimaryPRF(in, BlindIndexSize)
	if err != nil {
		return nil, fmt.Errorf("blind index for %s: %w", scope, err)
	}
	return out, nil
}

// RotateDataKey adds a new primary AES-256-GCM key to scope's data keyset
// and stores it: new data is sealed with it, existing ciphertexts still
// open with the older keys, which stay in the keyset. Other hosts pick the
// new key up when their cache entry expires; until then they seal with the
// previous key, which remains valid. The blind-index key is not rotated.
func (k *Keyring) RotateDataKey(ctx context.Context, scope string) error {
	if !store.ValidTenantID(scope) {
		return fmt.Errorf("rotate data key: invalid scope %q: %w", scope, ErrNoKey)
	}
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()
	var sk *scopeKeys
	err := k.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		rec := new(keyRecord)
		q := tx.NewSelect().Model(rec).Where("tenant_id = ?", scope)
		if k.db.Dialect() == store.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNoKey
			}
			return fmt.Errorf("load data key: %w", err)
		}
		if rec.DestroyedAt != nil || rec.AEADKeyset == nil || rec.PRFKeyset == nil {
			return ErrKeyDestroyed
		}
		master := k.master.Load()
		ah, ph, err := unwrapRecord(rec, master)
		if err != nil {
			return err
		}
		mgr := keyset.NewManagerFromHandle(ah)
		id, err := mgr.Add(aead.AES256GCMKeyTemplate())
		if err != nil {
			return fmt.Errorf("add data key: %w", err)
		}
		if err := mgr.SetPrimary(id); err != nil {
			return fmt.Errorf("promote data key: %w", err)
		}
		if ah, err = mgr.Handle(); err != nil {
			return fmt.Errorf("build data keyset: %w", err)
		}
		if rec.AEADKeyset, err = wrap(ah, master, aeadAD(scope)); err != nil {
			return err
		}
		now := k.opts.Now().UTC().Truncate(time.Microsecond)
		rec.RotatedAt = &now
		if _, err := tx.NewUpdate().Model(rec).Column("aead_keyset", "rotated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store rotated data key: %w", err)
		}
		sk, err = k.primitives(ah, ph)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate data key of %s: %w", scope, err)
	}
	k.put(scope, sk)
	return nil
}

// RotateMaster re-wraps every live data-key record under newMaster's
// primary key in one transaction, makes newMaster the keyring's master key
// and returns the number of records re-wrapped. Records are unwrapped with
// the current master key or, failing that, newMaster, so the operator can
// write the new key file first and rerun an interrupted rotation.
//
// # Notes
//
// Build newMaster with MasterKey.Rotated, which keeps the old keys: other
// hosts still running with the old key file go on creating records wrapped
// by the old primary key until restarted, and those records (and backups
// made before the rotation) open with the rotated key. Running the rotation
// again re-wraps them. A newMaster without the old keys (after a
// compromise) works too, but then every host must be stopped during the
// rotation. Cached data keys are unaffected: they do not change.
func (k *Keyring) RotateMaster(ctx context.Context, newMaster *MasterKey) (int, error) {
	if newMaster == nil || newMaster.aead == nil {
		return 0, errors.New("rotate master key: no new master key")
	}
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()
	old := k.master.Load()
	n := 0
	err := k.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var recs []keyRecord
		q := tx.NewSelect().Model(&recs).
			Where("destroyed_at IS NULL").Where("aead_keyset IS NOT NULL").Where("prf_keyset IS NOT NULL").
			Order("tenant_id")
		if k.db.Dialect() == store.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("load data keys: %w", err)
		}
		for i := range recs {
			r := &recs[i]
			ah, ph, err := unwrapRecord(r, old, newMaster)
			if err != nil {
				return fmt.Errorf("data key of %s: %w", r.TenantID, err)
			}
			if r.AEADKeyset, err = wrap(ah, newMaster, aeadAD(r.TenantID)); err != nil {
				return err
			}
			if r.PRFKeyset, err = wrap(ph, newMaster, prfAD(r.TenantID)); err != nil {
				return err
			}
			if _, err := tx.NewUpdate().Model(r).Column("aead_keyset", "prf_keyset").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("store re-wrapped data key of %s: %w", r.TenantID, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	k.master.Store(newMaster)
	return n, nil
}

// Destroy crypto-shreds scope inside the caller's system transaction: the
// wrapped keysets are overwritten with NULL and destroyed_at is set. Once
// the transaction commits, nothing sealed for scope can be opened from
// this database or from backups taken afterwards. This host refuses the
// scope at once; other hosts within Options.CacheTTL. The platform scope
// cannot be destroyed. Destroying a destroyed scope returns
// ErrKeyDestroyed, an unknown one ErrNoKey.
//
// # Notes
//
// A database backup taken before the Destroy still holds the wrapped
// record, which the master key opens: restoring must re-apply destroyed
// scopes (the tenants table records key_destroyed_at), or backups must
// keep tenant_keys apart with a retention no longer than the promised
// erasure delay.
func (k *Keyring) Destroy(ctx context.Context, tx bun.Tx, scope string) error {
	if !store.ValidTenantID(scope) {
		return fmt.Errorf("destroy data key: invalid scope %q: %w", scope, ErrNoKey)
	}
	if scope == PlatformScope {
		return errors.New("destroy data key: the platform key cannot be destroyed")
	}
	now := k.opts.Now().UTC().Truncate(time.Microsecond)
	res, err := tx.NewUpdate().Model((*keyRecord)(nil)).
		Set("aead_keyset = NULL").Set("prf_keyset = NULL").Set("destroyed_at = ?", now).
		Where("tenant_id = ?", scope).Where("destroyed_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("destroy data key of %s: %w", scope, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("destroy data key of %s: %w", scope, err)
	} else if n == 0 {
		exists, err := tx.NewSelect().Model((*keyRecord)(nil)).Where("tenant_id = ?", scope).Exists(ctx)
		if err != nil {
			return fmt.Errorf("destroy data key of %s: %w", scope, err)
		}
		if exists {
			return fmt.Errorf("destroy data key of %s: %w", scope, ErrKeyDestroyed)
		}
		return fmt.Errorf("destroy data key of %s: %w", scope, ErrNoKey)
	}
	k.put(scope, &scopeKeys{destroyed: true, expires: k.opts.Now().Add(k.opts.CacheTTL)})
	return nil
}
