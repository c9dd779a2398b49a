package wasm

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"log/slog"

	"github.com/plenum-vote/plenum/sdk"
)

// Plugin is a loaded plugin: one compiled module and a bounded pool of
// instances. It is safe for concurrent use; an instance serves one call at
// a time.
type Plugin struct {
	name     string
	spec     PluginSpec
	digest   string
	logger   *slog.Logger
	observer Observer
	rt       wazero.Runtime
	compiled wazero.CompiledModule

	idle  chan *instance // ready instances
	slots chan struct{}  // one token per live instance

	failures  atomic.Int32
	openUntil atomic.Int64 // unix nanoseconds; 0 when closed
	closed    atomic.Bool

	calls, errors, timeouts, traps atomic.Int64
	created                        atomic.Int64
	memHighWater                   atomic.Uint32
}

// instance is one initialised module instance.
type instance struct {
	mod        api.Module
	input      api.Function
	call       api.Function
	inPtr      uint32
	inCap      uint32
	calls      int
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
	// stderr keeps the end of what the guest wrote to stderr, so that a
	// panic's message reaches the error.
	stderr *tailBuffer
}

// tailBuffer keeps the first max bytes written to it during a call.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	if room := t.max - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// message returns the first line of what was written.
func (t *tailBuffer) message() string {
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

func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	stderr := &tailBuffer{max: 512}
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, wazero.NewModuleConfig().
		WithName("").
		WithStderr(stderr).
		WithStartFunctions("_initialize"))
	if err != nil {
		return nil, err
	}
	p.created.Add(1)
	in := &instance{
		mod:        mod,
		input:      mod.ExportedFunction(sdk.ExportInput),
		call:       mod.ExportedFunction(sdk.ExportCall),
		stack:      make([]uint64, 2),
		inputStack: make([]uint64, 1),
		state:      &callState{},
		stderr:     stderr,
	}
	in.ctx, in.cancel = context.WithCancel(context.WithValue(context.Background(), callStateKey{}, in.state))
	in.timer = time.AfterFunc(time.Hour, in.cancel)
	in.timer.Stop()
	return in, nil
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

func (p *Plugin) discard(in *instance) {
	in.timer.Stop()
	in.cancel()
	_ = in.mod.Close(context.Background())
	<-p.slots
}

// Call runs hook h of the plugin on in (the hook's wire-encoded input) and
// returns a copy of its output. Failures are *CallError values whose Kind
// is one of the Err… sentinels. ctx bounds the wait for a free instance;
// the call itself is bounded by the plugin's deadline.
func (p *Plugin) Call(ctx context.Context, h sdk.Hook, in []byte) (out []byte, err error) {
	return p.CallWithConfig(ctx, h, in, nil)
}

// CallWithConfig is Call for a tenant whose configuration of the plugin
// is config (JSON, validated when the tenant saved it); the plugin reads it
// with the "config" host function.
func (p *Plugin) CallWithConfig(ctx context.Context, h sdk.Hook, in, config []byte) (out []byte, err error) {
	return p.CallFor(ctx, h, in, Caller{Config: config})
}

// CallFor is Call on behalf of a caller: its tenant scopes the "kv" store
// and its config is what "config" returns.
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
		return nil, p.fail(h, ErrClosed, "")
	}
	if len(in) > p.spec.Limits.MaxInput {
		return nil, p.fail(h, ErrInputTooLarge, "")
	}
	if until := p.openUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return nil, p.fail(h, ErrCircuitOpen, "")
	}
	inst, err := p.get(ctx)
	if err != nil {
		return nil, p.fail(h, ErrTrap, "no instance: "+err.Error())
	}
	*inst.state = callState{config: c.Config, tenantID: c.TenantID}
	inst.stderr.buf = inst.stderr.buf[:0]
	inst.timer.Reset(p.spec.Limits.Deadline)
	res, err := p.run(inst, h, in)
	// Stop reports false when the deadline fired: the instance's context is
	// spent even if the call returned in time, so it is not reused.
	spent := !inst.timer.Stop()
	if err != nil {
		return nil, p.broken(inst, h, err)
	}
	mem := inst.mod.Memory()
	if pages := mem.Size() / 65536; pages > p.memHighWater.Load() {
		p.memHighWater.Store(pages)
	}
	keep := func() {
		if spent {
			p.discard(inst)
		} else {
			p.release(inst)
		}
	}
	if int(res.Len) > p.spec.Limits.MaxOutput {
		keep()
		return nil, p.fail(h, ErrOutputTooLarge, "")
	}
	view, ok := mem.Read(res.Ptr, res.Len)
	if !ok {
		p.discard(inst)
		return nil, p.fail(h, ErrTrap, "output outside guest memory")
	}
	out = append([]byte(nil), view...)
	switch {
	case res.NoHook:
		keep()
		return nil, p.fail(h, ErrUnknownHook, "")
	case res.Err:
		keep()
		return nil, p.fail(h, ErrPluginError, string(out))
	}
	keep()
	if p.failures.Load() != 0 {
		p.failures.Store(0)
		p.openUntil.Store(0)
	}
	return out, nil
}

