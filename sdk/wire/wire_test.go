package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 300))
	var w Writer
	w.Uint(0)
	w.Uint(127)
	w.Uint(128)
	w.Uint(math.MaxUint64)
	w.Int(0)
	w.Int(-1)
	w.Int(63)
	w.Int(-64)
	w.Int(64)
	w.Int(math.MinInt64)
	w.Int(math.MaxInt64)
	w.Bool(true)
	w.Bool(false)
	w.String("héllo")
	w.String(long)
	w.Blob([]byte{0, 1, 2})
	w.String("")
	w.Blob(nil)
	for _, shared := range []bool{false, true} {
		r := NewReader(bytes.Clone(w.Bytes()))
		if shared {
			r = NewSharedReader(bytes.Clone(w.Bytes()))
		}
		got := []any{r.Uint(), r.Uint(), r.Uint(), r.Uint(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(),
			r.Bool(), r.Bool(), r.String(), r.String(), string(r.Blob()), r.String(), r.Blob() == nil}
		want := []any{uint64(0), uint64(127), uint64(128), uint64(math.MaxUint64), int64(0), int64(-1), int64(63), int64(-64), int64(64),
			int64(math.MinInt64), int64(math.MaxInt64), true, false, "héllo", long, "\x00\x01\x02", "", true}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("shared=%v value %d: got %v, want %v", shared, i, got[i], want[i])
			}
		}
		if err := r.End(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOneByteEncodings(t *testing.T) {
	tests := []struct {
		name  string
		write func(*Writer)
		size  int
	}{
		{"uint 127", func(w *Writer) { w.Uint(127) }, 1},
		{"uint 128", func(w *Writer) { w.Uint(128) }, 2},
		{"int -64", func(w *Writer) { w.Int(-64) }, 1},
		{"int 64", func(w *Writer) { w.Int(64) }, 2},
		{"short string", func(w *Writer) { w.String("yes") }, 4},
		{"bool", func(w *Writer) { w.Bool(true) }, 1},
	}
	for _, tt := range tests {
		var w Writer
		tt.write(&w)
		if w.Len() != tt.size {
			t.Errorf("%s: %d bytes, want %d", tt.name, w.Len(), tt.size)
		}
	}
}

func TestCopyAndShare(t *testing.T) {
	var w Writer
	w.String("abc")
	w.Blob([]byte("def"))
	in := bytes.Clone(w.Bytes())

	c := NewReader(in)
	cs, cb := c.String(), c.Blob()
	s := NewSharedReader(in)
	ss, sb := s.String(), s.Blob()
	for i := range in {
		in[i] = 'z'
	}
	if cs != "abc" || string(cb) != "def" {
		t.Errorf("copying reader returned views: %q %q", cs, cb)
	}
	if ss == "abc" || string(sb) == "def" {
		t.Errorf("shared reader copied: %q %q", ss, sb)
	}
	// A view's capacity ends with it: appending cannot overwrite the input.
	r := NewSharedReader([]byte{1, 'a', 'b'})
	v := r.BlobView()
	if cap(v) != 1 {
		t.Errorf("view capacity %d, want 1", cap(v))
	}
}

func TestWriterReuse(t *testing.T) {
	w := NewWriter(make([]byte, 0, 64))
	w.String("first")
	w.Reset()
	w.String("x")
	if !bytes.Equal(w.Bytes(), []byte{1, 'x'}) {
		t.Fatalf("after Reset: %v", w.Bytes())
	}
	allocs := testing.AllocsPerRun(100, func() {
		w.Reset()
		w.Uint(300)
		w.Int(-5)
		w.String("reused")
		w.Blob([]byte("buffer"))
	})
	if allocs != 0 {
		t.Errorf("warm writer allocates %.1f times", allocs)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader)
		want error
	}{
		{"empty uint", nil, func(r *Reader) { r.Uint() }, ErrShort},
		{"empty int", nil, func(r *Reader) { r.Int() }, ErrShort},
		{"empty bool", nil, func(r *Reader) { r.Bool() }, ErrShort},
		{"cut varint", []byte{0x80, 0x80}, func(r *Reader) { r.Uint() }, ErrShort},
		{"overlong uint", bytes.Repeat([]byte{0xff}, 11), func(r *Reader) { r.Uint() }, ErrOverflow},
		{"overlong int", bytes.Repeat([]byte{0xff}, 11), func(r *Reader) { r.Int() }, ErrOverflow},
		{"string longer than input", []byte{10, 'a'}, func(r *Reader) { _ = r.String() }, ErrShort},
		{"long string cut", []byte{0x80, 0x01, 'a'}, func(r *Reader) { _ = r.String() }, ErrShort},
		{"blob longer than input", []byte{2, 0}, func(r *Reader) { _ = r.Blob() }, ErrShort},
		{"huge string length", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, func(r *Reader) { _ = r.StringView() }, ErrShort},
		{"huge count", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, func(r *Reader) { r.Len(1) }, ErrShort},
		{"count beyond input", []byte{3, 0, 0}, func(r *Reader) { r.Len(1) }, ErrShort},
		{"count times size beyond input", []byte{2, 0, 0, 0}, func(r *Reader) { r.Len(2) }, ErrShort},
		{"bad bool", []byte{2}, func(r *Reader) { r.Bool() }, ErrBool},
		{"trailing", []byte{1, 2}, func(r *Reader) { r.Uint(); _ = r.End() }, ErrTrailing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.in)
			tt.read(r)
			if !errors.Is(r.Err(), tt.want) {
				t.Fatalf("error %v, want %v", r.Err(), tt.want)
			}
			// Reads after an error return zero values and keep the error.
			if r.Uint() != 0 || r.Int() != 0 || r.Bool() || r.String() != "" || r.Blob() != nil || r.Len(1) != 0 {
				t.Error("read after error returned data")
			}
			if !errors.Is(r.End(), tt.want) {
				t.Errorf("End = %v, want %v", r.End(), tt.want)
			}
		})
	}
	if r := NewReader([]byte{2, 0, 0}); r.Len(1) != 2 || r.Err() != nil {
		t.Error("count that fits refused")
	}
}

