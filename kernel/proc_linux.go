package kernel

import "syscall"

// sysProcAttr puts the kernel in its own process group (so killing it kills anything it made)
// and has Linux kill it if the server dies, so no kernel outlives its server.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int) { syscall.Kill(-pid, syscall.SIGKILL) }
