//go:build wasip1

package sdk

// callLock is a no-op in a wasm guest: an instance runs one call at a
// time, and every instruction on the call path costs more under the
// host's deadline checks.
type callLock struct{}

func (callLock) Lock()   {}
func (callLock) Unlock() {}
