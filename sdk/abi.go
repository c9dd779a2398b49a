package sdk

// Result bits of the plenum_abi_v1_call export. A successful call returns
// ptr<<32 | len of the output in guest memory; on failure, resultError is
// set and ptr/len point at the error message instead. A panic ends the
// instance (the host sees a trap).
const (
	resultError    = uint64(1) << 63
	resultNoHook   = uint64(1) << 61
	resultPtrShift = 32
	resultPtrMask  = (uint64(1) << 29) - 1
	resultLenMask  = (uint64(1) << 32) - 1
)

// Result is a decoded plenum_abi_v1_call result, for the host.
type Result struct {
	Ptr, Len uint32
	// Err is set when the handler returned an error (the output is its
	// message); NoHook when the plugin registered no handler for the hook.
	Err, NoHook bool
}

// DecodeResult splits the value returned by plenum_abi_v1_call.
func DecodeResult(v uint64) Result {
	return Result{
		Ptr:    uint32((v >> resultPtrShift) & resultPtrMask),
		Len:    uint32(v & resultLenMask),
		Err:    v&resultError != 0,
		NoHook: v&resultNoHook != 0,
	}
}

func encodeResult(ptr, n uint32, flags uint64) uint64 {
	return flags | uint64(ptr)<<resultPtrShift | uint64(n)
}

// The names of the guest's exports.
const (
	ExportInput = "plenum_abi_v1_input"
	ExportCall  = "plenum_abi_v1_call"
	ExportGC    = "plenum_abi_v1_gc"
)

// Handler is a hook implementation at the byte level: it reads the hook's
// wire-encoded input and returns its wire-encoded output. in is valid only
// during the call.
type Handler func(in []byte) ([]byte, error)
