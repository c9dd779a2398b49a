// Command upload-basic is Plenum's reference upload scanner: it compares a
// file's magic bytes with its name and declared type, flags executables,
// scripts, double extensions and right-to-left-override names, the EICAR
// test file, and files over the size the tenant allows.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() { sdk.RegisterScanUpload(scan) }

func main() {}
