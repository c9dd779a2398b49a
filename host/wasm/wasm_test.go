package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func hostile(t testing.TB, name string) []byte {
	return plugin.Build(t, repoPath("testkit", "plugin", "testdata", "hostile", name))
}

func majority(t testing.TB) []byte { return plugin.Build(t, repoPath("plugins", "majority")) }

// fixture is the reference call of ../shared/bench/tally-fixture.json.
func fixture() *sdk.TallyInput {
	in := &sdk.TallyInput{BallotID: "poll-2025-0042", Rule: "simple_majority", Quorum: 5}
	for i, c := range []string{"yes", "no", "yes", "abstain", "yes"} {
		in.Votes = append(in.Votes, sdk.Vote{Voter: "u-100" + string(rune('1'+i)), Choice: c, Weight: sdk.One()})
	}
	return in
}

func checkMajority(t testing.TB, p *wasm.Plugin) {
	t.Helper()
	out, err := plugin.CallTally(context.Background(), p, fixture())
	if err != nil {
		t.Fatal(err)
	}
	if out.Decision != "pass" || out.Counts[0].Votes != 3 || out.Counts[1].Votes != 1 || out.Counts[2].Votes != 1 {
		t.Fatalf("majority: %+v", out)
	}
}

func TestMajority(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, majority(t), wasm.PluginSpec{Name: "majority"})
	checkMajority(t, p)
	// Concurrent callers share the bounded pool.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				checkMajority(t, p)
			}
		}()
	}
	wg.Wait()
	if st := p.Stats(); st.LiveInstances > 2 || st.Calls != 401 {
		t.Fatalf("stats %+v", st)
	}
	// A plugin error is typed and keeps the instance.
	_, err := plugin.CallTally(context.Background(), p, &sdk.TallyInput{Rule: "no_such_rule"})
	if !errors.Is(err, wasm.ErrPluginError) || !strings.Contains(err.Error(), "no_such_rule") {
		t.Fatalf("bad rule: %v", err)
	}
	if _, err := p.Call(context.Background(), sdk.HookScanUpload, nil); !errors.Is(err, wasm.ErrUnknownHook) {
		t.Fatalf("unimplemented hook: %v", err)
	}
	if _, err := p.Call(context.Background(), sdk.HookTally, []byte{0xff, 0xff}); !errors.Is(err, wasm.ErrPluginError) {
		t.Fatalf("malformed input: %v", err)
	}
	checkMajority(t, p)
}

// Each hostile plugin is contained: a typed error, the instance replaced,
// and the same runtime still serves a well-behaved plugin.
func TestHostilePlugins(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxDeadline: 5 * time.Second, MaxMemoryPages: 512, MaxOutput: 1 << 20, MaxLogBytes: 1024})
	good := plugin.Load(t, r, majority(t), wasm.PluginSpec{Name: "majority"})
	tests := []struct {
		name   string
		limits wasm.Limits
		input  []byte
		want   error
	}{
		{"loop", wasm.Limits{Deadline: 300 * time.Millisecond}, nil, wasm.ErrTimeout},
		{"membomb", wasm.Limits{MemoryPages: 160}, nil, wasm.ErrOutOfMemory},
		{"hugeout", wasm.Limits{}, nil, wasm.ErrOutputTooLarge},
		{"panic", wasm.Limits{}, []byte{0}, wasm.ErrTrap},
		{"panic", wasm.Limits{}, []byte{1}, wasm.ErrTrap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plugin.Load(t, r, hostile(t, tt.name), wasm.PluginSpec{Name: tt.name, Limits: tt.limits})
			for i := 0; i < 2; i++ { // the second call runs on a fresh instance
				start := time.Now()
				_, err := p.Call(context.Background(), sdk.HookTally, tt.input)
				if !errors.Is(err, tt.want) {
					t.Fatalf("call %d: %v, want %v", i, err, tt.want)
				}
				var ce *wasm.CallError
				if !errors.As(err, &ce) || ce.Plugin != tt.name || ce.Hook != sdk.HookTally {
					t.Fatalf("error %T %v lacks plugin and hook", err, err)
				}
				if tt.name == "panic" && tt.input[0] == 0 && !strings.Contains(ce.Detail, "hostile plugin panics") {
					t.Fatalf("panic message lost: %q", ce.Detail)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Fatalf("call took %s", d)
				}
			}
			checkMajority(t, good)
		})
	}
}

func TestLogFloodIsCapped(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxDeadline: 5 * time.Second, MaxLogBytes: 1024})
	p := plugin.Load(t, r, hostile(t, "logflood"), wasm.PluginSpec{Name: "logflood", Capabilities: []string{wasm.CapLog}})
	out, err := p.Call(context.Background(), sdk.HookTally, nil)
	if err != nil && !errors.Is(err, wasm.ErrTimeout) {
		t.Fatal(err)
	}
	if err == nil && string(out) != "done" {
		t.Fatalf("out %q", out)
	}
}

