package sdk

import (
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// LogLevel is the level of a plugin log message (see Log).
type LogLevel uint32

// The log levels.
const (
	LogDebug LogLevel = iota
	LogInfo
	LogWarn
	LogError
)

// ErrNoOutput is returned for a hook function that returns neither an
// output nor an error.
var ErrNoOutput = errors.New("sdk: plugin returned no output and no error")

// register installs fn as the handler of hook h on top of RegisterRaw:
// decode the input, call fn, encode its output.
//
// Each registration owns one input value, one Reader and one Writer,
// reused by every call: the guest decodes without allocating (strings
// and bytes are views of the input buffer, valid during the call) and
// encodes into a warm buffer, which the ABI hands to the host before the
// next call. A wasm instance runs one call at a time, so the guest takes
// no lock; in native builds, where calls may be concurrent, a mutex
// serialises them.
func register[I, O any, PI interface {
	*I
	Decoder
}, PO interface {
	*O
	Encoder
}](h Hook, fn func(PI) (PO, error)) {
	if fn == nil {
		panic("sdk: Register" + h.String() + " with a nil function")
	}
	var (
		mu callLock
		in = PI(new(I))
		r  wire.Reader
		w  wire.Writer
	)
	RegisterRaw(h, func(b []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		r.ResetShared(b)
		if err := in.ReadWire(&r); err != nil {
			return nil, fmt.Errorf("sdk: decode: %w", err)
		}
		out, err := fn(in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return nil, ErrNoOutput
		}
		w.Reset()
		out.AppendWire(&w)
		return w.Bytes(), nil
	})
}

// RegisterTally makes fn the plugin's tally hook. Call it from an init
// function (a wasm reactor runs init, not main).
//
// The input fn receives is reused by the next call, and its strings and
// byte slices are views of the host's input buffer: copy what you keep.
// The output fn returns is encoded before the next call, so fn may reuse
// one output value between calls. The same holds for every Register
// function.
func RegisterTally(fn func(*TallyInput) (*TallyOutput, error)) { register(HookTally, fn) }

// RegisterValidateBallot makes fn the plugin's validate_ballot hook.
func RegisterValidateBallot(fn func(*ValidateBallotInput) (*ValidateBallotOutput, error)) {
	register(HookValidateBallot, fn)
}

// RegisterScanUpload makes fn the plugin's scan_upload hook.
func RegisterScanUpload(fn func(*ScanUploadInput) (*ScanUploadOutput, error)) {
	register(HookScanUpload, fn)
}

// RegisterScanMessage makes fn the plugin's scan_message hook.
func RegisterScanMessage(fn func(*ScanMessageInput) (*ScanMessageOutput, error)) {
	register(HookScanMessage, fn)
}

// RegisterRetention makes fn the plugin's retention hook.
func RegisterRetention(fn func(*RetentionInput) (*RetentionOutput, error)) {
	register(HookRetention, fn)
}

// RegisterEmbargo makes fn the plugin's embargo hook.
func RegisterEmbargo(fn func(*EmbargoInput) (*EmbargoOutput, error)) { register(HookEmbargo, fn) }

// RegisterSignupRisk makes fn the plugin's signup_risk hook.
func RegisterSignupRisk(fn func(*SignupInput) (*SignupOutput, error)) {
	register(HookSignupRisk, fn)
}
