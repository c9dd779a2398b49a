// Package wire is the compact binary encoding of Plenum's hook inputs and
// outputs: unsigned and zig-zag signed varints, one-byte booleans and
// length-prefixed strings and bytes, written and read in a fixed order by
// hand-written methods, with no reflection and no field tags. A plugin
// decodes a tally input in well under a microsecond where encoding/json
// inside a wasm guest takes tens of microseconds.
//
// A Writer appends to a byte slice it keeps between uses (Reset), so a
// warm encoder does not allocate.
//
// A Reader never panics and never allocates more than its input could
// describe: every length and every count is checked against the bytes
// that remain before anything is allocated. After the first error every
// read returns a zero value, so a decoder can read a whole value and check
// Err (or End) once.
//
// # Copies and views
//
// A Reader made by NewReader or Reset copies every string and byte slice
// it returns: the values outlive the input. A Reader made by
// NewSharedReader or ResetShared returns views of its input instead, valid
// only while that input is neither changed nor reused. The sdk's guest
// side reads hook inputs shared (the input buffer belongs to the guest and
// lives for the call); hosts and tests should use the copying default.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"unsafe"
)

// Errors a Reader reports (wrapped by the decoders built on it).
var (
	// ErrShort means the input ends inside a value, or a length or count
	// claims more than the input holds.
	ErrShort = errors.New("wire: input ends inside a value")
	// ErrOverflow means a varint is longer than 64 bits.
	ErrOverflow = errors.New("wire: varint overflows 64 bits")
	// ErrBool means a boolean byte is neither 0 nor 1.
	ErrBool = errors.New("wire: boolean byte is neither 0 nor 1")
	// ErrTrailing means bytes remain after the value: inputs are exact.
	ErrTrailing = errors.New("wire: trailing bytes after the value")
)

// Writer appends values to a byte slice that is reused after Reset. The
// zero value is ready to use.
type Writer struct {
	buf []byte
}

// NewWriter returns a Writer that starts with buf's capacity (buf's
// contents are discarded).
func NewWriter(buf []byte) *Writer { return &Writer{buf: buf[:0]} }

// Reset empties the writer, keeping its buffer.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Bytes returns the encoded bytes. They share the Writer's buffer and stay
// valid until the next write or Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of bytes written since the last Reset.
func (w *Writer) Len() int { return len(w.buf) }

// Uint appends an unsigned varint.
func (w *Writer) Uint(v uint64) {
	if v < 0x80 {
		w.buf = append(w.buf, byte(v))
		return
	}
	w.buf = binary.AppendUvarint(w.buf, v)
}

// Int appends a zig-zag signed varint: small magnitudes of either sign
// take one byte.
func (w *Writer) Int(v int64) {
	if u := uint64(v<<1) ^ uint64(v>>63); u < 0x80 {
		w.buf = append(w.buf, byte(u))
		return
	}
	w.buf = binary.AppendVarint(w.buf, v)
}

// Bool appends a boolean as one byte, 0 or 1.
func (w *Writer) Bool(v bool) {
	var b byte
	if v {
		b = 1
	}
	w.buf = append(w.buf, b)
}

// String appends a length-prefixed string.
func (w *Writer) String(s string) {
	w.Uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// Blob appends length-prefixed bytes. Nil and empty encode alike.
func (w *Writer) Blob(b []byte) {
	w.Uint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// Reader reads values in the order a Writer wrote them. The zero value
// reads an empty input.
type Reader struct {
	b      []byte
	off    int
	err    error
	shared bool
}

// NewReader returns a Reader over b whose strings and byte slices are
// copies.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// NewSharedReader returns a Reader over b whose strings and byte slices
// are views of b, valid only while b is neither changed nor reused.
func NewSharedReader(b []byte) *Reader { return &Reader{b: b, shared: true} }

// Reset makes r read b from the start, clearing any error; r copies what
// it returns.
func (r *Reader) Reset(b []byte) { *r = Reader{b: b} }

// ResetShared makes r read b from the start, clearing any error; r
// returns views of b (see NewSharedReader).
func (r *Reader) ResetShared(b []byte) { *r = Reader{b: b, shared: true} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Remaining returns how many bytes are left to read.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// Fail records err as r's error unless one is already recorded, and stops
// further reads. Decoders use it for semantic errors (an unknown enum
// value) so that End reports them.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.off = len(r.b)
}

// Uint reads an unsigned varint.
func (r *Reader) Uint() uint64 {
	// Fast path: most lengths and counts fit in one byte, and in a wasm
	// guest every call is dear. After an error off is at the end, so the
	// fast paths need no error check.
	if i := r.off; i < len(r.b) {
		if c := r.b[i]; c < 0x80 {
			r.off = i + 1
			return uint64(c)
		}
	}
	return r.uintSlow()
}

func (r *Reader) uintSlow() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.Fail(ErrShort)
		return 0
	case n < 0:
		r.Fail(ErrOverflow)
		return 0
	}
	r.off += n
	return v
}

