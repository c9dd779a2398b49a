package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.Uint(0)
	w.Uint(math.MaxUint64)
	w.Int(-1)
	w.Int(math.MinInt64)
	w.Bool(true)
	w.String("héllo")
	w.Blob([]byte{0, 1, 2})
	w.String("")
	r := NewReader(bytes.Clone(w.Bytes()))
	if r.Uint() != 0 || r.Uint() != math.MaxUint64 || r.Int() != -1 || r.Int() != math.MinInt64 || !r.Bool() ||
		r.String() != "héllo" || !bytes.Equal(r.Blob(), []byte{0, 1, 2}) || r.String() != "" {
		t.Fatal("values differ")
	}
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader)
	}{
		{"empty uint", nil, func(r *Reader) { r.Uint() }},
		{"overlong varint", bytes.Repeat([]byte{0xff}, 11), func(r *Reader) { r.Uint() }},
		{"string longer than input", []byte{10, 'a'}, func(r *Reader) { _ = r.String() }},
		{"huge count", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, func(r *Reader) { r.Len(1) }},
		{"bad bool", []byte{2}, func(r *Reader) { r.Bool() }},
		{"trailing", []byte{1, 2}, func(r *Reader) { r.Uint(); _ = r.End() }},
	}
	for _, tt := range tests {
		r := NewReader(tt.in)
		tt.read(r)
		if r.Err() == nil {
			t.Errorf("%s: no error", tt.name)
		}
		// Reads after an error return zero values.
		if r.Uint() != 0 || r.String() != "" {
			t.Errorf("%s: read after error returned data", tt.name)
		}
	}
	if r := NewReader([]byte{3}); r.Len(1) != 0 || !errors.Is(r.Err(), ErrShort) {
		t.Error("count beyond the input accepted")
	}
}

func FuzzReader(f *testing.F) {
	var w Writer
	w.Uint(7)
	w.String("seed")
	w.Bool(false)
	f.Add(bytes.Clone(w.Bytes()))
	f.Add([]byte{})
	f.Add([]byte{0x80, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		for i := 0; i < 64 && r.Err() == nil && r.Remaining() > 0; i++ {
			switch i % 5 {
			case 0:
				r.Uint()
			case 1:
				_ = r.String()
			case 2:
				n := r.Len(2)
				for j := 0; j < n; j++ {
					r.Int()
				}
			case 3:
				r.Bool()
			case 4:
				_ = r.Blob()
			}
		}
	})
}
