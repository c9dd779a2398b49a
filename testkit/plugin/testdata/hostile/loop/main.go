// Command loop never returns from its tally hook, unless its input is
// "quick": then it answers "ok" (to show that the next call, on a fresh
// instance, works).
package main

import "github.com/plenum-vote/plenum/sdk"

var sink int

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		if string(in) == "quick" {
			return []byte("ok"), nil
		}
		for i := 0; ; i++ {
			sink += i
		}
	})
}

func main() {}
