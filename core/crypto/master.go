// Package crypto is Plenum's keyring: envelope encryption of personal data
// at rest.
//
// A master key, kept outside the database (a file with 0600 permissions or
// the PLENUM_MASTER_KEY environment variable), wraps one record of data
// keys per scope — each tenant, plus "platform" for the platform's own
// accounts. A record holds an AES-256-GCM keyset that seals fields and an
// HMAC-SHA256 PRF keyset that computes blind indexes for equality
// look-ups. Destroying a record makes everything sealed with it unreadable
// (crypto-shredding), in the live database and in every backup.
//
// # Why Tink
//
// The primitives come from Google's Tink (tink-crypto/tink-go) rather than
// hand-written AES-GCM: Tink keysets put a key id in front of every
// ciphertext, so a keyset can gain a new primary key (rotation) while
// older ciphertexts stay readable; its AEAD and PRF primitives are reviewed,
// pick nonces themselves and offer no unsafe options; and wrapping a keyset
// under another AEAD with associated data is a single call. The master key
// itself is a Tink AEAD keyset, so the master key rotates the same way.
package crypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// MasterKey is the key-encryption key: a Tink AES-256-GCM keyset whose
// primary key wraps new data-key records and whose other keys still unwrap
// older ones.
type MasterKey struct {
	handle *keyset.Handle
	aead   tink.AEAD
}

func newMasterKey(h *keyset.Handle) (*MasterKey, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("master key is not an AEAD keyset: %w", err)
	}
	return &MasterKey{handle: h, aead: a}, nil
}

// NewMasterKey generates a fresh master key.
func NewMasterKey() (*MasterKey, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return newMasterKey(h)
}

// Rotated returns a new master key that holds this one's keys plus a new
// primary key. Records wrapped by either can be unwrapped with it; new
// wraps use the new primary.
func (m *MasterKey) Rotated() (*MasterKey, error) {
	mgr := keyset.NewManagerFromHandle(m.handle)
	id, err := mgr.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("add master key: %w", err)
	}
	if err := mgr.SetPrimary(id); err != nil {
		return nil, fmt.Errorf("promote master key: %w", err)
	}
	h, err := mgr.Handle()
	if err != nil {
		return nil, fmt.Errorf("rotate master key: %w", err)
	}
	return newMasterKey(h)
}

// PrimaryID returns the id of the key that wraps new records.
func (m *MasterKey) PrimaryID() uint32 {
	return m.handle.KeysetInfo().GetPrimaryKeyId()
}

// Len returns the number of keys in the master keyset.
func (m *MasterKey) Len() int { return m.handle.Len() }

// marshal returns the cleartext JSON keyset.
func (m *MasterKey) marshal() ([]byte, error) {
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(m.handle, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, fmt.Errorf("encode master key: %w", err)
	}
	return buf.Bytes(), nil
}

// Base64 returns the master key in the form PLENUM_MASTER_KEY takes.
func (m *MasterKey) Base64() (string, error) {
	b, err := m.marshal()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func parseMasterJSON(b []byte) (*MasterKey, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(b)))
	if err != nil {
		return nil, fmt.Errorf("not a Tink keyset: %w", err)
	}
	return newMasterKey(h)
}

// ParseMasterKey reads a master key given as base64 of its JSON keyset,
// the form of PLENUM_MASTER_KEY.
func ParseMasterKey(b64 string) (*MasterKey, error) {
	b, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace([]byte(b64))))
	if err != nil {
		return nil, errors.New("master key is not valid base64")
	}
	k, err := parseMasterJSON(b)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return k, nil
}

// LoadMasterKeyFile reads the master key from path. The file must not be
// readable or writable by group or others.
func LoadMasterKeyFile(path string) (*MasterKey, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("master key file %s does not exist: restore it from your backup or set PLENUM_MASTER_KEY", path)
	}
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is accessible to other users (mode %04o): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	k, err := parseMasterJSON(b)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, nil
}

// GenerateMasterKeyFile writes a new master key to path with 0600
// permissions. It refuses to replace an existing file.
func GenerateMasterKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("master key file %s already exists: refusing to replace it", path)
	}
	k, err := NewMasterKey()
	if err != nil {
		return err
	}
	return k.WriteFile(path)
}

// WriteFile writes the master key to path with 0600 permissions,
// atomically: a crash leaves either the old file or the new one.
func (m *MasterKey) WriteFile(path string) error {
	b, err := m.marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".master-key-*")
	if err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write master key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write master key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	return nil
}
