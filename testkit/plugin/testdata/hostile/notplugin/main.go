// Command notplugin is a wasip1 reactor that does not use the sdk: it
// lacks the plenum_abi_v1_* exports and must be refused at load.
package main

//go:wasmexport hello
func hello() uint32 { return 42 }

func main() {}
