package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
	"github.com/plenum-vote/plenum/testkit/plugin"
	"github.com/plenum-vote/plenum/testkit/plugin/testdata/tallyraw/rawtally"
)

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func hostile(t testing.TB, name string) []byte {
	return plugin.Build(t, repoPath("testkit", "plugin", "testdata", "hostile", name))
}

func majority(t testing.TB) []byte { return plugin.Build(t, repoPath("plugins", "majority")) }

func tallyraw(t testing.TB) []byte {
	return plugin.Build(t, repoPath("testkit", "plugin", "testdata", "tallyraw"))
}

// checkReference makes the reference call (the bench fixture, rawtally's
// encoding) and checks its result.
func checkReference(t testing.TB, p *wasm.Plugin) {
	t.Helper()
	out, err := p.Call(context.Background(), sdk.HookTally, rawtally.Fixture())
	if err != nil {
		t.Fatal(err)
	}
	res, err := rawtally.Decode(out)
	if err != nil || res != (rawtally.Result{Decision: rawtally.Pass, Yes: 3, No: 1, Abstain: 1}) {
		t.Fatalf("reference call: %+v %v", res, err)
	}
}

type recorder struct {
	mu    sync.Mutex
	calls int
	errs  []error
}

func (r *recorder) OnCall(plugin string, hook sdk.Hook, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

// The reference plugin answers the same through wasm and natively, and
// its failures are typed.
func TestReferenceCall(t *testing.T) {
	ctx := context.Background()
	obs := &recorder{}
	cfg := wasm.HostRuntimeConfig()
	cfg.Observer = obs
	r, err := wasm.NewRuntime(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	module := tallyraw(t)
	p := plugin.Load(t, r, module, wasm.PluginSpec{Name: "tallyraw", Hooks: []sdk.Hook{sdk.HookTally, sdk.HookEmbargo}})
	checkReference(t, p)
	rawtally.Register()
	native, err := sdk.CallNative(sdk.HookTally, rawtally.Fixture())
	if err != nil {
		t.Fatal(err)
	}
	if got := plugin.Call(t, p, sdk.HookTally, rawtally.Fixture()); !bytes.Equal(got, native) {
		t.Fatalf("wasm %x, native %x", got, native)
	}
	for _, tc := range []struct {
		name   string
		hook   sdk.Hook
		in     []byte
		want   error
		detail string
	}{
		{"truncated input", sdk.HookTally, rawtally.Fixture()[:20], wasm.ErrPluginError, "truncated"},
		{"handler error", sdk.HookTally, rawtally.Encode("p", "plurality", 1, nil), wasm.ErrPluginError, "unsupported rule"},
		{"declared, not registered", sdk.HookEmbargo, nil, wasm.ErrUnknownHook, ""},
		{"not declared", sdk.HookRetention, nil, wasm.ErrUnknownHook, "not declared"},
		{"unknown hook number", sdk.Hook(40), nil, wasm.ErrUnknownHook, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Call(ctx, tc.hook, tc.in)
			var ce *wasm.CallError
			if !errors.Is(err, tc.want) || !errors.As(err, &ce) || !strings.Contains(ce.Detail, tc.detail) {
				t.Fatalf("got %v, want %v with %q", err, tc.want, tc.detail)
			}
		})
	}
	// A larger input than any before grows the guest's input buffer.
	votes := make([]rawtally.Vote, 3000)
	for i := range votes {
		votes[i] = rawtally.Vote{Voter: "u-" + strconv.Itoa(i), Choice: rawtally.Yes}
	}
	big, err := rawtally.Decode(plugin.Call(t, p, sdk.HookTally, rawtally.Encode("p", "simple_majority", 5, votes)))
	if err != nil || big.Yes != 3000 || big.Decision != rawtally.Pass {
		t.Fatalf("large input: %+v %v", big, err)
	}
	checkReference(t, p)
	// Plugin errors are answers: they neither cost an instance nor count
	// towards the circuit breaker.
	if st := p.Stats(); st.Traps != 0 || st.ConsecutiveFailures != 0 || st.InstancesCreated != 2 {
		t.Fatalf("stats %+v", st)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.calls != 9 || len(obs.errs) != 5 {
		t.Fatalf("observer saw %d calls, %d errors", obs.calls, len(obs.errs))
	}
}

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
	good := plugin.Load(t, r, tallyraw(t), wasm.PluginSpec{Name: "tallyraw"})
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
			if st := p.Stats(); st.ConsecutiveFailures != 2 || st.InstancesCreated < 2 {
				t.Fatalf("stats %+v", st)
			}
			checkReference(t, good)
		})
	}
	// After a timeout, the next call runs on a fresh instance.
	p := plugin.Load(t, r, hostile(t, "loop"), wasm.PluginSpec{Name: "loop", PoolSize: 1, Limits: wasm.Limits{Deadline: 100 * time.Millisecond}})
	if _, err := p.Call(context.Background(), sdk.HookTally, nil); !errors.Is(err, wasm.ErrTimeout) {
		t.Fatalf("loop: %v", err)
	}
	if out := plugin.Call(t, p, sdk.HookTally, []byte("quick")); string(out) != "ok" {
		t.Fatalf("after the timeout: %q", out)
	}
	if st := p.Stats(); st.InstancesCreated != 2 || st.Timeouts != 1 || st.ConsecutiveFailures != 0 || st.LiveInstances != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A caller's deadline shorter than the plugin's bounds the call too, and
