//go:build linux

package native

import (
	"os/exec"
	"syscall"
)

// orphanProof asks the kernel to kill the plugin when the host process
// dies, even if the host cannot clean up (a crash, SIGKILL).
func orphanProof(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
