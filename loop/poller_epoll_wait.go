//go:build linux && (amd64 || 386)

package loop

import "golang.org/x/sys/unix"

// sysEpollWait0 is the system call of a zero-timeout poll. epoll_wait skips the signal-mask
// handling that epoll_pwait does even for a nil mask: a little less work on every iteration.
const sysEpollWait0 = unix.SYS_EPOLL_WAIT
