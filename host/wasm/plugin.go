package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/plenum-vote/plenum/sdk"
)

// pageSize is the size of a wasm memory page.
const pageSize = 65536

// gcGrowthPages is how far (in pages, 4 MiB) an instance's memory may grow
// past its size after the last collection before the host asks the guest
// to collect (plenum_abi_v1_gc). The sdk yields to the guest's scheduler
// every 64 calls so that its collector keeps up; this is the second line
// for a guest whose collector still falls behind, before RecycleAfter and
// RecycleAboveBytes.
const gcGrowthPages = 64

// Plugin is a loaded plugin: one compiled module and a bounded pool of
// instances. It is safe for concurrent use; an instance serves one call at
// a time.
type Plugin struct {
	name     string
	spec     PluginSpec
	hooks    uint64 // bit h set: hook h declared; 0: any hook
	digest   string
	logger   *slog.Logger
	observer Observer
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	// instanceLogCap is the operator's cap on log bytes per instance.
	instanceLogCap int

	idle  chan *instance // ready instances
	slots chan struct{}  // one token per live or starting instance

	mu     sync.Mutex     // orders closing against background work
	bg     sync.WaitGroup // background replacements
	closed atomic.Bool

	// Circuit breaker: consecutive failures, the end of the open period
	// (unix nanoseconds, 0 when closed) and the half-open probe.
	failures  atomic.Int32
	openUntil atomic.Int64
	probing   atomic.Bool

	calls, errors, timeouts, traps atomic.Int64
	created, guestGCs              atomic.Int64
	logBytes, logDropped           atomic.Int64
	memHighWater                   atomic.Uint32
}

// instance is one initialised module instance.
type instance struct {
	mod        api.Module
	input      api.Function
	call       api.Function
	gc         api.Function
	inPtr      uint32
	inCap      uint32
	calls      int
	gcPages    uint32 // memory pages after the last collection
	stack      []uint64
	inputStack []uint64

	// ctx is the instance's call context: cancelled by timer when a call
	// passes its deadline, which makes wazero stop the guest. Reusing one
	// context and timer per instance spares every call two allocations
	// and a timer; once it fires, the instance is discarded anyway.
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	state  *callState
	// stderr keeps the start of what the guest wrote to stderr during a
	// call, so that a panic's message reaches the error.
	stderr *headBuffer
}

// headBuffer keeps the first max bytes written to it during a call.
type headBuffer struct {
	buf []byte
	max int
}

func (t *headBuffer) Write(p []byte) (int, error) {
	if room := t.max - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// message returns the first line of what was written.
func (t *headBuffer) message() string {
	s := strings.TrimSpace(string(t.buf))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Digest returns the hex SHA-256 of the module.
func (p *Plugin) Digest() string { return p.digest }

// Spec returns the plugin's spec with defaults filled in and limits
// clamped to the runtime's caps.
func (p *Plugin) Spec() PluginSpec { return p.spec }

func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	stderr := &headBuffer{max: 512}
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, p.modCfg.WithStderr(stderr))
	if err != nil {
		return nil, fmt.Errorf("instantiate %s: %w", p.name, err)
	}
	p.created.Add(1)
	in := &instance{
		mod:        mod,
		input:      mod.ExportedFunction(sdk.ExportInput),
		call:       mod.ExportedFunction(sdk.ExportCall),
		gc:         mod.ExportedFunction(sdk.ExportGC),
		gcPages:    mod.Memory().Size() / pageSize,
		stack:      make([]uint64, 2),
		inputStack: make([]uint64, 1),
		state:      &callState{},
		stderr:     stderr,
	}
	in.ctx, in.cancel = context.WithCancel(context.WithValue(context.Background(), callStateKey{}, in.state))
	in.timer = time.AfterFunc(time.Hour, in.cancel)
	in.timer.Stop()
	p.noteMemory(in.gcPages)
	return in, nil
}

// moduleConfig is the sandbox of every instance: no filesystem, arguments,
// environment or stdin; stdout discarded; random bytes from crypto/rand;
// WASI's clocks fixed unless the plugin was granted "clock".
func moduleConfig(spec PluginSpec, clock func() time.Time) wazero.ModuleConfig {
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithRandSource(rand.Reader)
	if spec.granted(CapClock) {
		cfg = cfg.WithWalltime(func() (int64, int32) {
			t := clock()
			return t.Unix(), int32(t.Nanosecond())
		}, sys.ClockResolution(time.Microsecond)).WithSysNanotime()
	}
	return cfg
}

