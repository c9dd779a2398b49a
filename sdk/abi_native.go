//go:build !wasip1

package sdk

import (
	"errors"
	"fmt"
	"sync"
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
