//go:build unix && !linux

package kernel

import "syscall"

// sysProcAttr puts the kernel in its own process group. (Only Linux can tie the kernel's life to
// the server's; elsewhere the kernel exits when its shell fd closes.)
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int) { syscall.Kill(-pid, syscall.SIGKILL) }
