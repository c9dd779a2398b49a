package backup

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func seal(t *testing.T, key, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	ew, err := newEncryptWriter(&buf, key)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes cross segment boundaries.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7777)
		if _, err := ew.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(key, file []byte) ([]byte, error) {
	dr, err := newDecryptReader(bytes.NewReader(file), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(dr)
}

func TestSegments(t *testing.T) {
	key := mustKey(t)
	for _, size := range []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 3 * segmentSize, 3*segmentSize + 5} {
		plain := make([]byte, size)
		if _, err := rand.Read(plain); err != nil {
			t.Fatal(err)
		}
		file := seal(t, key, plain)
		segs := size/segmentSize + 1
		if size > 0 && size%segmentSize == 0 {
			segs = size / segmentSize
		}
		if want := headerSize + size + segs*16; len(file) != want {
			t.Errorf("size %d: file of %d bytes, want %d", size, len(file), want)
		}
		got, err := open(key, file)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip failed: %v", size, err)
		}
		// Every cut short of the end is detected, segment boundaries included.
		for cut := headerSize; cut < len(file); cut += segmentSize + 16 {
			for _, c := range []int{cut, cut + 1, cut + 16} {
				if c >= len(file) {
					continue
				}
				if _, err := open(key, file[:c]); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("size %d cut at %d: err = %v, want ErrCorrupt", size, c, err)
				}
			}
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.key")
	key := mustKey(t)
	if err := WriteKeyFile(path, key); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	got, err := LoadKeyFile(path)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("load: %v", err)
	}
	if err := WriteKeyFile(path, mustKey(t)); err == nil {
		t.Error("an existing key file was overwritten")
	}
	tests := []struct{ name, content string }{
		{"not base64", "!!!"},
		{"too short", "AAAA"},
		{"empty", ""},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(p); err == nil {
			t.Errorf("%s: key accepted", tt.name)
		}
	}
	if err := WriteKeyFile(filepath.Join(dir, "short"), []byte("x")); err == nil {
		t.Error("a short key was written")
	}
}
