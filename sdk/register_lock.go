//go:build !wasip1

package sdk

import "sync"

// callLock serialises the calls of one hook registration in native
// builds, where CallNative may be called from several goroutines.
type callLock struct{ sync.Mutex }
