// Command garbage allocates about 1.3 KB of garbage per call, like a guest
// that decodes with a reflection-based codec: it shows whether the guest's
// heap stays bounded in a long-lived instance.
package main

import "github.com/plenum-vote/plenum/sdk"

var sink []byte

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		for i := 0; i < 10; i++ {
			sink = make([]byte, 128+len(in))
		}
		return sink[:4], nil
	})
}

func main() {}
