// Command panic panics in its hook when the input's first byte is 0, exits
// the module (unrecoverable: the instance is gone) when it is 1, and
// answers "ok" when it is 2 (to probe a half-open circuit).
package main

import (
	"os"

	"github.com/plenum-vote/plenum/sdk"
)

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		if len(in) > 0 && in[0] == 2 {
			return []byte("ok"), nil
		}
		if len(in) > 0 && in[0] == 1 {
			os.Exit(3)
		}
		panic("hostile plugin panics")
	})
}

func main() {}
