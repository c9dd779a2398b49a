package backup

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// KeySize is the length of a backup key in bytes.
const KeySize = 32

// The encrypted container: a header, then segments of at most segmentSize
// plaintext bytes, each sealed with AES-256-GCM.
const (
	magic         = "PLENUMBK"
	cryptVersion  = 1
	segmentSize   = 64 << 10
	prefixSize    = 8
	keyCheckSize  = 16
	headerSize    = len(magic) + 1 + 4 + prefixSize + keyCheckSize
	segmentFinal  = 1
	segmentMiddle = 0
)

// ErrWrongKey is returned when a backup was encrypted with another key.
var ErrWrongKey = errors.New("backup: wrong backup key (or a damaged file header)")

// ErrCorrupt is returned when a backup is truncated, reordered or tampered
// with: a segment fails authentication or the final segment is missing.
var ErrCorrupt = errors.New("backup: file is truncated or has been tampered with")

// ErrNotBackup is returned for a file that is not a Plenum backup.
var ErrNotBackup = errors.New("backup: not a Plenum backup file")

// GenerateKey returns a new random backup key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate backup key: %w", err)
	}
	return k, nil
}

// ParseKey decodes a backup key from its base64 text form.
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("parse backup key: not base64: %w", err)
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("parse backup key: %d bytes, want %d", len(k), KeySize)
	}
	return k, nil
}

// LoadKeyFile reads a backup key written by WriteKeyFile.
func LoadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read backup key: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("backup key file %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile writes key in base64 to path with mode 0600. It refuses to
// overwrite an existing file, so a key that protects backups is never
// replaced by accident.
func WriteKeyFile(path string, key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("write backup key: %d bytes, want %d", len(key), KeySize)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write backup key: %w", err)
	}
	if _, err := io.WriteString(f, base64.StdEncoding.EncodeToString(key)+"\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("write backup key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write backup key %s: %w", path, err)
	}
	return nil
}

// subkeys derives the encryption key and the key-check key from the
// backup key, so that the key check reveals nothing about the cipher key.
func subkeys(key []byte) (enc, check []byte, err error) {
	if len(key) != KeySize {
		return nil, nil, fmt.Errorf("backup key is %d bytes, want %d", len(key), KeySize)
	}
	enc, err = hkdf.Key(sha256.New, key, nil, "plenum backup v1 encryption", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive backup keys: %w", err)
	}
	check, err = hkdf.Key(sha256.New, key, nil, "plenum backup v1 key check", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive backup keys: %w", err)
	}
	return enc, check, nil
}

func keyCheck(checkKey, head []byte) []byte {
	m := hmac.New(sha256.New, checkKey)
	m.Write(head)
	return m.Sum(nil)[:keyCheckSize]
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("backup cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("backup cipher: %w", err)
	}
	return aead, nil
}

// segmentCipher seals or opens the numbered segments of one stream.
type segmentCipher struct {
	aead    cipher.AEAD
	header  []byte
	prefix  []byte
	counter uint32
	nonce   [12]byte
	ad      []byte
}

func (s *segmentCipher) next(final bool) ([]byte, []byte, error) {
	if s.counter == ^uint32(0) {
		return nil, nil, errors.New("backup: too many segments")
	}
	copy(s.nonce[:prefixSize], s.prefix)
	binary.BigEndian.PutUint32(s.nonce[prefixSize:], s.counter)
	s.counter++
	s.ad = append(s.ad[:0], s.header...)
	if final {
		s.ad = append(s.ad, segmentFinal)
	} else {
		s.ad = append(s.ad, segmentMiddle)
	}
	return s.nonce[:], s.ad, nil
}

// encryptWriter encrypts what is written to it into segments. Close writes
// the final segment; without it the stream reads as truncated.
type encryptWriter struct {
	w   io.Writer
	sc  segmentCipher
	buf []byte
	out []byte
}

func newEncryptWriter(w io.Writer, key []byte) (*encryptWriter, error) {
	encKey, checkKey, err := subkeys(key)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(encKey)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 0, headerSize)
	head = append(head, magic...)
	head = append(head, cryptVersion)
	head = binary.BigEndian.AppendUint32(head, segmentSize)
	prefix := make([]byte, prefixSize)
	if _, err := rand.Read(prefix); err != nil {
		return nil, fmt.Errorf("backup nonce: %w", err)
	}
	head = append(head, prefix...)
	head = append(head, keyCheck(checkKey, head)...)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("write backup header: %w", err)
	}
	return &encryptWriter{
		w:   w,
		sc:  segmentCipher{aead: aead, header: head, prefix: prefix},
		buf: make([]byte, 0, segmentSize),
	}, nil
}

