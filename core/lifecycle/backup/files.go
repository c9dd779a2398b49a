package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/plenum-vote/plenum/core/store"
)

// FileExt names backup files in a backup directory.
const FileExt = ".plenum-backup"

// EnvKey holds a base64 backup key that overrides the key file.
const EnvKey = "PLENUM_BACKUP_KEY"

// LoadKey returns the key given in envValue (base64), or the one in the
// key file at path; with generate, a missing file is created, and created
// says so (the operator must keep a copy apart from the backups).
func LoadKey(envValue, path string, generate bool) (key []byte, created bool, err error) {
	if envValue != "" {
		k, err := ParseKey(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return k, false, nil
	}
	k, err := LoadKeyFile(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if !generate {
		return nil, false, fmt.Errorf("no backup key: put the backup.key of the installation that made the backup at %s or set %s", path, EnvKey)
	}
	if k, err = GenerateKey(); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("key directory: %w", err)
	}
	if err := WriteKeyFile(path, k); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// WriteFile writes a backup of db to path through a temporary file beside
// it, linked into place when complete, so path never holds half a backup;
// an existing path is refused.
func WriteFile(ctx context.Context, db *store.DB, path string, key []byte) (*Manifest, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s already exists", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".partial-*"+FileExt)
	if err != nil {
		return nil, fmt.Errorf("write backup: %w", err)
	}
	tmp := f.Name()
	m, err := Create(ctx, db, f, key, CreateOptions{})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write backup: %w", cerr)
	}
	if err == nil {
		if err = os.Link(tmp, path); err != nil {
			err = fmt.Errorf("write backup: %w", err)
		}
	}
	_ = os.Remove(tmp)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// NewName returns the file name of a backup made at t.
func NewName(t time.Time) string {
	return "plenum-" + t.UTC().Format("20060102T150405Z") + FileExt
}

// File is a backup file in a directory.
type File struct {
	Path    string
	Size    int64
	ModTime time.Time
}

// List returns the backup files in dir, newest first.
func List(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), FileExt) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, File{Path: filepath.Join(dir, e.Name()), Size: info.Size(), ModTime: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ModTime.After(out[j].ModTime) })
	return out, nil
}

// Prune removes the backups in dir older than keep, never the newest one,
// and returns the paths removed.
func Prune(dir string, keep time.Duration, now time.Time) ([]string, error) {
	files, err := List(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for i, f := range files {
		if i == 0 || now.Sub(f.ModTime) <= keep {
			continue
		}
		if err := os.Remove(f.Path); err != nil {
			return removed, fmt.Errorf("remove old backup: %w", err)
		}
		removed = append(removed, f.Path)
	}
	return removed, nil
}
