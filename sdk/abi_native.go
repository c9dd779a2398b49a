//go:build !wasip1

package sdk

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// In a native build (tests, benchmarks) handlers are kept in a registry
// so that a plugin's Go code can be called directly: CallNative is the
// baseline the wasm path is measured against.
var native struct {
	sync.RWMutex
	handlers [len(hookNames)]Handler
}

// RegisterRaw installs fn as the handler of hook h.
func RegisterRaw(h Hook, fn Handler) {
	if h < 1 || int(h) >= len(hookNames) {
		panic("sdk: unknown hook")
	}
	native.Lock()
	native.handlers[h] = fn
	native.Unlock()
}

// ErrNoHandler is returned by CallNative for a hook nobody registered.
var ErrNoHandler = errors.New("sdk: no handler for hook")

// CallNative calls the handler registered for h directly, without wasm.
func CallNative(h Hook, in []byte) ([]byte, error) {
	if h < 1 || int(h) >= len(hookNames) {
		return nil, fmt.Errorf("%w %d", ErrNoHandler, h)
	}
	native.RLock()
	fn := native.handlers[h]
	native.RUnlock()
	if fn == nil {
		return nil, fmt.Errorf("%w %s", ErrNoHandler, h)
	}
	return fn(in)
}

// Log is a no-op outside wasm.
func Log(level LogLevel, msg string) {}

// NativeConfig is what Config returns in a native build; tests set it.
var NativeConfig []byte

// Config returns the configuration set in NativeConfig (native builds).
func Config() []byte { return NativeConfig }

// Now returns the time in unix nanoseconds (native builds: the real clock).
func Now() int64 { return time.Now().UnixNano() }

// Country knows no country in native builds.
func Country(ip string) (string, bool) { return "", false }

// ErrKVQuota is returned by KVPut when the store is full.
var ErrKVQuota = errors.New("sdk: key-value quota exceeded")

// ErrKV is returned by KVPut for any other failure; native builds have no
// store.
var ErrKV = errors.New("sdk: key-value store unavailable")

// KVGet finds nothing in native builds.
func KVGet(key string) ([]byte, bool) { return nil, false }

// KVPut fails in native builds.
func KVPut(key string, value []byte) error { return ErrKV }