// get returns an idle instance, or a new one while the pool has room, or
// waits for one until ctx ends.
func (p *Plugin) get(ctx context.Context) (*instance, error) {
	select {
	case in := <-p.idle:
		return in, nil
	default:
	}
	select {
	case in := <-p.idle:
		return in, nil
	case p.slots <- struct{}{}:
		in, err := p.newInstance(ctx)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Plugin) put(in *instance) {
	if p.closed.Load() {
		p.discard(in)
		return
	}
	p.idle <- in
}

// discard closes an instance and frees its slot.
func (p *Plugin) discard(in *instance) {
	in.timer.Stop()
	in.cancel()
	_ = in.mod.Close(context.Background())
	<-p.slots
}

// replace discards an instance and starts its replacement in the
// background, so the next caller does not pay for instantiation.
func (p *Plugin) replace(in *instance) {
	p.discard(in)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return
	}
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		select {
		case p.slots <- struct{}{}:
		default:
			return // a caller already took the slot
		}
		in, err := p.newInstance(context.Background())
		if err != nil {
			<-p.slots
			p.logger.Warn("plugin instance replacement failed", "err", err)
			return
		}
		p.put(in)
	}()
}

// Call runs hook h of the plugin on in (the hook's wire-encoded input) and
// returns a copy of its output, with the configuration of PluginSpec.Config.
// Failures are *CallError values whose Kind is one of the Err… sentinels.
//
// ctx bounds the wait for a free instance and, when its deadline is
// earlier than the plugin's, the call itself; a cancellation without
// deadline does not interrupt a call already running in the guest.
func (p *Plugin) Call(ctx context.Context, h sdk.Hook, in []byte) (out []byte, err error) {
	return p.CallFor(ctx, h, in, Caller{})
}

// CallWithConfig is Call for a tenant whose configuration of the plugin
// is config (JSON, validated when the tenant saved it); the plugin reads it
// with the "config" host function.
func (p *Plugin) CallWithConfig(ctx context.Context, h sdk.Hook, in, config []byte) (out []byte, err error) {
	return p.CallFor(ctx, h, in, Caller{Config: config})
}

// CallFor is Call on behalf of a caller: its tenant scopes the "kv" store
// and its config (or else PluginSpec.Config) is what "config" returns.
func (p *Plugin) CallFor(ctx context.Context, h sdk.Hook, in []byte, c Caller) (out []byte, err error) {
	var start time.Time
	if p.observer != nil {
		start = time.Now()
	}
	defer func() {
		p.calls.Add(1)
		if err != nil {
			p.errors.Add(1)
		}
		if p.observer != nil {
			p.observer.OnCall(p.name, h, time.Since(start), err)
		}
	}()
	if p.closed.Load() {
		return nil, p.fail(h, ErrClosed, "", nil)
	}
	if p.hooks != 0 && (h >= 64 || p.hooks&(1<<h) == 0) {
		return nil, p.fail(h, ErrUnknownHook, "hook not declared in the plugin's spec", nil)
	}
	if len(in) > p.spec.Limits.MaxInput {
		return nil, p.fail(h, ErrInputTooLarge, fmt.Sprintf("%d bytes, limit %d", len(in), p.spec.Limits.MaxInput), nil)
	}
	probe, ok := p.admit()
	if !ok {
		return nil, p.fail(h, ErrCircuitOpen, "", nil)
	}
	if probe {
		defer p.probing.Store(false)
	}
	deadline, callerBound := p.spec.Limits.Deadline, false
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < deadline {
			deadline, callerBound = left, true
		}
	}
	if deadline <= 0 {
		return nil, p.fail(h, ErrTimeout, "caller's deadline already passed", ctx.Err())
	}
	inst, err := p.get(ctx)
	if err != nil {
		switch {
		case p.closed.Load():
			return nil, p.fail(h, ErrClosed, "", err)
		case ctx.Err() != nil:
			return nil, p.fail(h, ErrTimeout, "no free instance before the caller's deadline", err)
		}
		p.failed()
		return nil, p.fail(h, ErrTrap, "cannot start an instance", err)
	}
	st := inst.state
	st.logged, st.dropped, st.tenantID, st.config = 0, 0, c.TenantID, c.Config
	if st.config == nil {
		st.config = p.spec.Config
	}
	inst.stderr.buf = inst.stderr.buf[:0]
	inst.timer.Reset(deadline)
	res, err := p.run(inst, h, in)
	// Stop reports false when the deadline fired: the instance's context is
	// spent even if the call returned in time, so it is not reused.
	spent := !inst.timer.Stop()
	st.config = nil
	if st.logged > 0 || st.dropped > 0 {
		p.logBytes.Add(int64(st.logged))
		p.logDropped.Add(int64(st.dropped))
	}
	if err != nil {
		return nil, p.broken(inst, h, err, callerBound)
	}
	mem := inst.mod.Memory()
	pages := mem.Size() / pageSize
	p.noteMemory(pages)
	if int(res.Len) > p.spec.Limits.MaxOutput {
		p.release(inst, spent, pages)
		p.failed()
		return nil, p.fail(h, ErrOutputTooLarge, fmt.Sprintf("%d bytes, limit %d", res.Len, p.spec.Limits.MaxOutput), nil)
	}
	view, ok := mem.Read(res.Ptr, res.Len)
	if !ok {
		p.replace(inst)
		p.failed()
		return nil, p.fail(h, ErrTrap, "output outside guest memory", nil)
	}
	out = append([]byte(nil), view...)
	p.release(inst, spent, pages)
	p.succeeded()
	switch {
	case res.NoHook:
		return nil, p.fail(h, ErrUnknownHook, "", nil)
	case res.Err:
		return nil, p.fail(h, ErrPluginError, string(out), nil)
	}
	return out, nil
}