// run writes the input into the instance and calls the hook.
func (p *Plugin) run(inst *instance, h sdk.Hook, in []byte) (sdk.Result, error) {
	if uint32(len(in)) > inst.inCap || inst.inPtr == 0 {
		inst.inputStack[0] = uint64(len(in))
		if err := inst.input.CallWithStack(inst.ctx, inst.inputStack); err != nil {
			return sdk.Result{}, err
		}
		inst.inPtr, inst.inCap = uint32(inst.inputStack[0]), uint32(max(len(in), 256))
	}
	if !inst.mod.Memory().Write(inst.inPtr, in) {
		return sdk.Result{}, errors.New("input buffer outside guest memory")
	}
	inst.stack[0], inst.stack[1] = uint64(h), uint64(len(in))
	if err := inst.call.CallWithStack(inst.ctx, inst.stack); err != nil {
		return sdk.Result{}, err
	}
	return sdk.DecodeResult(inst.stack[0]), nil
}

// broken classifies a failed export call, discards the instance (its state
// can no longer be trusted) and counts the failure for the breaker.
func (p *Plugin) broken(inst *instance, h sdk.Hook, err error) error {
	pages := inst.mod.Memory().Size() / 65536
	p.discard(inst)
	p.failed()
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit) && (exit.ExitCode() == sys.ExitCodeDeadlineExceeded || exit.ExitCode() == sys.ExitCodeContextCanceled),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		p.timeouts.Add(1)
		return p.fail(h, ErrTimeout, "")
	case pages*10 >= p.spec.Limits.MemoryPages*9 || strings.Contains(err.Error(), "out of memory"):
		p.traps.Add(1)
		return p.fail(h, ErrOutOfMemory, "")
	default:
		p.traps.Add(1)
		if msg := inst.stderr.message(); msg != "" {
			return p.fail(h, ErrTrap, msg)
		}
		return p.fail(h, ErrTrap, err.Error())
	}
}

// failed counts a failure and opens the circuit at the threshold.
func (p *Plugin) failed() {
	if int(p.failures.Add(1)) >= p.spec.FailureThreshold {
		p.openUntil.Store(time.Now().Add(p.spec.Cooldown).UnixNano())
		p.logger.Warn("plugin circuit open", "failures", p.failures.Load(), "cooldown", p.spec.Cooldown.String())
	}
}

func (p *Plugin) fail(h sdk.Hook, kind error, detail string) error {
	if len(detail) > 512 {
		detail = detail[:512]
	}
	return &CallError{Plugin: p.name, Hook: h, Kind: kind, Detail: detail}
}

// Stats are a plugin's counters.
type Stats struct {
	Calls, Errors, Timeouts, Traps int64
	InstancesCreated               int64
	LiveInstances                  int
	CircuitOpen                    bool
	MemoryPagesHighWater           uint32
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	until := p.openUntil.Load()
	return Stats{
		Calls: p.calls.Load(), Errors: p.errors.Load(), Timeouts: p.timeouts.Load(), Traps: p.traps.Load(),
		InstancesCreated: p.created.Load(), LiveInstances: len(p.slots),
		CircuitOpen:          until != 0 && time.Now().UnixNano() < until,
		MemoryPagesHighWater: p.memHighWater.Load(),
	}
}

// Close closes the plugin's instances and runtime. Calls in flight finish
// or fail with ErrClosed.
func (p *Plugin) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	for {
		select {
		case in := <-p.idle:
			p.discard(in)
		default:
			return p.rt.Close(ctx)
		}
	}
}

// release returns inst to the pool, or replaces it once it has served
// RecycleAfter calls or its memory has grown past RecycleAboveBytes.
func (p *Plugin) release(inst *instance) {
	inst.calls++
	if inst.calls >= p.spec.RecycleAfter || inst.mod.Memory().Size() > p.spec.RecycleAboveBytes {
		p.discard(inst)
		return
	}
	p.put(inst)
}
