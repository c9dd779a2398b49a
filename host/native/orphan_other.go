//go:build !linux

package native

import "os/exec"

// orphanProof relies on Close and go-plugin's own cleanup where the
// kernel offers no parent-death signal.
func orphanProof(cmd *exec.Cmd) {}