// run writes the input into the instance and calls the hook.
func (p *Plugin) run(inst *instance, h sdk.Hook, in []byte) (sdk.Result, error) {
	if uint32(len(in)) > inst.inCap || inst.inPtr == 0 {
		// Ask for a power of two, so that inputs of growing size cost
		// few extra export calls.
		want := uint32(256)
		if len(in) > 256 {
			want = 1 << bits.Len32(uint32(len(in)-1))
		}
		inst.inputStack[0] = uint64(want)
		if err := inst.input.CallWithStack(inst.ctx, inst.inputStack); err != nil {
			return sdk.Result{}, err
		}
		inst.inPtr, inst.inCap = uint32(inst.inputStack[0]), want
	}
	if !inst.mod.Memory().Write(inst.inPtr, in) {
		inst.inPtr, inst.inCap = 0, 0
		return sdk.Result{}, errors.New("input buffer outside guest memory")
	}
	inst.stack[0], inst.stack[1] = uint64(h), uint64(len(in))
	if err := inst.call.CallWithStack(inst.ctx, inst.stack); err != nil {
		return sdk.Result{}, err
	}
	return sdk.DecodeResult(inst.stack[0]), nil
}

// broken classifies a failed export call, replaces the instance (its state
// can no longer be trusted) and counts the failure for the breaker. A
// timeout set by the caller's shorter deadline is not the plugin's fault
// and does not count.
func (p *Plugin) broken(inst *instance, h sdk.Hook, err error, callerBound bool) error {
	pages := inst.mod.Memory().Size() / pageSize
	p.noteMemory(pages)
	stderr := inst.stderr.message()
	p.replace(inst)
	if p.closed.Load() {
		return p.fail(h, ErrClosed, "", err)
	}
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit) && (exit.ExitCode() == sys.ExitCodeDeadlineExceeded || exit.ExitCode() == sys.ExitCodeContextCanceled),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		p.timeouts.Add(1)
		if !callerBound {
			p.failed()
		}
		return p.fail(h, ErrTimeout, fmt.Sprintf("deadline %s", p.spec.Limits.Deadline), err)
	case pages*10 >= p.spec.Limits.MemoryPages*9 || strings.Contains(err.Error(), "out of memory"):
		p.traps.Add(1)
		p.failed()
		return p.fail(h, ErrOutOfMemory, fmt.Sprintf("%d of %d pages", pages, p.spec.Limits.MemoryPages), err)
	default:
		p.traps.Add(1)
		p.failed()
		if stderr != "" {
			return p.fail(h, ErrTrap, stderr, err)
		}
		return p.fail(h, ErrTrap, err.Error(), err)
	}
}

// admit applies the circuit breaker: closed lets every call through; open
// refuses them until the cool-down ends; then, half-open, it lets one probe
// through at a time, whose outcome closes or reopens the circuit.
func (p *Plugin) admit() (probe, ok bool) {
	until := p.openUntil.Load()
	if until == 0 {
		return false, true
	}
	if time.Now().UnixNano() < until {
		return false, false
	}
	if p.probing.CompareAndSwap(false, true) {
		return true, true
	}
	return false, false
}

// failed counts a failure and opens the circuit at the threshold (at once
// again after a failed half-open probe).
func (p *Plugin) failed() {
	if n := int(p.failures.Add(1)); n >= p.spec.FailureThreshold {
		p.openUntil.Store(time.Now().Add(p.spec.Cooldown).UnixNano())
		p.logger.Warn("plugin circuit open", "failures", n, "cooldown", p.spec.Cooldown.String())
	}
}

