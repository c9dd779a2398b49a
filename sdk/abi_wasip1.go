//go:build wasip1

package sdk

import (
	"runtime"
	"unsafe"
)

// Guest state. A plugin instance serves one call at a time, so plain
// package variables are safe here and spare every call an allocation.
var (
	handlers [len(hookNames)]Handler
	inBuf    []byte
	outBuf   []byte
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
	return encodeResult(ptrOf(outBuf), uint32(len(outBuf)), 0)
}

//go:wasmexport plenum_abi_v1_gc
func abiGC() { runtime.GC() }

func fail(flag uint64, msg string) uint64 {
	outBuf = append(outBuf[:0], msg...)
	return encodeResult(ptrOf(outBuf), uint32(len(outBuf)), resultError|flag)
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
