// Command panic panics in its hook when the input's first byte is 0, and
// exits the module (unrecoverable: the instance is gone) when it is 1.
package main

import (
	"os"

	"github.com/plenum-vote/plenum/sdk"
)

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		if len(in) > 0 && in[0] == 1 {
			os.Exit(3)
		}
		panic("hostile plugin panics")
	})
}

func main() {}