// succeeded closes the circuit: the plugin answered.
func (p *Plugin) succeeded() {
	if p.failures.Load() != 0 {
		p.failures.Store(0)
		p.openUntil.Store(0)
	}
}

func (p *Plugin) fail(h sdk.Hook, kind error, detail string, cause error) error {
	if len(detail) > 512 {
		detail = detail[:512]
	}
	return &CallError{Plugin: p.name, Hook: h, Kind: kind, Detail: detail, Err: cause}
}

func (p *Plugin) noteMemory(pages uint32) {
	for {
		hw := p.memHighWater.Load()
		if pages <= hw || p.memHighWater.CompareAndSwap(hw, pages) {
			return
		}
	}
}

// release returns inst to the pool after a call the guest completed. It
// replaces an instance whose deadline fired, that has served RecycleAfter
// calls or whose memory has grown past RecycleAboveBytes; it asks the
// guest to collect when its memory grew by gcGrowthPages since the last
// collection.
func (p *Plugin) release(inst *instance, spent bool, pages uint32) {
	inst.calls++
	if spent || inst.calls >= p.spec.RecycleAfter || uint64(pages)*pageSize > uint64(p.spec.RecycleAboveBytes) {
		p.replace(inst)
		return
	}
	if pages >= inst.gcPages+gcGrowthPages {
		inst.timer.Reset(p.spec.Limits.Deadline)
		err := inst.gc.CallWithStack(inst.ctx, nil)
		if !inst.timer.Stop() || err != nil {
			p.replace(inst)
			return
		}
		p.guestGCs.Add(1)
		inst.gcPages = inst.mod.Memory().Size() / pageSize
	}
	p.put(inst)
}

// CircuitState is the state of a plugin's circuit breaker.
type CircuitState int

// The circuit states.
const (
	// CircuitClosed: calls go through.
	CircuitClosed CircuitState = iota
	// CircuitOpen: calls fail with ErrCircuitOpen until the cool-down ends.
	CircuitOpen
	// CircuitHalfOpen: the cool-down ended; one probe call at a time
	// decides whether the circuit closes or opens again.
	CircuitHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s CircuitState) String() string {
	switch s {
	case CircuitOpen:
		return "open"
	case CircuitHalfOpen:
		return "half-open"
	}
	return "closed"
}

// Stats are a plugin's counters.
type Stats struct {
	// Calls and Errors count every call and every failed one (of any
	// kind); Timeouts and Traps (out-of-memory included) the ones that
	// cost an instance.
	Calls, Errors, Timeouts, Traps int64
	// ConsecutiveFailures is the circuit breaker's count.
	ConsecutiveFailures int
	// InstancesCreated counts instantiations; LiveInstances is the
	// number of instances alive or starting now.
	InstancesCreated int64
	LiveInstances    int
	// CircuitOpen is Circuit == CircuitOpen.
	CircuitOpen bool
	Circuit     CircuitState
	// MemoryPagesHighWater is the largest linear memory of any instance,
	// in 64 KiB pages.
	MemoryPagesHighWater uint32
	// LogBytes reached the host's log; LogDropped were over the caps.
	LogBytes, LogDropped int64
	// GuestGCs counts collections the host asked for.
	GuestGCs int64
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	st := Stats{
		Calls: p.calls.Load(), Errors: p.errors.Load(), Timeouts: p.timeouts.Load(), Traps: p.traps.Load(),
		ConsecutiveFailures: int(p.failures.Load()),
		InstancesCreated:    p.created.Load(), LiveInstances: len(p.slots),
		MemoryPagesHighWater: p.memHighWater.Load(),
		LogBytes:             p.logBytes.Load(), LogDropped: p.logDropped.Load(),
		GuestGCs: p.guestGCs.Load(),
	}
	if until := p.openUntil.Load(); until != 0 {
		st.Circuit = CircuitHalfOpen
		if time.Now().UnixNano() < until {
			st.Circuit, st.CircuitOpen = CircuitOpen, true
		}
	}
	return st
}

// Close closes the plugin's instances and its wazero runtime. Calls in
// flight fail with ErrClosed; later calls too.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed.CompareAndSwap(false, true) {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	p.bg.Wait()
	for {
		select {
		case in := <-p.idle:
			p.discard(in)
		default:
			if err := p.rt.Close(ctx); err != nil {
				return fmt.Errorf("close plugin %s: %w", p.name, err)
			}
			return nil
		}
	}
}