func TestLoadRefuses(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxModuleBytes: 8 << 20})
	good := majority(t)
	corrupted := bytes.Clone(good)
	for i := 100; i < len(corrupted); i += 997 {
		corrupted[i] ^= 0x5a
	}
	tests := []struct {
		name   string
		module []byte
		caps   []string
		want   string
	}{
		{"capability not granted", hostile(t, "needscap"), nil, `needs capability "log"`},
		{"wrong ABI", hostile(t, "wrongabi"), []string{wasm.CapLog}, "built for ABI v2"},
		{"corrupted", corrupted, nil, "does not compile"},
		{"not wasm", []byte("MZ this is not a wasm module"), nil, "does not compile"},
		{"empty", nil, nil, "does not compile"},
		{"oversized", make([]byte, 9<<20), nil, "more than the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Load(context.Background(), tt.module, wasm.PluginSpec{Name: tt.name, Capabilities: tt.caps})
			if !errors.Is(err, wasm.ErrInvalidModule) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want ErrInvalidModule mentioning %q", err, tt.want)
			}
		})
	}
	// Granted, the capability works.
	p := plugin.Load(t, r, hostile(t, "needscap"), wasm.PluginSpec{Name: "needscap", Capabilities: []string{wasm.CapLog}})
	if out, err := p.Call(context.Background(), sdk.HookTally, nil); err != nil || string(out) != "ok" {
		t.Fatalf("granted: %q %v", out, err)
	}
}

func TestCircuitBreaker(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxDeadline: 50 * time.Millisecond})
	p := plugin.Load(t, r, hostile(t, "panic"), wasm.PluginSpec{Name: "panic", FailureThreshold: 3, Cooldown: time.Hour})
	for i := 0; i < 3; i++ {
		if _, err := p.Call(context.Background(), sdk.HookTally, []byte{0}); !errors.Is(err, wasm.ErrTrap) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := p.Call(context.Background(), sdk.HookTally, []byte{0}); !errors.Is(err, wasm.ErrCircuitOpen) {
		t.Fatalf("after 3 failures: %v", err)
	}
	if !p.Stats().CircuitOpen {
		t.Fatal("stats do not show the open circuit")
	}
}

func TestInputLimit(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxInput: 1024})
	p := plugin.Load(t, r, majority(t), wasm.PluginSpec{Name: "majority"})
	if _, err := p.Call(context.Background(), sdk.HookTally, make([]byte, 2048)); !errors.Is(err, wasm.ErrInputTooLarge) {
		t.Fatalf("oversized input: %v", err)
	}
}

func TestMain(m *testing.M) {
	// Keep builds and compiled code out of the user's cache when running
	// under CI without a home directory.
	if os.Getenv(plugin.EnvCache) == "" {
		if _, err := os.UserCacheDir(); err != nil {
			os.Setenv(plugin.EnvCache, filepath.Join(os.TempDir(), "plenum-plugins"))
		}
	}
	os.Exit(m.Run())
}

