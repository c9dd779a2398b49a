package sdk

import (
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// ErrInvalid is wrapped by decoding errors for values the wire carries
// intact but the hook does not allow: an unknown enum value (a decision,
// a verdict, a severity), an invalid Rational, a negative count. Errors
// of the encoding itself wrap the wire package's errors (wire.ErrShort,
// …).
var ErrInvalid = errors.New("invalid value")

// Encoder is implemented by every hook input and output: it appends the
// value's wire encoding to w.
type Encoder interface {
	AppendWire(w *wire.Writer)
}

// Decoder is implemented by every hook input and output: it replaces the
// value with the one r holds, reusing the value's slices, and requires r
// to end with it. Strings and bytes are copies or views of r's input as r
// is a copying or a shared Reader (see package wire).
type Decoder interface {
	ReadWire(r *wire.Reader) error
}

// Encode returns v's wire encoding in a new slice.
func Encode(v Encoder) []byte {
	var w wire.Writer
	v.AppendWire(&w)
	return w.Bytes()
}

// Decode decodes b into v with a copying Reader: v shares nothing with b.
func Decode(b []byte, v Decoder) error {
	var r wire.Reader
	r.Reset(b)
	return v.ReadWire(&r)
}

// invalid records on r that field holds a value the hook does not allow.
func invalid(r *wire.Reader, field string, v any) {
	if r.Err() == nil {
		r.Fail(fmt.Errorf("%s %v: %w", field, v, ErrInvalid))
	}
}

// finish checks that r ended cleanly and names the value in the error.
func finish(r *wire.Reader, what string) error {
	if err := r.End(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// resize returns s with length n, reusing its array when it is big
// enough. Elements kept from earlier use must be overwritten by the
// caller.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

func appendStrings(w *wire.Writer, ss []string) {
	w.Uint(uint64(len(ss)))
	for _, s := range ss {
		w.String(s)
	}
}

func readStrings(r *wire.Reader, dst []string) []string {
	dst = resize(dst, r.Len(1))
	for i := range dst {
		dst[i] = r.String()
	}
	return dst
}

func appendRational(w *wire.Writer, q Rational) {
	w.Int(q.Num)
	w.Int(q.Den)
}

func readRational(r *wire.Reader, field string) Rational {
	q := Rational{Num: r.Int(), Den: r.Int()}
	if !q.Valid() {
		invalid(r, field, q)
	}
	return q
}

// readCount reads a non-negative integer.
func readCount(r *wire.Reader, field string) int64 {
	v := r.Int()
	if v < 0 {
		invalid(r, field, v)
	}
	return v
}
