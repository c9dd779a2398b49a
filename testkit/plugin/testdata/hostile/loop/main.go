// Command loop never returns from its tally hook.
package main

import "github.com/plenum-vote/plenum/sdk"

var sink int

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		for i := 0; ; i++ {
			sink += i
		}
	})
}

func main() {}
