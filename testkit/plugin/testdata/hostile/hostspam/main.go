// Command hostspam calls host functions in tight loops: the log (its
// input's first byte, if any, says how many millions of one-byte lines;
// default one), then the clock a million times. The deadline and the log
// caps bound it.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		rounds := 1
		if len(in) > 0 {
			rounds = int(in[0])
		}
		for r := 0; r < rounds; r++ {
			for i := 0; i < 1_000_000; i++ {
				sdk.Log(sdk.LogDebug, "x")
			}
		}
		var t int64
		for i := 0; i < 1_000_000; i++ {
			t += sdk.Now()
		}
		if t == 0 {
			return []byte("no clock"), nil
		}
		return []byte("done"), nil
	})
}

func main() {}
