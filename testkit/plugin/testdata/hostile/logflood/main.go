// Command logflood logs a million lines per call.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		for i := 0; i < 1_000_000; i++ {
			sdk.Log(sdk.LogInfo, "flooding the host's log with a line that repeats")
		}
		return []byte("done"), nil
	})
}

func main() {}