// Int reads a zig-zag signed varint.
func (r *Reader) Int() int64 {
	if i := r.off; i < len(r.b) {
		if c := r.b[i]; c < 0x80 {
			r.off = i + 1
			return int64(c>>1) ^ -int64(c&1)
		}
	}
	return r.intSlow()
}

func (r *Reader) intSlow() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	switch {
	case n == 0:
		r.Fail(ErrShort)
		return 0
	case n < 0:
		r.Fail(ErrOverflow)
		return 0
	}
	r.off += n
	return v
}

// Bool reads a boolean; any byte other than 0 and 1 is ErrBool.
func (r *Reader) Bool() bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.b) {
		r.Fail(ErrShort)
		return false
	}
	c := r.b[r.off]
	r.off++
	if c > 1 {
		r.Fail(ErrBool)
		return false
	}
	return c == 1
}

// Len reads a count of items that each take at least minSize bytes on the
// wire (values below 1 count as 1), refusing counts the remaining input
// cannot hold: a hostile count cannot make the caller allocate more than
// the input's size allows.
func (r *Reader) Len(minSize int) int {
	n := r.Uint()
	if r.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(r.Remaining()/minSize) || n > math.MaxInt32 {
		r.Fail(ErrShort)
		return 0
	}
	return int(n)
}

// view returns the next length-prefixed bytes without copying.
func (r *Reader) view() []byte {
	n := r.Uint()
	if r.err != nil {
		return nil
	}
	if n > uint64(r.Remaining()) {
		r.Fail(ErrShort)
		return nil
	}
	v := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return v
}

// String reads a length-prefixed string: a copy, or a view for a shared
// Reader.
func (r *Reader) String() string {
	// Fast path: a short string of a shared Reader.
	if b, i := r.b, r.off; r.shared && i < len(b) {
		if n := int(b[i]); n < 0x80 && n < len(b)-i {
			r.off = i + 1 + n
			return unsafe.String(unsafe.SliceData(b[i+1:]), n)
		}
	}
	return r.stringSlow()
}

func (r *Reader) stringSlow() string {
	if r.shared {
		return r.StringView()
	}
	return string(r.view())
}

// StringView reads a length-prefixed string without copying, whatever the
// Reader's mode: the string shares the Reader's input and is valid only
// while that input is neither changed nor reused.
func (r *Reader) StringView() string {
	v := r.view()
	if len(v) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(v), len(v))
}

// Blob reads length-prefixed bytes: a copy, or a view for a shared
// Reader. Empty bytes read as nil.
func (r *Reader) Blob() []byte {
	v := r.view()
	if len(v) == 0 {
		return nil
	}
	if r.shared {
		return v
	}
	return append([]byte(nil), v...)
}

// BlobView reads length-prefixed bytes without copying, whatever the
// Reader's mode (see StringView). Empty bytes read as nil.
func (r *Reader) BlobView() []byte {
	v := r.view()
	if len(v) == 0 {
		return nil
	}
	return v
}

// End returns r's first error, or ErrTrailing if bytes remain unread.
func (r *Reader) End() error {
	if r.err == nil && r.off != len(r.b) {
		r.Fail(ErrTrailing)
	}
	return r.err
}
