package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/plenum-vote/plenum/sdk"
)

// Caps are the operator's ceilings; a plugin's own limits are clamped to
// them.
type Caps struct {
	MaxMemoryPages uint32        // 64 KiB pages; default 512 (32 MiB)
	MaxDeadline    time.Duration // default 2 s
	MaxInput       int           // bytes; default 16 MiB
	MaxOutput      int           // bytes; default 4 MiB
	MaxLogBytes    int           // per call; default 4 KiB
	MaxModuleBytes int           // default 64 MiB
	// MaxInstanceLogBytes bounds what one instance may log over its
	// life; default 1 MiB. Beyond it, log lines are dropped and counted.
	MaxInstanceLogBytes int
}

func (c *Caps) fill() {
	if c.MaxMemoryPages == 0 {
		c.MaxMemoryPages = 512
	}
	if c.MaxDeadline <= 0 {
		c.MaxDeadline = 2 * time.Second
	}
	if c.MaxInput <= 0 {
		c.MaxInput = 16 << 20
	}
	if c.MaxOutput <= 0 {
		c.MaxOutput = 4 << 20
	}
	if c.MaxLogBytes <= 0 {
		c.MaxLogBytes = 4 << 10
	}
	if c.MaxModuleBytes <= 0 {
		c.MaxModuleBytes = 64 << 20
	}
	if c.MaxInstanceLogBytes <= 0 {
		c.MaxInstanceLogBytes = 1 << 20
	}
}

// RuntimeConfig configures a Runtime.
type RuntimeConfig struct {
	// CacheDir holds compiled modules across restarts; empty disables
	// the on-disk cache.
	CacheDir string
	// Logger receives plugin log lines (capability "log").
	Logger *slog.Logger
	// Caps bound every plugin.
	Caps Caps
	// Observer, when set, hears of every call.
	Observer Observer
	// Clock serves "now_unix_nano" (capability "clock"); default
	// time.Now.
	Clock func() time.Time
	// GeoIP maps an address to its ISO country code ("geoip").
	GeoIP func(netip.Addr) (string, bool)
	// KV is the plugins' key-value store ("kv"); default an in-memory
	// store with quotas.
	KV KV
}

// Observer hears of every plugin call, e.g. to export metrics.
type Observer interface {
	OnCall(plugin string, hook sdk.Hook, d time.Duration, err error)
}

// Runtime loads plugins. It is safe for concurrent use.
type Runtime struct {
	cfg   RuntimeConfig
	cache wazero.CompilationCache

	mu      sync.Mutex
	plugins []*Plugin
	closed  bool
}

// HostRuntimeConfig returns the configuration the host runs plugins with,
// defaults filled in: the Caps defaults, the real clock for "clock", an
// in-memory KV, no GeoIP database, a discarding logger and no on-disk
// cache. Tests start from it so that plugins see what they will see in
// production.
func HostRuntimeConfig() RuntimeConfig {
	var cfg RuntimeConfig
	cfg.fill()
	return cfg
}

func (cfg *RuntimeConfig) fill() {
	cfg.Caps.fill()
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.KV == nil {
		cfg.KV = &MemoryKV{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
}

// NewRuntime returns a runtime. With a CacheDir, compiled code is kept in
// a subdirectory named for the wazero version, and directories of other
// versions are removed (they can never be used again and grow large).
func NewRuntime(ctx context.Context, cfg RuntimeConfig) (*Runtime, error) {
	cfg.fill()
	r := &Runtime{cfg: cfg}
	if cfg.CacheDir != "" {
		dir := filepath.Join(cfg.CacheDir, "wazero-"+wazeroVersion())
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("plugin cache: %w", err)
		}
		cleanOldCaches(cfg.CacheDir, filepath.Base(dir))
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			return nil, fmt.Errorf("plugin cache: %w", err)
		}
		r.cache = c
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	return r, nil
}

func wazeroVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func cleanOldCaches(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "wazero-") && e.Name() != keep {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

// Close closes every plugin and the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	ps := r.plugins
	r.plugins, r.closed = nil, true
	r.mu.Unlock()
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.Close(ctx))
	}
	errs = append(errs, r.cache.Close(ctx))
	return errors.Join(errs...)
}

// Limits are one plugin's limits, declared in its manifest and clamped to
// the runtime's Caps; zero means the cap.
type Limits struct {
	// MemoryPages bounds each instance's linear memory (64 KiB pages).
	MemoryPages uint32
	// Deadline bounds each call.
	Deadline time.Duration
	// MaxInput and MaxOutput bound a call's input and output bytes.
	MaxInput  int
	MaxOutput int
	// MaxLogBytes bounds what one call may log.
	MaxLogBytes int
}

// Capabilities a plugin may be granted.
const (
	CapLog    = "log"
	CapConfig = "config"
)

