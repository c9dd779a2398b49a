// Command hugeout answers with 8 MiB.
package main

import "github.com/plenum-vote/plenum/sdk"

var out = make([]byte, 8<<20)

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) { return out, nil })
}

func main() {}
