package sdk

import (
	"encoding/json"
	"testing"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// BenchmarkTallyInputWire encodes the bench fixture into a reused buffer
// and decodes it as the guest does (shared Reader, reused input value).
func BenchmarkTallyInputWire(b *testing.B) {
	in := benchFixture()
	var (
		w    wire.Writer
		r    wire.Reader
		back TallyInput
	)
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		in.AppendWire(&w)
		r.ResetShared(w.Bytes())
		if err := back.ReadWire(&r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.Len()), "bytes")
}

// BenchmarkTallyInputWireEncode is the encoding alone, into a reused
// buffer: no allocation.
func BenchmarkTallyInputWireEncode(b *testing.B) {
	in := benchFixture()
	var w wire.Writer
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		in.AppendWire(&w)
	}
}

// BenchmarkTallyInputWireCopy decodes with the copying Reader a host
// uses, into a fresh value each time.
func BenchmarkTallyInputWireCopy(b *testing.B) {
	enc := Encode(benchFixture())
	b.ReportAllocs()
	for b.Loop() {
		var in TallyInput
		if err := Decode(enc, &in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTallyInputJSON is the same round trip with encoding/json, for
// comparison.
func BenchmarkTallyInputJSON(b *testing.B) {
	in := benchFixture()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		enc, err := json.Marshal(in)
		if err != nil {
			b.Fatal(err)
		}
		var back TallyInput
		if err := json.Unmarshal(enc, &back); err != nil {
			b.Fatal(err)
		}
		n = len(enc)
	}
	b.ReportMetric(float64(n), "bytes")
}
