// Command wrongabi imports host functions of an ABI this host does not
// speak.
package main

import "github.com/plenum-vote/plenum/sdk"

//go:wasmimport plenum_v2 log
func hostLog(level, ptr, n uint32)

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		hostLog(0, 0, 0)
		return nil, nil
	})
}

func main() {}
