package wasm_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
	"github.com/plenum-vote/plenum/testkit/plugin"
	"github.com/plenum-vote/plenum/testkit/plugin/testdata/tallyraw/rawtally"
)

// timeCalls runs call b.N times and reports the median and 99th
// percentile of the per-call durations as custom metrics.
func timeCalls(b *testing.B, call func() error) {
	ds := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1000, "p99-µs")
}

// warmPlugin loads module with one instance and warms it up.
func warmPlugin(b *testing.B, module []byte, name string, in []byte) *wasm.Plugin {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, module, wasm.PluginSpec{Name: name, PoolSize: 1})
	for i := 0; i < 1000; i++ {
		if _, err := p.Call(context.Background(), sdk.HookTally, in); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// BenchmarkCall is the reference call (shared/bench/tally-fixture.json,
// rawtally's encoding) through Plugin.Call: warm pool, deadline enforced
// (WithCloseOnContextDone), output copied. Target p50 ≤ 10 µs.
func BenchmarkCall(b *testing.B) {
	in := rawtally.Fixture()
	p := warmPlugin(b, tallyraw(b), "tallyraw", in)
	ctx := context.Background()
	timeCalls(b, func() error {
		_, err := p.Call(ctx, sdk.HookTally, in)
		return err
	})
}

// BenchmarkCallNative runs the same handler natively through
// sdk.CallNative: the baseline of the wasm/native ratio.
func BenchmarkCallNative(b *testing.B) {
	rawtally.Register()
	in := rawtally.Fixture()
	timeCalls(b, func() error {
		_, err := sdk.CallNative(sdk.HookTally, in)
		return err
	})
}

// BenchmarkCallMajority is the same tally through the platform's real
// codec (sdk/wire, typed registration) and plugins/majority.
func BenchmarkCallMajority(b *testing.B) {
	var w wire.Writer
	fixture().AppendWire(&w)
	in := w.Bytes()
	p := warmPlugin(b, majority(b), "majority", in)
	ctx := context.Background()
	timeCalls(b, func() error {
		_, err := p.Call(ctx, sdk.HookTally, in)
		return err
	})
}

// BenchmarkCallEcho is the floor: a plugin that returns its input, through
// the same path as BenchmarkCall.
func BenchmarkCallEcho(b *testing.B) {
	in := rawtally.Fixture()
	p := warmPlugin(b, plugin.Build(b, repoPath("testkit", "plugin", "testdata", "echo")), "echo", in)
	ctx := context.Background()
	timeCalls(b, func() error {
		_, err := p.Call(ctx, sdk.HookTally, in)
		return err
	})
}

// BenchmarkCallParallel: GOMAXPROCS goroutines share a pool of GOMAXPROCS
// instances.
func BenchmarkCallParallel(b *testing.B) {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, tallyraw(b), wasm.PluginSpec{Name: "tallyraw", PoolSize: runtime.GOMAXPROCS(0)})
	in := rawtally.Fixture()
	ctx := context.Background()
	b.ResetTimer()
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

// BenchmarkColdLoad loads the plugin into a fresh Runtime whose compiled
// code comes from the on-disk cache (target ≤ 60 ms), the first instance
// included.
func BenchmarkColdLoad(b *testing.B) {
	module := tallyraw(b)
	dir := b.TempDir()
	ctx := context.Background()
	warm, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{CacheDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.Load(ctx, module, wasm.PluginSpec{Name: "tallyraw", PoolSize: 1}); err != nil {
		b.Fatal(err)
	}
	warm.Close(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Load(ctx, module, wasm.PluginSpec{Name: "tallyraw", PoolSize: 1}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		r.Close(ctx)
		b.StartTimer()
	}
}

// BenchmarkInstantiate creates one instance, _initialize included (target
// ≤ 5 ms): what replacing a discarded instance costs.
func BenchmarkInstantiate(b *testing.B) {
	r := plugin.NewRuntime(b, wasm.Caps{})
	p := plugin.Load(b, r, tallyraw(b), wasm.PluginSpec{Name: "tallyraw", PoolSize: 1})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := wasm.InstantiateOnce(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInstanceMemory measures what a warm instance keeps resident: its
// linear memory after warm-up (pages × 64 KiB) and the growth of the host's
// Go heap per instance (wazero keeps linear memory in the Go heap).
func BenchmarkInstanceMemory(b *testing.B) {
	const pool = 4
	module := tallyraw(b)
	r := plugin.NewRuntime(b, wasm.Caps{})
	ctx := context.Background()
	in := rawtally.Fixture()
	var heap, linear float64
	for i := 0; i < b.N; i++ {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		p := plugin.Load(b, r, module, wasm.PluginSpec{Name: "tallyraw", PoolSize: pool})
		for k := 0; k < 100; k++ {
			if _, err := p.Call(ctx, sdk.HookTally, in); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap += (float64(m1.HeapInuse) - float64(m0.HeapInuse)) / pool
		linear += float64(p.Stats().MemoryPagesHighWater) * 65536
		p.Close(ctx)
	}
	b.ReportMetric(heap/float64(b.N)/(1<<20), "heap-MiB/instance")
	b.ReportMetric(linear/float64(b.N)/(1<<20), "linear-MiB/instance")
}
