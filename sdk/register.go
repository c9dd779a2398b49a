package sdk

import (
	"errors"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// LogLevel is the level of a plugin log message.
type LogLevel uint32

// The log levels.
const (
	LogDebug LogLevel = iota
	LogInfo
	LogWarn
	LogError
)

// errNoOutput is returned for a handler that returns neither output nor
// error.
var errNoOutput = errors.New("plugin returned no output and no error")

type wireReader interface{ ReadWire(*wire.Reader) error }

type wireAppender interface{ AppendWire(*wire.Writer) }

// register installs a typed handler: decode into in, call, encode. The
// reader, writer and input are reused between calls.
func register(h Hook, in wireReader, call func() (wireAppender, error)) {
	var (
		r wire.Reader
		w wire.Writer
	)
	RegisterRaw(h, func(b []byte) ([]byte, error) {
		r.Reset(b)
		if err := in.ReadWire(&r); err != nil {
			return nil, err
		}
		out, err := call()
		if err != nil {
			return nil, err
		}
		w.Reset()
		out.AppendWire(&w)
		return w.Bytes(), nil
	})
}

// RegisterTally makes fn the plugin's tally hook. The input it receives
// and the output it returns are reused between calls: do not keep them.
func RegisterTally(fn func(*TallyInput) (*TallyOutput, error)) {
	var in TallyInput
	register(HookTally, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}
