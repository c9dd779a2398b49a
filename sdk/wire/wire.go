// Package wire is the compact binary encoding of Plenum's hook inputs and
// outputs: unsigned and signed varints, length-prefixed strings and bytes,
// no reflection. Plugins decode it in a few hundred nanoseconds where
// encoding/json inside a wasm guest takes tens of microseconds.
//
// A Reader never panics and never allocates more than the input could
// describe: every length is checked against the bytes that remain.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"unsafe"
)

// ErrShort is the Reader's error when the input ends before a value does.
var ErrShort = errors.New("wire: input ends inside a value")

// ErrOverflow is the Reader's error for a varint longer than 64 bits.
var ErrOverflow = errors.New("wire: varint overflows 64 bits")

// Writer appends values to a byte slice that can be reused.
type Writer struct {
	buf []byte
}

// Reset empties the writer, keeping its buffer.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Bytes returns the encoded bytes; they stay valid until the next write or
// Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Uint appends an unsigned varint.
func (w *Writer) Uint(v uint64) {
	if v < 0x80 {
		w.buf = append(w.buf, byte(v))
		return
	}
	w.buf = binary.AppendUvarint(w.buf, v)
}

// Int appends a zig-zag signed varint.
func (w *Writer) Int(v int64) {
	if u := uint64(v<<1) ^ uint64(v>>63); u < 0x80 {
		w.buf = append(w.buf, byte(u))
		return
	}
	w.buf = binary.AppendVarint(w.buf, v)
}

// Bool appends a boolean as one byte.
func (w *Writer) Bool(v bool) {
	if v {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// String appends a length-prefixed string.
func (w *Writer) String(s string) {
	if len(s) < 0x80 {
		w.buf = append(w.buf, byte(len(s)))
	} else {
		w.buf = binary.AppendUvarint(w.buf, uint64(len(s)))
	}
	w.buf = append(w.buf, s...)
}

// Blob appends length-prefixed bytes.
func (w *Writer) Blob(b []byte) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// Reader reads values in the order a Writer wrote them. After the first
// error every read returns a zero value and Err reports the error.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Reset makes r read b from the start, clearing any error.
func (r *Reader) Reset(b []byte) { r.b, r.off, r.err = b, 0, nil }

// Err returns the first error met.
func (r *Reader) Err() error { return r.err }

// Remaining returns how many bytes are left.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.off = len(r.b)
}

// Uint reads an unsigned varint.
func (r *Reader) Uint() uint64 {
	// Fast path: most lengths and counts fit in one byte. In a wasm guest
	// every call is expensive, so the common case avoids one.
	if r.off < len(r.b) && r.b[r.off] < 0x80 && r.err == nil {
		v := uint64(r.b[r.off])
		r.off++
		return v
	}
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail(ErrShort)
		return 0
	case n < 0:
		r.fail(ErrOverflow)
		return 0
	}
	r.off += n
	return v
}

// Int reads a zig-zag signed varint.
func (r *Reader) Int() int64 {
	if r.off < len(r.b) && r.b[r.off] < 0x80 && r.err == nil {
		u := uint64(r.b[r.off])
		r.off++
		return int64(u>>1) ^ -int64(u&1)
	}
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail(ErrShort)
		return 0
	case n < 0:
		r.fail(ErrOverflow)
		return 0
	}
	r.off += n
	return v
}

// Bool reads a boolean; any byte other than 0 and 1 is an error.
func (r *Reader) Bool() bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.b) {
		r.fail(ErrShort)
		return false
	}
	c := r.b[r.off]
	r.off++
	if c > 1 {
		r.fail(errors.New("wire: boolean byte is neither 0 nor 1"))
		return false
	}
	return c == 1
}

// Len reads a count of items that each take at least minSize bytes,
// refusing counts the remaining input cannot hold, so a hostile count
// cannot make the caller allocate.
func (r *Reader) Len(minSize int) int {
	n := r.Uint()
	if minSize < 1 {
		minSize = 1
	}
	if r.err == nil && n > uint64(r.Remaining()/minSize) {
		r.fail(ErrShort)
		return 0
	}
	if n > math.MaxInt32 {
		r.fail(ErrShort)
		return 0
	}
	return int(n)
}

// view returns the next n bytes without copying.
func (r *Reader) view() []byte {
	n := r.Uint()
	if r.err != nil {
		return nil
	}
	if n > uint64(r.Remaining()) {
		r.fail(ErrShort)
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

// String reads a length-prefixed string (a copy).
func (r *Reader) String() string { return string(r.view()) }

// StringView reads a length-prefixed string without copying: the string
// shares the Reader's input and is valid only while that input is neither
// changed nor reused. Plugins get their input this way, so a hook's input
// must not be kept past the call.
func (r *Reader) StringView() string {
	// Fast path for short strings: no call to Uint and view.
	if r.err == nil && r.off < len(r.b) {
		if n := int(r.b[r.off]); n < 0x80 && r.off+1+n <= len(r.b) {
			s := r.b[r.off+1 : r.off+1+n]
			r.off += 1 + n
			return unsafe.String(unsafe.SliceData(s), n)
		}
	}
	v := r.view()
	if len(v) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(v), len(v))
}

// BlobView reads length-prefixed bytes without copying, valid as long as
// the Reader's input (see StringView).
func (r *Reader) BlobView() []byte {
	v := r.view()
	if len(v) == 0 {
		return nil
	}
	return v
}

// Blob reads length-prefixed bytes (a copy; nil when empty).
func (r *Reader) Blob() []byte {
	v := r.view()
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// End reports an error if bytes remain unread: inputs must be exact.
func (r *Reader) End() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(errors.New("wire: trailing bytes after the value"))
	}
	return r.err
}