// capabilityOf returns the capability a host function needs.
func capabilityOf(fn string) (string, bool) {
	switch fn {
	case "log":
		return CapLog, true
	case "config":
		return CapConfig, true
	case "now_unix_nano":
		return CapClock, true
	case "geoip_country":
		return CapGeoIP, true
	case "kv_get", "kv_put":
		return CapKV, true
	}
	return "", false
}

// PluginSpec describes a plugin to load.
type PluginSpec struct {
	// Name and Version identify the plugin in errors, logs and the "kv"
	// namespace.
	Name, Version string
	// Hooks the plugin declares; a call of another hook fails with
	// ErrUnknownHook without entering the guest. Empty: any hook the
	// guest registered.
	Hooks []sdk.Hook
	// Capabilities the operator granted.
	Capabilities []string
	// Limits of each instance and call.
	Limits Limits
	// Config is what the "config" host function returns when the caller
	// gives none (Caller.Config).
	Config []byte
	// PoolSize bounds the instances (default 2).
	PoolSize int
	// RecycleAfter replaces an instance after this many calls (default
	// 100,000), a backstop against guest heaps that never shrink.
	RecycleAfter int
	// RecycleAboveBytes replaces an instance whose linear memory has grown
	// beyond this many bytes (default: three quarters of the memory limit),
	// so one large call does not pin its memory for good.
	RecycleAboveBytes uint32
	// FailureThreshold consecutive failures open the circuit (default 5)
	// for Cooldown (default 30 s).
	FailureThreshold int
	Cooldown         time.Duration
}

func (s *PluginSpec) granted(capability string) bool {
	for _, c := range s.Capabilities {
		if c == capability {
			return true
		}
	}
	return false
}

func (r *Runtime) clamp(l Limits) Limits {
	c := r.cfg.Caps
	if l.MemoryPages == 0 || l.MemoryPages > c.MaxMemoryPages {
		l.MemoryPages = c.MaxMemoryPages
	}
	if l.Deadline <= 0 || l.Deadline > c.MaxDeadline {
		l.Deadline = c.MaxDeadline
	}
	if l.MaxInput <= 0 || l.MaxInput > c.MaxInput {
		l.MaxInput = c.MaxInput
	}
	if l.MaxOutput <= 0 || l.MaxOutput > c.MaxOutput {
		l.MaxOutput = c.MaxOutput
	}
	if l.MaxLogBytes <= 0 || l.MaxLogBytes > c.MaxLogBytes {
		l.MaxLogBytes = c.MaxLogBytes
	}
	return l
}

// Load compiles module (or takes it from the compilation cache, keyed by
// the module's content), checks that it is a Plenum plugin of this ABI
// that imports only what spec grants, and pre-warms the pool. Each plugin
// gets a wazero runtime of its own, so that its memory limit is its own.
func (r *Runtime) Load(ctx context.Context, module []byte, spec PluginSpec) (p *Plugin, err error) {
	if len(module) > r.cfg.Caps.MaxModuleBytes {
		return nil, fmt.Errorf("%w: %s: module of %d bytes, more than the %d allowed", ErrInvalidModule, spec.Name, len(module), r.cfg.Caps.MaxModuleBytes)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var hooks uint64
	for _, h := range spec.Hooks {
		if h < 1 || h >= 64 {
			return nil, fmt.Errorf("load %s: unknown hook %s", spec.Name, h)
		}
		hooks |= 1 << h
	}
	if spec.PoolSize <= 0 {
		spec.PoolSize = 2
	}
	if spec.RecycleAfter <= 0 {
		spec.RecycleAfter = 100_000
	}
	if spec.FailureThreshold <= 0 {
		spec.FailureThreshold = 5
	}
	if spec.Cooldown <= 0 {
		spec.Cooldown = 30 * time.Second
	}
	spec.Limits = r.clamp(spec.Limits)
	if spec.RecycleAboveBytes == 0 {
		spec.RecycleAboveBytes = uint32(min(uint64(spec.Limits.MemoryPages)*65536/4*3, 1<<32-1))
	}
	sum := sha256.Sum256(module)
	p = &Plugin{
		name: spec.Name, spec: spec, hooks: hooks, digest: hex.EncodeToString(sum[:]),
		logger:         r.cfg.Logger.With("plugin", spec.Name, "version", spec.Version),
		observer:       r.cfg.Observer,
		modCfg:         moduleConfig(spec, r.cfg.Clock),
		instanceLogCap: r.cfg.Caps.MaxInstanceLogBytes,
		idle:           make(chan *instance, spec.PoolSize),
		slots:          make(chan struct{}, spec.PoolSize),
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(spec.Limits.MemoryPages).
		WithCompilationCache(r.cache))
	p.rt = rt
	defer func() {
		if err != nil {
			_ = rt.Close(ctx)
		}
	}()
	p.compiled, err = p.rt.CompileModule(ctx, module)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: does not compile: %v", ErrInvalidModule, spec.Name, err)
	}
	if err := checkImportsExports(p.compiled, spec); err != nil {
		return nil, err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.rt); err != nil {
		return nil, fmt.Errorf("instantiate WASI: %w", err)
	}
	hb := p.rt.NewHostModuleBuilder(sdk.ImportModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(p.hostLog), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).Export("log").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostConfig), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export("config")
	if _, err := p.exportHostFunctions(hb, r.cfg).Instantiate(ctx); err != nil {
		return nil, fmt.Errorf("instantiate host functions: %w", err)
	}
	// Pre-warm the pool so that first calls do not pay for instantiation,
	// and so that a module that traps during initialisation is refused
	// here.
	for i := 0; i < spec.PoolSize; i++ {
		in, err := p.newInstance(ctx)
		if err != nil {
			for len(p.idle) > 0 {
				p.discard(<-p.idle)
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidModule, spec.Name, err)
		}
		p.slots <- struct{}{}
		p.idle <- in
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		for len(p.idle) > 0 {
			p.discard(<-p.idle)
		}
		return nil, ErrClosed
	}
	r.plugins = append(r.plugins, p)
	return p, nil
}

