// Command needscap logs, so it needs the "log" capability.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		sdk.Log(sdk.LogInfo, "hello")
		return []byte("ok"), nil
	})
}

func main() {}