func (e *encryptWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(e.buf) == segmentSize {
			// More data follows, so this full segment is not the last.
			if err := e.flush(false); err != nil {
				return n, err
			}
		}
		c := copy(e.buf[len(e.buf):segmentSize], p)
		e.buf = e.buf[:len(e.buf)+c]
		p = p[c:]
		n += c
	}
	return n, nil
}

func (e *encryptWriter) flush(final bool) error {
	nonce, ad, err := e.sc.next(final)
	if err != nil {
		return err
	}
	e.out = e.sc.aead.Seal(e.out[:0], nonce, e.buf, ad)
	if _, err := e.w.Write(e.out); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	e.buf = e.buf[:0]
	return nil
}

// Close writes the final segment. It does not close the underlying writer.
func (e *encryptWriter) Close() error { return e.flush(true) }

// decryptReader authenticates and decrypts a stream written by
// encryptWriter. It returns io.EOF only after the final segment; a stream
// that ends early or has anything after the final segment is ErrCorrupt.
type decryptReader struct {
	r    *bufio.Reader
	sc   segmentCipher
	in   []byte
	out  []byte
	done bool
}

func newDecryptReader(r io.Reader, key []byte) (*decryptReader, error) {
	encKey, checkKey, err := subkeys(key)
	if err != nil {
		return nil, err
	}
	head := make([]byte, headerSize)
	if n, err := io.ReadFull(r, head); err != nil {
		if n >= len(magic) && string(head[:len(magic)]) == magic {
			return nil, fmt.Errorf("%w: header cut short", ErrCorrupt)
		}
		return nil, fmt.Errorf("%w: %d bytes", ErrNotBackup, n)
	}
	if string(head[:len(magic)]) != magic {
		return nil, ErrNotBackup
	}
	if v := head[len(magic)]; v != cryptVersion {
		return nil, fmt.Errorf("%w: encryption format version %d, this plenum reads %d", ErrNotBackup, v, cryptVersion)
	}
	if size := binary.BigEndian.Uint32(head[len(magic)+1:]); size != segmentSize {
		return nil, fmt.Errorf("%w: segment size %d, want %d", ErrCorrupt, size, segmentSize)
	}
	body := head[:headerSize-keyCheckSize]
	if !hmac.Equal(keyCheck(checkKey, body), head[headerSize-keyCheckSize:]) {
		return nil, ErrWrongKey
	}
	aead, err := newGCM(encKey)
	if err != nil {
		return nil, err
	}
	prefix := bytes.Clone(head[len(magic)+1+4 : len(magic)+1+4+prefixSize])
	return &decryptReader{
		r:  bufio.NewReaderSize(r, segmentSize+64),
		sc: segmentCipher{aead: aead, header: head, prefix: prefix},
		in: make([]byte, segmentSize+aead.Overhead()),
	}, nil
}

func (d *decryptReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.done {
			return 0, io.EOF
		}
		if err := d.nextSegment(); err != nil {
			return 0, err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *decryptReader) nextSegment() error {
	n, err := io.ReadFull(d.r, d.in)
	final := false
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		final = true
	case err != nil:
		return fmt.Errorf("read backup: %w", err)
	default:
		if _, perr := d.r.Peek(1); perr == io.EOF {
			final = true
		} else if perr != nil {
			return fmt.Errorf("read backup: %w", perr)
		}
	}
	if n < d.sc.aead.Overhead() {
		return fmt.Errorf("%w: final segment missing", ErrCorrupt)
	}
	nonce, ad, err := d.sc.next(final)
	if err != nil {
		return err
	}
	plain, err := d.sc.aead.Open(d.in[:0], nonce, d.in[:n], ad)
	if err != nil {
		if final {
			return fmt.Errorf("%w: segment %d does not authenticate (cut short or altered)", ErrCorrupt, d.sc.counter-1)
		}
		return fmt.Errorf("%w: segment %d does not authenticate", ErrCorrupt, d.sc.counter-1)
	}
	d.out = plain
	d.done = final
	return nil
}
