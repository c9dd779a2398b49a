package crypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// MasterKey is the key-encryption key: a Tink AES-256-GCM keyset whose
// primary key wraps new data-key records and whose other keys still unwrap
// older ones. A MasterKey is immutable and safe for concurrent use; its
// String method names key ids only, never key material.
type MasterKey struct {
	handle *keyset.Handle
	aead   tink.AEAD
}

func newMasterKey(h *keyset.Handle) (*MasterKey, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("not a Tink AEAD keyset (%w)", err)
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

// String describes the key without revealing it, so that a MasterKey that
// reaches a log by mistake leaks nothing.
func (m *MasterKey) String() string {
	return fmt.Sprintf("crypto.MasterKey{primary: %d, keys: %d}", m.PrimaryID(), m.Len())
}

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
		return nil, fmt.Errorf("not a Tink JSON keyset (%w)", err)
	}
	return newMasterKey(h)
}

// ParseMasterKey reads a master key given as the base64 of its JSON
// keyset — the form of PLENUM_MASTER_KEY and of MasterKey.Base64.
// Whitespace (such as the line breaks of `base64` output) is ignored.
func ParseMasterKey(b64 string) (*MasterKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, errors.New("master key is not valid base64: give the base64 of a master key file (base64 -w0 master.key)")
	}
	k, err := parseMasterJSON(b)
	if err != nil {
		return nil, fmt.Errorf("master key decodes from base64 but is %w: give the base64 of a master key file (base64 -w0 master.key)", err)
	}
	return k, nil
}

// LoadMasterKeyFile reads the master key from path. The file must be a
// regular file that group and others can neither read nor write (mode
// 0600 or stricter).
func LoadMasterKeyFile(path string) (*MasterKey, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("master key file %s does not exist: restore it from your backup or set PLENUM_MASTER_KEY", path)
	}
	if err != nil {
		return nil, fmt.Errorf("master key file %s cannot be read: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s is not a regular file: point the configuration at the key file itself", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is accessible to group or others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file %s cannot be read: %w", path, err)
	}
	k, err := parseMasterJSON(b)
	if err != nil {
		return nil, fmt.Errorf("master key file %s is %w: restore the file from your backup", path, err)
	}
	return k, nil
}

// GenerateMasterKeyFile writes a new master key to path with 0600
// permissions. It refuses to replace an existing file, even one created
// between the check and the write: the key is written to a temporary file
// and hard-linked into place, which fails when path exists.
func GenerateMasterKeyFile(path string) error {
	k, err := NewMasterKey()
	if err != nil {
		return err
	}
	b, err := k.marshal()
	if err != nil {
		return err
	}
	return writeKeyFile(path, b, false)
}

// WriteFile writes the master key to path with 0600 permissions,
// replacing the file there atomically: a crash leaves either the old file
// or the new one, never a mix. `plenum keys rotate` uses it to store the
// output of Rotated before calling Keyring.RotateMaster.
func (m *MasterKey) WriteFile(path string) error {
	b, err := m.marshal()
	if err != nil {
		return err
	}
	return writeKeyFile(path, b, true)
}

// writeKeyFile writes b to a temporary file with 0600 permissions in the
// directory of path, syncs it, and moves it to path: by rename when
// replace is set, otherwise by hard link, which refuses an existing path.
func writeKeyFile(path string, b []byte, replace bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".master-key-*")
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot write master key file %s: directory %s does not exist: create it first", path, dir)
	}
	if err != nil {
		return fmt.Errorf("cannot write master key file %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link or rename, only the temporary name goes
	fail := func(err error) error {
		_ = f.Close()
		return fmt.Errorf("cannot write master key file %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write master key file %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			// A file system without hard links: check, then rename.
			if _, serr := os.Lstat(path); serr == nil {
				err = fs.ErrExist
			} else {
				err = os.Rename(tmp, path)
			}
		}
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("master key file %s already exists: refusing to replace it (move it away first if you really mean to start over)", path)
		}
	}
	if err != nil {
		return fmt.Errorf("cannot write master key file %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable. Failure is ignored: not
// every platform can sync a directory, and the file itself is synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