// is not held against the plugin.
func TestCallerDeadline(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxDeadline: 10 * time.Second})
	p := plugin.Load(t, r, hostile(t, "loop"), wasm.PluginSpec{Name: "loop", PoolSize: 1, FailureThreshold: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := p.Call(ctx, sdk.HookTally, nil); !errors.Is(err, wasm.ErrTimeout) {
		t.Fatalf("loop: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
	if _, err := p.Call(ctx, sdk.HookTally, []byte("quick")); !errors.Is(err, wasm.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired caller context: %v", err)
	}
	if out := plugin.Call(t, p, sdk.HookTally, []byte("quick")); string(out) != "ok" || p.Stats().CircuitOpen {
		t.Fatalf("after the caller's timeout: %q %+v", out, p.Stats())
	}
}

// Host-call spam is bounded by the deadline and the log caps.
func TestHostCallSpam(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxDeadline: 10 * time.Second, MaxLogBytes: 100})
	good := plugin.Load(t, r, tallyraw(t), wasm.PluginSpec{Name: "tallyraw"})
	spec := wasm.PluginSpec{Name: "hostspam", Capabilities: []string{wasm.CapLog, wasm.CapClock}, Limits: wasm.Limits{Deadline: 300 * time.Millisecond}}
	p := plugin.Load(t, r, hostile(t, "hostspam"), spec)
	start := time.Now()
	_, err := p.Call(context.Background(), sdk.HookTally, []byte{100}) // 100 M log calls
	if !errors.Is(err, wasm.ErrTimeout) {
		t.Fatalf("spam: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
	if st := p.Stats(); st.LogBytes > 100 || st.LogDropped == 0 {
		t.Fatalf("log not capped: %+v", st)
	}
	checkReference(t, good)
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
	if st := p.Stats(); st.LogBytes == 0 || st.LogBytes > 1024 || st.LogDropped == 0 {
		t.Fatalf("log not capped and counted: %+v", st)
	}
}

func TestLoadRefuses(t *testing.T) {
	r := plugin.NewRuntime(t, wasm.Caps{MaxModuleBytes: 8 << 20})
	good := tallyraw(t)
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
		{"wrong ABI", hostile(t, "wrongabi"), []string{wasm.CapLog}, "built for ABI v2; this host supports v1"},
		{"not a plugin", hostile(t, "notplugin"), nil, "not a Plenum plugin: missing export"},
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
	// Granted, the capability works; the runtime serves on.
	p := plugin.Load(t, r, hostile(t, "needscap"), wasm.PluginSpec{Name: "needscap", Capabilities: []string{wasm.CapLog}})
	if out, err := p.Call(context.Background(), sdk.HookTally, nil); err != nil || string(out) != "ok" {
		t.Fatalf("granted: %q %v", out, err)
	}
	checkReference(t, plugin.Load(t, r, good, wasm.PluginSpec{Name: "tallyraw"}))
}

func TestCircuitBreaker(t *testing.T) {
	const cooldown = 300 * time.Millisecond
	r := plugin.NewRuntime(t, wasm.Caps{MaxDeadline: time.Second})
	p := plugin.Load(t, r, hostile(t, "panic"), wasm.PluginSpec{Name: "panic", PoolSize: 1, FailureThreshold: 3, Cooldown: cooldown})
	ctx := context.Background()
	trap, ok := []byte{0}, []byte{2}
	for i := 0; i < 3; i++ {
		if _, err := p.Call(ctx, sdk.HookTally, trap); !errors.Is(err, wasm.ErrTrap) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := p.Call(ctx, sdk.HookTally, ok); !errors.Is(err, wasm.ErrCircuitOpen) {
		t.Fatalf("after 3 failures: %v", err)
	}
	if st := p.Stats(); !st.CircuitOpen || st.Circuit != wasm.CircuitOpen {
		t.Fatalf("stats do not show the open circuit: %+v", st)
	}
	// Half-open: a failed probe opens the circuit again at once.
	time.Sleep(cooldown + 50*time.Millisecond)
	if c := p.Stats().Circuit; c != wasm.CircuitHalfOpen {
		t.Fatalf("after the cool-down: %s", c)
	}
	if _, err := p.Call(ctx, sdk.HookTally, trap); !errors.Is(err, wasm.ErrTrap) {
		t.Fatalf("probe: %v", err)
	}
	if _, err := p.Call(ctx, sdk.HookTally, ok); !errors.Is(err, wasm.ErrCircuitOpen) {
		t.Fatalf("after a failed probe: %v", err)
	}
	// A successful probe closes it.
	time.Sleep(cooldown + 50*time.Millisecond)
	for i := 0; i < 2; i++ {
		if out := plugin.Call(t, p, sdk.HookTally, ok); string(out) != "ok" {
			t.Fatalf("call %d after the cool-down: %q", i, out)
		}
	}
	if st := p.Stats(); st.Circuit != wasm.CircuitClosed || st.ConsecutiveFailures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, tallyraw(t), wasm.PluginSpec{Name: "tallyraw"})
	checkReference(t, p)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, sdk.HookTally, rawtally.Fixture()); !errors.Is(err, wasm.ErrClosed) {
		t.Fatalf("closed plugin: %v", err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load(ctx, tallyraw(t), wasm.PluginSpec{Name: "tallyraw"}); !errors.Is(err, wasm.ErrClosed) {
		t.Fatalf("closed runtime: %v", err)
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
	operator := []byte(`{"countries":["KP","IR"]}`)
	p := plugin.Load(t, r, embargo, wasm.PluginSpec{Name: "embargo-list", Capabilities: []string{wasm.CapConfig}, Config: operator})
	for _, tc := range []struct {
		country string
		config  []byte
		block   bool
	}{
		{"KP", operator, true},
		{"IR", nil, true}, // the spec's config
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

// A guest that allocates on every call keeps a bounded heap in a
// long-lived instance. It takes about ten seconds: run it with
// PLENUM_SOAK=1.
func TestGuestHeapStaysBounded(t *testing.T) {
	if os.Getenv("PLENUM_SOAK") == "" {
		t.Skip("set PLENUM_SOAK=1 to run")
	}
	r := plugin.NewRuntime(t, wasm.Caps{})
	p := plugin.Load(t, r, plugin.Build(t, repoPath("testkit", "plugin", "testdata", "garbage")), wasm.PluginSpec{Name: "garbage", PoolSize: 1, RecycleAfter: 1 << 30})
	for i := 0; i < 600_000; i++ {
		if _, err := p.Call(context.Background(), sdk.HookTally, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.InstancesCreated != 1 || st.MemoryPagesHighWater > 160 {
		t.Fatalf("heap grew: %+v", st)
	}
}
