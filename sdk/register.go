package sdk

import "github.com/plenum-vote/plenum/sdk/wire"

// LogLevel is the level of a plugin log message.
type LogLevel uint32

// The log levels.
const (
	LogDebug LogLevel = iota
	LogInfo
	LogWarn
	LogError
)

// RegisterTally makes fn the plugin's tally hook. The input it receives
// and the output it returns are reused between calls: do not keep them.
func RegisterTally(fn func(*TallyInput) (*TallyOutput, error)) {
	var (
		in TallyInput
		r  wire.Reader
		w  wire.Writer
	)
	RegisterRaw(HookTally, func(b []byte) ([]byte, error) {
		r.Reset(b)
		if err := in.ReadWire(&r); err != nil {
			return nil, err
		}
		out, err := fn(&in)
		if err != nil {
			return nil, err
		}
		w.Reset()
		out.AppendWire(&w)
		return w.Bytes(), nil
	})
}
