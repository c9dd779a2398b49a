package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Signer signs checkpoints with an ed25519 key.
type Signer struct {
	key   ed25519.PrivateKey
	keyID string
}

// NewSigner wraps an ed25519 private key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	pub := key.Public().(ed25519.PublicKey)
	return &Signer{key: key, keyID: keyID(pub)}
}

// KeyID names the signer's key: the first 8 bytes of the SHA-256 of the
// public key, in hex.
func (s *Signer) KeyID() string { return s.keyID }

func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// LoadOrCreateSigningKey reads the ed25519 signing key at path (base64 of
// the 32-byte seed), creating it with 0600 permissions when it does not
// exist. A file readable by group or others is refused.
func LoadOrCreateSigningKey(path string) (*Signer, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate audit signing key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create audit signing key: %w", err)
		}
		if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key.Seed()) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write audit signing key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write audit signing key: %w", err)
		}
		return NewSigner(key), nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit signing key %s is accessible to other users (mode %04o): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit signing key %s is not a base64 ed25519 seed", path)
	}
	return NewSigner(ed25519.NewKeyFromSeed(seed)), nil
}

// signingKey is a registered public key.
type signingKey struct {
	bun.BaseModel `bun:"table:audit_signing_keys"`
	KeyID         string    `bun:"key_id,pk"`
	PublicKey     []byte    `bun:"public_key,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// Checkpoint is a signed statement of a chain's head.
type Checkpoint struct {
	bun.BaseModel `bun:"table:audit_checkpoints"`
	store.Owned
	Seq       int64     `bun:"seq,pk"`
	Hash      []byte    `bun:"hash,notnull"`
	At        time.Time `bun:"at,notnull"`
	KeyID     string    `bun:"key_id,notnull"`
	Signature []byte    `bun:"signature,notnull"`
}

// checkpointMessage is what a checkpoint signs.
func checkpointMessage(c *Checkpoint) []byte {
	b := appendString(nil, "plenum-audit-checkpoint-v1")
	b = appendString(b, c.TenantID)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Seq))
	b = appendBytes(b, c.Hash)
	b = binary.BigEndian.AppendUint64(b, uint64(c.At.UnixMicro()))
	return b
}

func (l *Log) registerKey(ctx context.Context) error {
	return l.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		k := &signingKey{
			KeyID:     l.signer.keyID,
			PublicKey: l.signer.key.Public().(ed25519.PublicKey),
			CreatedAt: l.now().UTC().Truncate(time.Microsecond),
		}
		if _, err := tx.NewInsert().Model(k).On("CONFLICT (key_id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("register audit signing key: %w", err)
		}
		return nil
	})
}

// Checkpoint signs the head of every chain that advanced since its last
// checkpoint and returns how many it signed.
func (l *Log) Checkpoint(ctx context.Context) (int, error) {
	if l.signer == nil {
		return 0, errors.New("audit checkpoint: no signing key")
	}
	n := 0
	err := l.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var heads []head
		err := tx.NewRaw(`SELECT h.tenant_id, h.seq, h.hash FROM audit_heads AS h
			WHERE h.seq > COALESCE((SELECT MAX(c.seq) FROM audit_checkpoints AS c WHERE c.tenant_id = h.tenant_id), 0)
			ORDER BY h.tenant_id`).Scan(ctx, &heads)
		if err != nil {
			return fmt.Errorf("read audit heads: %w", err)
		}
		at := l.now().UTC().Truncate(time.Microsecond)
		for i := range heads {
			c := &Checkpoint{Owned: heads[i].Owned, Seq: heads[i].Seq, Hash: heads[i].Hash, At: at, KeyID: l.signer.keyID}
			c.Signature = ed25519.Sign(l.signer.key, checkpointMessage(c))
			// A concurrent Checkpoint on another host may have signed the
			// same head already; that is the same statement, so skip it.
			res, err := tx.NewInsert().Model(c).On("CONFLICT (tenant_id, seq) DO NOTHING").Exec(ctx)
			if err != nil {
				return fmt.Errorf("store checkpoint of %s: %w", c.TenantID, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
			}
		}
		return nil
	})
	return n, err
}