func TestFail(t *testing.T) {
	custom := errors.New("unknown verdict")
	r := NewReader([]byte{1, 2, 3})
	r.Fail(custom)
	r.Fail(ErrShort)
	if !errors.Is(r.End(), custom) || r.Remaining() != 0 {
		t.Fatalf("End = %v, remaining %d", r.End(), r.Remaining())
	}
}

// FuzzReader runs a program of reads chosen by the input's first bytes
// over the rest of it, with a copying and a sharing Reader, which must
// agree; nothing may panic, and no count may exceed what remains.
func FuzzReader(f *testing.F) {
	var w Writer
	w.Uint(7)
	w.String("seed")
	w.Bool(false)
	w.Int(-300)
	w.Blob([]byte{1, 2, 3})
	f.Add([]byte{0x01, 0x23, 0x40}, bytes.Clone(w.Bytes()))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{0x55}, []byte{0x80, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, prog, b []byte) {
		rc, rs := NewReader(b), NewSharedReader(b)
		for i := 0; i < 2*len(prog) && i < 256; i++ {
			op := prog[i/2] >> (4 * (i % 2)) & 0x0f
			switch op % 7 {
			case 0:
				if rc.Uint() != rs.Uint() {
					t.Fatal("Uint differs")
				}
			case 1:
				if rc.Int() != rs.Int() {
					t.Fatal("Int differs")
				}
			case 2:
				if rc.Bool() != rs.Bool() {
					t.Fatal("Bool differs")
				}
			case 3:
				if rc.String() != rs.String() {
					t.Fatal("String differs")
				}
			case 4:
				if !bytes.Equal(rc.Blob(), rs.Blob()) {
					t.Fatal("Blob differs")
				}
			case 5, 6:
				size := int(op%3) + 1
				before := rc.Remaining()
				n := rc.Len(size)
				if rs.Len(size) != n {
					t.Fatal("Len differs")
				}
				if n*size > before {
					t.Fatalf("count %d of %d-byte items accepted with %d bytes left", n, size, before)
				}
			}
			if (rc.Err() == nil) != (rs.Err() == nil) || rc.Remaining() != rs.Remaining() {
				t.Fatal("readers diverge")
			}
		}
		_ = rc.End()
	})
}

// FuzzRoundTrip checks that every value survives a Writer and a Reader.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), int64(0), "", []byte(nil), false)
	f.Add(uint64(math.MaxUint64), int64(math.MinInt64), "héllo", []byte{0, 0xff}, true)
	f.Fuzz(func(t *testing.T, u uint64, i int64, s string, b []byte, v bool) {
		var w Writer
		w.Uint(u)
		w.Int(i)
		w.String(s)
		w.Blob(b)
		w.Bool(v)
		r := NewReader(w.Bytes())
		if r.Uint() != u || r.Int() != i || r.String() != s || !bytes.Equal(r.Blob(), b) || r.Bool() != v || r.End() != nil {
			t.Fatalf("round trip changed the values: %v", r.Err())
		}
	})
}