// checkImportsExports refuses modules that are not Plenum plugins of ABI
// v1 or that import host functions they were not granted.
func checkImportsExports(m wazero.CompiledModule, spec PluginSpec) error {
	granted := make(map[string]bool, len(spec.Capabilities))
	for _, c := range spec.Capabilities {
		granted[c] = true
	}
	for _, def := range m.ImportedFunctions() {
		mod, name, _ := def.Import()
		switch {
		case mod == "wasi_snapshot_preview1":
		case mod == sdk.ImportModule:
			capability, ok := capabilityOf(name)
			if !ok {
				return fmt.Errorf("%w: %s imports unknown host function %s.%s", ErrInvalidModule, spec.Name, mod, name)
			}
			if !granted[capability] {
				return fmt.Errorf("%w: %s needs capability %q (host function %s), which was not granted", ErrInvalidModule, spec.Name, capability, name)
			}
		case strings.HasPrefix(mod, "plenum_v"):
			return fmt.Errorf("%w: %s was built for ABI %s; this host supports v%d", ErrInvalidModule, spec.Name, strings.TrimPrefix(mod, "plenum_"), sdk.ABIVersion)
		default:
			return fmt.Errorf("%w: %s imports from unknown module %q", ErrInvalidModule, spec.Name, mod)
		}
	}
	exports := m.ExportedFunctions()
	for _, name := range []string{"_initialize", sdk.ExportInput, sdk.ExportCall, sdk.ExportGC} {
		if _, ok := exports[name]; !ok {
			return fmt.Errorf("%w: %s is not a Plenum plugin: missing export %s (build with the sdk and -buildmode=c-shared)", ErrInvalidModule, spec.Name, name)
		}
	}
	return nil
}

// hostLog is the "log" host function: level, pointer, length. It copies
// at most the plugin's per-call log budget and drops the rest.
func (p *Plugin) hostLog(ctx context.Context, m api.Module, stack []uint64) {
	level, ptr, n := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
	cs, _ := ctx.Value(callStateKey{}).(*callState)
	if cs == nil {
		return
	}
	budget := min(p.spec.Limits.MaxLogBytes-cs.logged, p.instanceLogCap-cs.instanceLogged)
	if budget <= 0 {
		cs.dropped += int(n)
		return
	}
	take := min(int(n), budget)
	b, ok := m.Memory().Read(ptr, uint32(take))
	if !ok {
		return
	}
	cs.logged += take
	cs.instanceLogged += take
	cs.dropped += int(n) - take
	lvl := slog.LevelInfo
	switch sdk.LogLevel(level) {
	case sdk.LogDebug:
		lvl = slog.LevelDebug
	case sdk.LogWarn:
		lvl = slog.LevelWarn
	case sdk.LogError:
		lvl = slog.LevelError
	}
	p.logger.Log(ctx, lvl, "plugin log", "message", string(b))
}

// hostConfig is the "config" host function: (ptr, cap) -> length. It
// copies the calling tenant's configuration of the plugin into guest
// memory when it fits in cap bytes and always returns its length, so the
// guest can ask again with a larger buffer.
func hostConfig(ctx context.Context, m api.Module, stack []uint64) {
	ptr, capacity := uint32(stack[0]), uint32(stack[1])
	cs, _ := ctx.Value(callStateKey{}).(*callState)
	var cfg []byte
	if cs != nil {
		cfg = cs.config
	}
	if uint32(len(cfg)) <= capacity && len(cfg) > 0 {
		if !m.Memory().Write(ptr, cfg) {
			stack[0] = 0
			return
		}
	}
	stack[0] = uint64(len(cfg))
}

type callStateKey struct{}

// callState is the bookkeeping of an instance's current call that host
// functions read and update.
type callState struct {
	// logged and dropped count this call's log bytes; instanceLogged
	// counts the instance's.
	logged, dropped, instanceLogged int
	// config is the calling tenant's configuration of the plugin.
	config []byte
	// tenantID scopes the key-value store.
	tenantID string
}
