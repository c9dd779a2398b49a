package crypto

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// PlatformScope is the scope of the platform's own data (operator accounts,
// platform audit events).
const PlatformScope = "platform"

// ErrNoKey is returned for a scope that has no data keys.
var ErrNoKey = errors.New("no data key for this scope")

// ErrKeyDestroyed is returned for a scope whose data keys were destroyed
// (crypto-shredded): what was sealed with them is gone for good.
var ErrKeyDestroyed = errors.New("data key destroyed")

// ErrWrongMasterKey is returned when the master key does not unwrap the
// stored data keys.
var ErrWrongMasterKey = errors.New("master key does not open the stored data keys")

// keyRecord is one scope's wrapped data keys.
type keyRecord struct {
	bun.BaseModel `bun:"table:tenant_keys"`
	TenantID      string     `bun:"tenant_id,pk"`
	AEADKeyset    []byte     `bun:"aead_keyset"`
	PRFKeyset     []byte     `bun:"prf_keyset"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	RotatedAt     *time.Time `bun:"rotated_at"`
	DestroyedAt   *time.Time `bun:"destroyed_at"`
}

// scopeKeys are one scope's unwrapped primitives.
type scopeKeys struct {
	aeadHandle *keyset.Handle
	aead       tink.AEAD
	prf        *prf.Set
	expires    time.Time
	destroyed  bool
}

// Options tune a Keyring.
type Options struct {
	// CacheTTL bounds how long unwrapped keys stay in memory, and so how
	// long a key destroyed by another host keeps working here. Default 5
	// minutes.
	CacheTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Keyring seals and opens personal data with per-scope data keys wrapped
// by the master key. It is safe for concurrent use.
type Keyring struct {
	db   *store.DB
	opts Options

	mu     sync.RWMutex
	master *MasterKey
	cache  map[string]*scopeKeys
}

// NewKeyring opens the keyring stored in db under master. It makes sure
// the platform scope has keys and that master opens them, so a wrong
// master key stops start-up here with ErrWrongMasterKey.
func NewKeyring(ctx context.Context, db *store.DB, master *MasterKey, opts ...Options) (*Keyring, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	k := &Keyring{db: db, opts: o, master: master, cache: make(map[string]*scopeKeys)}
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
	if err != nil {
		return nil, err
	}
	k.drop(PlatformScope)
	if _, err := k.keys(ctx, PlatformScope); err != nil {
		if errors.Is(err, ErrWrongMasterKey) {
			return nil, fmt.Errorf("%w: is it the key this database was created with? restore the right key file or PLENUM_MASTER_KEY", err)
		}
		return nil, err
	}
	return k, nil
}

func aeadAD(scope string) []byte { return []byte("plenum/aead/" + scope) }
func prfAD(scope string) []byte  { return []byte("plenum/prf/" + scope) }

func (k *Keyring) currentMaster() *MasterKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.master
}

// CreateKey creates the data keys of scope inside the caller's system
// transaction (the caller creates the tenant row and its audit event in
// the same transaction) and caches them at once, so that sealing works
// before the transaction commits.
func (k *Keyring) CreateKey(ctx context.Context, tx bun.Tx, scope string) error {
	if !store.ValidTenantID(scope) {
		return fmt.Errorf("create key: invalid scope %q", scope)
	}
	ah, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return fmt.Errorf("generate data key: %w", err)
	}
	ph, err := keyset.NewHandle(prf.HMACSHA256PRFKeyTemplate())
	if err != nil {
		return fmt.Errorf("generate index key: %w", err)
	}
	master := k.currentMaster()
	rec := &keyRecord{TenantID: scope, CreatedAt: k.opts.Now().UTC().Truncate(time.Microsecond)}
	if rec.AEADKeyset, err = wrap(ah, master, aeadAD(scope)); err != nil {
		return err
	}
	if rec.PRFKeyset, err = wrap(ph, master, prfAD(scope)); err != nil {
		return err
	}
	if _, err := tx.NewInsert().Model(rec).Exec(ctx); err != nil {
		return fmt.Errorf("store data key: %w", err)
	}
	sk, err := k.primitives(ah, ph)
	if err != nil {
		return err
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

func unwrap(b []byte, master *MasterKey, ad []byte) (*keyset.Handle, error) {
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(b)), master.aead, ad)
	if err != nil {
		return nil, ErrWrongMasterKey
	}
	return h, nil
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
	return &scopeKeys{aeadHandle: ah, aead: a, prf: p, expires: k.opts.Now().Add(k.opts.CacheTTL)}, nil
}

func (k *Keyring) put(scope string, sk *scopeKeys) {
	k.mu.Lock()
	k.cache[scope] = sk
	k.mu.Unlock()
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
	if !store.ValidTenantID(scope) {
		return nil, fmt.Errorf("%w: invalid scope %q", ErrNoKey, scope)
	}
	rec := new(keyRecord)
	err := k.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(rec).Where("tenant_id = ?", scope).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("load data key: %w", err)
	}
	if rec.DestroyedAt != nil || rec.AEADKeyset == nil {
		k.put(scope, &scopeKeys{destroyed: true, expires: k.opts.Now().Add(k.opts.CacheTTL)})
		return nil, ErrKeyDestroyed
	}
	master := k.currentMaster()
	ah, err := unwrap(rec.AEADKeyset, master, aeadAD(scope))
	if err != nil {
		return nil, err
	}
	ph, err := unwrap(rec.PRFKeyset, master, prfAD(scope))
	if err != nil {
		return nil, err
	}
	sk, err = k.primitives(ah, ph)
	if err != nil {
		return nil, err
	}
	k.put(scope, sk)
	return sk, nil
}

// Seal encrypts plaintext with scope's data key. associatedData must name
// where the value lives (table, column, row id) so that a ciphertext cannot
// be moved to another row; Open needs the same bytes.
func (k *Keyring) Seal(ctx context.Context, scope string, plaintext, associatedData []byte) ([]byte, error) {
	sk, err := k.keys(ctx, scope)
	if err != nil {
		return nil, err
	}
	ct, err := sk.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return ct, nil
}

// ErrOpen is returned when a ciphertext does not open: it was altered,
// belongs to another scope or row, or its key was rotated away.
var ErrOpen = errors.New("ciphertext does not open")

// Open decrypts a ciphertext made by Seal for the same scope and
// associated data.
func (k *Keyring) Open(ctx context.Context, scope string, ciphertext, associatedData []byte) ([]byte, error) {
	sk, err := k.keys(ctx, scope)
	if err != nil {
		return nil, err
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

// BlindIndex returns a 32-byte keyed digest of value for equality look-ups
// of sealed values: equal values in the same scope and domain give equal
// indexes; nothing else about the value can be learnt from it. domain
// separates uses (e.g. "user.email"). Normalise value first (e.g. lower-case
// an e-mail address).
func (k *Keyring) BlindIndex(ctx context.Context, scope, domain string, value []byte) ([]byte, error) {
	sk, err := k.keys(ctx, scope)
	if err != nil {
		return nil, err
	}
	in := make([]byte, 0, 2+len(domain)+len(value))
	in = append(in, byte(len(domain)>>8), byte(len(domain)))
	in = append(in, domain...)
	in = append(in, value...)
	out, err := sk.prf.ComputePrimaryPRF(in, 32)
	if err != nil {
		return nil, fmt.Errorf("blind index: %w", err)
	}
	return out, nil
}

// RotateDataKey adds a new primary AES-256-GCM key to scope's data keyset:
// new data is sealed with it, existing ciphertexts stay readable.
func (k *Keyring) RotateDataKey(ctx context.Context, scope string) error {
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
		if rec.DestroyedAt != nil || rec.AEADKeyset == nil {
			return ErrKeyDestroyed
		}
		master := k.currentMaster()
		ah, err := unwrap(rec.AEADKeyset, master, aeadAD(scope))
		if err != nil {
			return err
		}
		ph, err := unwrap(rec.PRFKeyset, master, prfAD(scope))
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
			return fmt.Errorf("rotate data key: %w", err)
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
// primary key in one transaction and makes newMaster the keyring's master
// key. It returns the number of records re-wrapped. newMaster must still
// hold the key that wrapped them (MasterKey.Rotated keeps old keys), so the
// key file can be replaced before the records are: a crash in between
// leaves both readable.
func (k *Keyring) RotateMaster(ctx context.Context, newMaster *MasterKey) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	err := k.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var recs []keyRecord
		q := tx.NewSelect().Model(&recs).Where("destroyed_at IS NULL").Order("tenant_id")
		if k.db.Dialect() == store.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("load data keys: %w", err)
		}
		for i := range recs {
			r := &recs[i]
			ah, err := unwrap(r.AEADKeyset, newMaster, aeadAD(r.TenantID))
			if err != nil {
				return fmt.Errorf("scope %s: %w", r.TenantID, err)
			}
			ph, err := unwrap(r.PRFKeyset, newMaster, prfAD(r.TenantID))
			if err != nil {
				return fmt.Errorf("scope %s: %w", r.TenantID, err)
			}
			if r.AEADKeyset, err = wrap(ah, newMaster, aeadAD(r.TenantID)); err != nil {
				return err
			}
			if r.PRFKeyset, err = wrap(ph, newMaster, prfAD(r.TenantID)); err != nil {
				return err
			}
			if _, err := tx.NewUpdate().Model(r).Column("aead_keyset", "prf_keyset").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("store re-wrapped key of %s: %w", r.TenantID, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	k.master = newMaster
	return n, nil
}

// Destroy crypto-shreds scope inside the caller's system transaction: the
// wrapped keysets are overwritten with NULL and destroyed_at is set. Once
// the transaction commits, nothing sealed for scope can be opened again,
// here or from any backup. Other hosts stop using their cached copy within
// Options.CacheTTL.
func (k *Keyring) Destroy(ctx context.Context, tx bun.Tx, scope string) error {
	if scope == PlatformScope {
		return errors.New("destroy key: the platform key cannot be destroyed")
	}
	now := k.opts.Now().UTC().Truncate(time.Microsecond)
	res, err := tx.NewUpdate().Model((*keyRecord)(nil)).
		Set("aead_keyset = NULL").Set("prf_keyset = NULL").Set("destroyed_at = ?", now).
		Where("tenant_id = ?", scope).Where("destroyed_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("destroy key of %s: %w", scope, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("destroy key of %s: %w", scope, ErrNoKey)
	}
	k.put(scope, &scopeKeys{destroyed: true, expires: k.opts.Now().Add(k.opts.CacheTTL)})
	return nil
}
