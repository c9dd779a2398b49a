//go:build wasip1

package sdk

import (
	"errors"
	"runtime"
	"unsafe"
)

// Guest state. A plugin instance serves one call at a time, so plain
// package variables are safe here and spare every call an allocation.
var (
	handlers [len(hookNames)]Handler
	inBuf    []byte
	// errBuf holds the message of a failed call. It is never a handler's
	// output, so writing a message cannot overwrite data a handler keeps
	// (a cached answer returned by reference).
	errBuf []byte
	// outBuf keeps the last output reachable until the next call, so the
	// guest's collector cannot reuse it before the host has copied it.
	outBuf []byte
)

// RegisterRaw installs fn as the handler of hook h. Plugins normally call
// the typed RegisterTally and friends instead.
func RegisterRaw(h Hook, fn Handler) {
	if h < 1 || int(h) >= len(handlers) {
		panic("sdk: unknown hook")
	}
	handlers[h] = fn
}

//go:wasmexport plenum_abi_v1_input
func abiInput(size uint32) uint32 {
	if cap(inBuf) < int(size) || cap(inBuf) == 0 {
		inBuf = make([]byte, max(int(size), 256))
	}
	inBuf = inBuf[:size]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(inBuf[:cap(inBuf)]))))
}

//go:wasmexport plenum_abi_v1_call
func abiCall(hook, size uint32) uint64 {
	if hook < 1 || int(hook) >= len(handlers) || handlers[hook] == nil {
		return fail(resultNoHook, "plenum: no handler for hook "+Hook(hook).String())
	}
	if int(size) > cap(inBuf) {
		return fail(0, "plenum: input larger than the input buffer")
	}
	// A panic is not recovered: it ends the instance (the host reports a
	// trap with the panic message from the guest's stderr and replaces
	// the instance), which costs nothing on the hot path, where a deferred
	// recover costs about 1 µs under wazero's termination checks.
	out, err := handlers[hook](inBuf[:size])
	if err != nil {
		return fail(0, err.Error())
	}
	outBuf = out
	calls++
	if calls%yieldEvery == 0 {
		// An export that never blocks never lets the collector's
		// background workers run: in a long-lived instance a started GC
		// cycle then never ends and the heap grows without bound. A yield
		// every few calls keeps it flat (a guest allocating 1.3 KB per
		// call stayed at 7.5 MiB over 600,000 calls) for about 20 ns a
		// call on average.
		runtime.Gosched()
	}
	return encodeResult(ptrOf(out), uint32(len(out)), 0)
}

// yieldEvery is how many calls pass between two yields to the guest's
// scheduler.
const yieldEvery = 64

// calls counts the instance's successful calls.
var calls uint32

//go:wasmexport plenum_abi_v1_gc
func abiGC() { runtime.GC() }

func fail(flag uint64, msg string) uint64 {
	errBuf = append(errBuf[:0], msg...)
	return encodeResult(ptrOf(errBuf), uint32(len(errBuf)), resultError|flag)
}

func ptrOf(b []byte) uint32 {
	if cap(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

//go:wasmimport plenum_v1 log
func hostLog(level uint32, ptr uint32, n uint32)

// Log writes a message to the host's log for this plugin (capability
// "log"). The host caps the volume.
func Log(level LogLevel, msg string) {
	if len(msg) == 0 {
		return
	}
	hostLog(uint32(level), uint32(uintptr(unsafe.Pointer(unsafe.StringData(msg)))), uint32(len(msg)))
}

//go:wasmimport plenum_v1 config
func hostConfig(ptr, capacity uint32) uint32

var configBuf []byte

// Config returns the calling tenant's configuration of the plugin (JSON),
// or nil (capability "config"). The bytes are valid during the call only.
func Config() []byte {
	n := hostConfig(0, 0)
	if n == 0 {
		return nil
	}
	if uint32(cap(configBuf)) < n {
		configBuf = make([]byte, n)
	}
	configBuf = configBuf[:n]
	if hostConfig(uint32(uintptr(unsafe.Pointer(unsafe.SliceData(configBuf)))), n) != n {
		return nil
	}
	return configBuf
}

//go:wasmimport plenum_v1 now_unix_nano
func hostNow() int64

//go:wasmimport plenum_v1 geoip_country
func hostCountry(ptr, n, out uint32) uint32

//go:wasmimport plenum_v1 kv_get
func hostKVGet(kp, kn, vp, vcap uint32) int64

//go:wasmimport plenum_v1 kv_put
func hostKVPut(kp, kn, vp, vn uint32) uint32

// Now returns the host's time in unix nanoseconds (capability "clock").
// Without the capability a plugin sees only WASI's fixed clock.
func Now() int64 { return hostNow() }

// Country returns the ISO 3166-1 alpha-2 country of ip from the host's
// GeoIP database (capability "geoip").
func Country(ip string) (string, bool) {
	if ip == "" {
		return "", false
	}
	var cc [2]byte
	if hostCountry(uint32(uintptr(unsafe.Pointer(unsafe.StringData(ip)))), uint32(len(ip)), uint32(uintptr(unsafe.Pointer(&cc[0])))) != 1 {
		return "", false
	}
	return string(cc[:]), true
}

var kvBuf []byte

// KVGet reads key from the plugin's store for the calling tenant
// (capability "kv"). The value is valid during the call only.
func KVGet(key string) ([]byte, bool) {
	if key == "" {
		return nil, false
	}
	kp, kn := uint32(uintptr(unsafe.Pointer(unsafe.StringData(key)))), uint32(len(key))
	for {
		vp := uint32(0)
		if cap(kvBuf) > 0 {
			vp = uint32(uintptr(unsafe.Pointer(unsafe.SliceData(kvBuf[:cap(kvBuf)]))))
		}
		n := hostKVGet(kp, kn, vp, uint32(cap(kvBuf)))
		if n < 0 {
			return nil, false
		}
		if int(n) <= cap(kvBuf) {
			return kvBuf[:n], true
		}
		kvBuf = make([]byte, n)
	}
}

// ErrKVQuota is returned by KVPut when the tenant's store for this plugin
// is full or the key or value is too large.
var ErrKVQuota = errors.New("sdk: key-value quota exceeded")

// ErrKV is returned by KVPut for any other failure.
var ErrKV = errors.New("sdk: key-value store unavailable")

// KVPut stores value under key for the calling tenant (capability "kv").
func KVPut(key string, value []byte) error {
	if key == "" {
		return ErrKV
	}
	vp := uint32(0)
	if len(value) > 0 {
		vp = uint32(uintptr(unsafe.Pointer(unsafe.SliceData(value))))
	}
	switch hostKVPut(uint32(uintptr(unsafe.Pointer(unsafe.StringData(key)))), uint32(len(key)), vp, uint32(len(value))) {
	case 0:
		return nil
	case 1:
		return ErrKVQuota
	}
	return ErrKV
}
