package wasm_test

import (
	"context"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func fixtureWire() []byte {
	var w wire.Writer
	fixture().AppendWire(&w)
	return w.Bytes()
}

// BenchmarkCall is the reference call (majority on the bench fixture)
// through Plugin.Call with a warm pool and the deadline enforced (target
// p50 ≤ 10 µs). It reports the median and 99th percentile.
func BenchmarkCall(b *testing.B) {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, majority(b), wasm.PluginSpec{Name: "majority", PoolSize: 1})
	in := fixtureWire()
	ctx := context.Background()
	for i := 0; i < 1000; i++ { // warm up
		if _, err := p.Call(ctx, sdk.HookTally, in); err != nil {
			b.Fatal(err)
		}
	}
	ds := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := p.Call(ctx, sdk.HookTally, in); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1000, "p99-µs")
}

// BenchmarkCallNative runs the same plugin code natively: encode, the
// sdk's decode, the tally, the sdk's encode, decode — the wasm/native
// ratio's baseline. The plugin registers itself when its package is
// linked in, which a wasm_test cannot do, so the native baseline lives in
// plugins/majority (BenchmarkNative) and this one measures the codec
// round trip the host side adds.
func BenchmarkHostCodec(b *testing.B) {
	in := fixture()
	var w wire.Writer
	out := &sdk.TallyOutput{}
	enc := []byte(nil)
	{
		var ow wire.Writer
		(&sdk.TallyOutput{Decision: "pass", QuorumMet: true, Counts: []sdk.Count{{Choice: "yes", Votes: 3}, {Choice: "no", Votes: 1}, {Choice: "abstain", Votes: 1}}}).AppendWire(&ow)
		enc = ow.Bytes()
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Reset()
		in.AppendWire(&w)
		if err := out.ReadWire(wire.NewReader(enc)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallParallel: GOMAXPROCS goroutines, pool of GOMAXPROCS.
func BenchmarkCallParallel(b *testing.B) {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, majority(b), wasm.PluginSpec{Name: "majority", PoolSize: runtime.GOMAXPROCS(0)})
	in := fixtureWire()
	ctx := context.Background()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Call(ctx, sdk.HookTally, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkColdLoad loads the plugin into a fresh runtime whose compiled
// code comes from the on-disk cache (target ≤ 60 ms); it includes the
// first instance, which Load pre-warms.
func BenchmarkColdLoad(b *testing.B) {
	module := majority(b)
	dir := b.TempDir()
	ctx := context.Background()
	warm, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{CacheDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.Load(ctx, module, wasm.PluginSpec{Name: "majority"}); err != nil {
		b.Fatal(err)
	}
	warm.Close(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Load(ctx, module, wasm.PluginSpec{Name: "majority", PoolSize: 1}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		r.Close(ctx)
		b.StartTimer()
	}
}

// BenchmarkInstantiate creates one instance, _initialize included (target
// ≤ 5 ms), by forcing the pool to replace its instance after every call.
func BenchmarkInstantiate(b *testing.B) {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, majority(b), wasm.PluginSpec{Name: "majority", PoolSize: 1, RecycleAfter: 1})
	in := fixtureWire()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Call(ctx, sdk.HookTally, in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := p.Stats()
	b.ReportMetric(float64(st.MemoryPagesHighWater)*64/1024, "MiB-guest-memory")
}

// BenchmarkCallEcho is the floor: a plugin that returns its input, through
// the same path as BenchmarkCall.
func BenchmarkCallEcho(b *testing.B) {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, plugin.Build(b, repoPath("testkit", "plugin", "testdata", "echo")), wasm.PluginSpec{Name: "echo", PoolSize: 1})
	in := fixtureWire()
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := p.Call(ctx, sdk.HookTally, in); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1000, "p50-µs")
}