func TestEmbargoAndSignupPlugins(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{})
	ctx := context.Background()
	embargo := plugin.Build(t, repoPath("plugins", "embargo-list"))
	if _, err := r.Load(ctx, embargo, wasm.PluginSpec{Name: "embargo-list"}); !errors.Is(err, wasm.ErrInvalidModule) || !strings.Contains(err.Error(), `"config"`) {
		t.Fatalf("config capability not granted: %v", err)
	}
	p := plugin.Load(t, r, embargo, wasm.PluginSpec{Name: "embargo-list", Capabilities: []string{wasm.CapConfig}})
	operator := []byte(`{"countries":["KP","IR"]}`)
	for _, tc := range []struct {
		country string
		config  []byte
		block   bool
	}{
		{"KP", operator, true},
		{"CH", operator, false},
		{"KP", []byte(`{"countries":["CU"]}`), false}, // another tenant's config
		{"CU", []byte(`{"countries":["CU"]}`), true},
	} {
		var w wire.Writer
		(&sdk.EmbargoInput{IP: "192.0.2.9", Country: tc.country}).AppendWire(&w)
		b, err := p.CallWithConfig(ctx, sdk.HookEmbargo, w.Bytes(), tc.config)
		if err != nil {
			t.Fatal(err)
		}
		var out sdk.EmbargoOutput
		if err := out.ReadWire(wire.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if out.Block != tc.block {
			t.Errorf("%s with %s: block=%v (%s)", tc.country, tc.config, out.Block, out.Reason)
		}
	}
	s := plugin.Load(t, r, plugin.Build(t, repoPath("plugins", "signup-basic")), wasm.PluginSpec{Name: "signup-basic"})
	var w wire.Writer
	(&sdk.SignupInput{EmailDomain: "mailinator.com", DomainHasMX: true, PerIP: 40}).AppendWire(&w)
	b, err := s.Call(ctx, sdk.HookSignupRisk, w.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var out sdk.SignupOutput
	if err := out.ReadWire(wire.NewReader(b)); err != nil || out.Action != "block" {
		t.Fatalf("signup: %+v %v", out, err)
	}
}

func TestRetentionPlugin(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, plugin.Build(t, repoPath("plugins", "retention-default")), wasm.PluginSpec{Name: "retention-default", Capabilities: []string{wasm.CapConfig}})
	now := int64(1_800_000_000)
	in := &sdk.RetentionInput{Now: now, Records: []sdk.RetentionRecord{
		{Class: "tenant", ID: "t1", Deleted: now - 20*86400},
		{Class: "backup", ID: "b1", Created: now - 40*86400},
	}}
	var w wire.Writer
	in.AppendWire(&w)
	for _, tc := range []struct {
		config string
		want   [2]string
	}{
		{`{}`, [2]string{"keep", "delete"}},
		{`{"grace_days":10}`, [2]string{"crypto_shred", "delete"}},
	} {
		b, err := p.CallWithConfig(context.Background(), sdk.HookRetention, w.Bytes(), []byte(tc.config))
		if err != nil {
			t.Fatal(err)
		}
		var out sdk.RetentionOutput
		if err := out.ReadWire(wire.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if len(out.Decisions) != 2 || out.Decisions[0].Action != tc.want[0] || out.Decisions[1].Action != tc.want[1] {
			t.Errorf("config %s: %+v", tc.config, out.Decisions)
		}
	}
	// A config beyond the platform's promise is an error, and deletes nothing.
	if _, err := p.CallWithConfig(context.Background(), sdk.HookRetention, w.Bytes(), []byte(`{"grace_days":90}`)); !errors.Is(err, wasm.ErrPluginError) {
		t.Fatalf("grace_days 90: %v", err)
	}
}

func TestHostFunctions(t *testing.T) {
	ctx := context.Background()
	r, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{
		GeoIP: func(a netip.Addr) (string, bool) {
			if a == netip.MustParseAddr("175.45.176.3") {
				return "KP", true
			}
			return "", false
		},
		KV: &wasm.MemoryKV{MaxEntries: 50},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	module := plugin.Build(t, repoPath("testkit", "plugin", "testdata", "hostcalls"))
	if _, err := r.Load(ctx, module, wasm.PluginSpec{Name: "hostcalls", Capabilities: []string{wasm.CapGeoIP, wasm.CapKV}}); !errors.Is(err, wasm.ErrInvalidModule) || !strings.Contains(err.Error(), `"clock"`) {
		t.Fatalf("clock not granted: %v", err)
	}
	p, err := r.Load(ctx, module, wasm.PluginSpec{Name: "hostcalls", Capabilities: []string{wasm.CapGeoIP, wasm.CapKV, wasm.CapClock}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(tenant, in string) string {
		t.Helper()
		out, err := p.CallFor(ctx, sdk.HookTally, []byte(in), wasm.Caller{TenantID: tenant})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if got := call("tenant-a", "175.45.176.3"); got != "KP|real|1" {
		t.Fatalf("first call: %q", got)
	}
	if got := call("tenant-a", "192.0.2.1"); got != "|real|2" {
		t.Fatalf("second call: %q", got)
	}
	// Each tenant has its own store.
	if got := call("tenant-b", "192.0.2.1"); got != "|real|1" {
		t.Fatalf("other tenant: %q", got)
	}
	// Host-call spam stops at the quota; the host keeps serving.
	if got := call("tenant-c", "spam"); got != "50" {
		t.Fatalf("kv spam wrote %s entries, want the quota of 50", got)
	}
	if got := call("tenant-a", "175.45.176.3"); got != "KP|real|3" {
		t.Fatalf("after spam: %q", got)
	}
}

// An instance whose memory grew past the high-water mark is replaced.
func TestRecycleAboveMemory(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, majority(t), wasm.PluginSpec{Name: "majority", PoolSize: 1, RecycleAboveBytes: 64 << 10})
	for i := 0; i < 3; i++ {
		checkMajority(t, p)
	}
	// Every instance exceeds 64 KiB, so each call used a fresh one.
	if st := p.Stats(); st.InstancesCreated < 3 {
		t.Fatalf("instances created %d, want one per call", st.InstancesCreated)
	}
}
