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
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Digest returns the hex SHA-256 of the module.
func (p *Plugin) Digest() string { return p.digest }

func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize"))
	if err != nil {
		return nil, err
	}
	p.created.Add(1)
	return &instance{
		mod:        mod,
		input:      mod.ExportedFunction(sdk.ExportInput),
		call:       mod.ExportedFunction(sdk.ExportCall),
		stack:      make([]uint64, 2),
		inputStack: make([]uint64, 1),
	}, nil
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
	_ = in.mod.Close(context.Background())
	<-p.slots
}

// Call runs hook h of the plugin on in (the hook's wire-encoded input) and
// returns a copy of its output. Failures are *CallError values whose Kind
// is one of the Err… sentinels.
func (p *Plugin) Call(ctx context.Context, h sdk.Hook, in []byte) (out []byte, err error) {
	start := time.Now()
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
	cs := &callState{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callStateKey{}, cs), p.spec.Limits.Deadline)
	defer cancel()

	mem := inst.mod.Memory()
	if uint32(len(in)) > inst.inCap || inst.inPtr == 0 {
		inst.inputStack[0] = uint64(len(in))
		if err := inst.input.CallWithStack(cctx, inst.inputStack); err != nil {
			return nil, p.broken(ctx, inst, h, err)
		}
		inst.inPtr, inst.inCap = uint32(inst.inputStack[0]), uint32(max(len(in), 256))
	}
	if !mem.Write(inst.inPtr, in) {
		p.discard(inst)
		return nil, p.fail(h, ErrTrap, "input buffer outside guest memory")
	}
	inst.stack[0], inst.stack[1] = uint64(h), uint64(len(in))
	if err := inst.call.CallWithStack(cctx, inst.stack); err != nil {
		return nil, p.broken(ctx, inst, h, err)
	}
	if pages := mem.Size() / 65536; pages > p.memHighWater.Load() {
		p.memHighWater.Store(pages)
	}
	res := sdk.DecodeResult(inst.stack[0])
	if int(res.Len) > p.spec.Limits.MaxOutput {
		p.release(inst)
		return nil, p.fail(h, ErrOutputTooLarge, "")
	}
	view, ok := mem.Read(res.Ptr, res.Len)
	if !ok {
		p.discard(inst)
		return nil, p.fail(h, ErrTrap, "output outside guest memory")
	}
	out = append([]byte(nil), view...)
	switch {
	case res.Panic:
		p.discard(inst)
		p.traps.Add(1)
		p.failed()
		return nil, p.fail(h, ErrTrap, string(out))
	case res.NoHook:
		p.release(inst)
		return nil, p.fail(h, ErrUnknownHook, "")
	case res.Err:
		p.release(inst)
		return nil, p.fail(h, ErrPluginError, string(out))
	}
	p.release(inst)
	p.failures.Store(0)
	p.openUntil.Store(0)
	return out, nil
}

// release returns inst to the pool, or replaces it once it has served
// RecycleAfter calls.
func (p *Plugin) release(inst *instance) {
	inst.calls++
	if inst.calls >= p.spec.RecycleAfter {
		p.discard(inst)
		return
	}
	p.put(inst)
}

// broken classifies a failed export call, discards the instance (its state
// can no longer be trusted) and counts the failure for the breaker.
func (p *Plugin) broken(ctx context.Context, inst *instance, h sdk.Hook, err error) error {
	pages := inst.mod.Memory().Size() / 65536
	p.discard(inst)
	p.failed()
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded,
		errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		p.timeouts.Add(1)
		return p.fail(h, ErrTimeout, "")
	case pages*10 >= p.spec.Limits.MemoryPages*9 || strings.Contains(err.Error(), "out of memory"):
		p.traps.Add(1)
		return p.fail(h, ErrOutOfMemory, "")
	default:
		p.traps.Add(1)
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
