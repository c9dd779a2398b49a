package wasm

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// More capabilities a plugin may be granted.
const (
	CapClock = "clock"
	CapGeoIP = "geoip"
	CapKV    = "kv"
)

// KV is a key-value store a plugin may use (capability "kv"), one
// namespace per tenant and plugin. Implementations enforce quotas.
type KV interface {
	Get(ctx context.Context, tenantID, plugin, key string) ([]byte, bool, error)
	Put(ctx context.Context, tenantID, plugin, key string, value []byte) error
}

// ErrQuota is returned by a KV over its quota.
var ErrQuota = errors.New("key-value quota exceeded")

// MemoryKV is an in-memory KV with quotas, for tests and single hosts.
type MemoryKV struct {
	// MaxKey, MaxValue and MaxEntries bound a namespace (defaults 256 B,
	// 64 KiB, 1,000 entries).
	MaxKey, MaxValue, MaxEntries int

	mu sync.Mutex
	m  map[string]map[string][]byte
}

func (k *MemoryKV) limits() (int, int, int) {
	mk, mv, me := k.MaxKey, k.MaxValue, k.MaxEntries
	if mk <= 0 {
		mk = 256
	}
	if mv <= 0 {
		mv = 64 << 10
	}
	if me <= 0 {
		me = 1000
	}
	return mk, mv, me
}

// Get returns the value of key in the namespace of tenantID and plugin.
func (k *MemoryKV) Get(_ context.Context, tenantID, plugin, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[tenantID+"\x00"+plugin][key]
	return append([]byte(nil), v...), ok, nil
}

// Put stores value under key, within the quotas.
func (k *MemoryKV) Put(_ context.Context, tenantID, plugin, key string, value []byte) error {
	mk, mv, me := k.limits()
	if len(key) == 0 || len(key) > mk || len(value) > mv {
		return fmt.Errorf("%w: key of %d bytes or value of %d bytes", ErrQuota, len(key), len(value))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[string]map[string][]byte)
	}
	ns := tenantID + "\x00" + plugin
	if k.m[ns] == nil {
		k.m[ns] = make(map[string][]byte)
	}
	if _, exists := k.m[ns][key]; !exists && len(k.m[ns]) >= me {
		return fmt.Errorf("%w: %d entries", ErrQuota, me)
	}
	k.m[ns][key] = append([]byte(nil), value...)
	return nil
}

// Caller says on whose behalf a plugin is called.
type Caller struct {
	// TenantID scopes the "kv" store.
	TenantID string
	// Config is the tenant's configuration of the plugin ("config").
	Config []byte
}

// exportHostFunctions adds the capability-gated functions to the host
// module builder. Each is present for every plugin; checkImportsExports
// refuses modules that import one they were not granted.
func (p *Plugin) exportHostFunctions(b wazero.HostModuleBuilder, cfg RuntimeConfig) wazero.HostModuleBuilder {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	clock := cfg.Clock
	b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		if clock == nil {
			stack[0] = 0
			return
		}
		stack[0] = uint64(clock().UnixNano())
	}), nil, []api.ValueType{i64}).Export("now_unix_nano")

	geo := cfg.GeoIP
	b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		ptr, n, out := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
		stack[0] = 0
		if geo == nil || n > 64 {
			return
		}
		b, ok := m.Memory().Read(ptr, n)
		if !ok {
			return
		}
		addr, err := netip.ParseAddr(string(b))
		if err != nil {
			return
		}
		cc, ok := geo(addr.Unmap())
		if !ok || len(cc) != 2 || !m.Memory().Write(out, []byte(cc)) {
			return
		}
		stack[0] = 1
	}), []api.ValueType{i32, i32, i32}, []api.ValueType{i32}).Export("geoip_country")

	kv := cfg.KV
	b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		kp, kn, vp, vcap := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
		stack[0] = ^uint64(0) // -1: not found or error
		cs, _ := ctx.Value(callStateKey{}).(*callState)
		if kv == nil || cs == nil || cs.tenantID == "" || kn > 256 {
			return
		}
		key, ok := m.Memory().Read(kp, kn)
		if !ok {
			return
		}
		v, found, err := kv.Get(ctx, cs.tenantID, p.name, string(key))
		if err != nil || !found {
			return
		}
		if uint32(len(v)) <= vcap && len(v) > 0 && !m.Memory().Write(vp, v) {
			return
		}
		stack[0] = uint64(len(v))
	}), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i64}).Export("kv_get")

	b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		kp, kn, vp, vn := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
		stack[0] = 2
		cs, _ := ctx.Value(callStateKey{}).(*callState)
		if kv == nil || cs == nil || cs.tenantID == "" || kn > 256 {
			return
		}
		key, ok1 := m.Memory().Read(kp, kn)
		val, ok2 := m.Memory().Read(vp, vn)
		if !ok1 || !ok2 {
			return
		}
		switch err := kv.Put(ctx, cs.tenantID, p.name, string(key), val); {
		case err == nil:
			stack[0] = 0
		case errors.Is(err, ErrQuota):
			stack[0] = 1
		}
	}), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export("kv_put")
	return b
}
