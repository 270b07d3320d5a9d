//go:build linux && !(amd64 || 386)

package loop

import "golang.org/x/sys/unix"

// sysEpollWait0 is the system call of a zero-timeout poll: epoll_pwait with a nil mask, which
// every architecture has (arm64 and riscv64 have no epoll_wait). See poller_epoll_wait.go.
const sysEpollWait0 = unix.SYS_EPOLL_PWAIT
