//go:build unix && !linux

package loop

import "golang.org/x/sys/unix"

// sendFlags: BSDs and darwin have no MSG_NOSIGNAL; the Go runtime already ignores SIGPIPE on
// sockets that are not stdout/stderr.
const sendFlags = 0

// rawSockCalls: only Linux makes raw socket syscalls (darwin goes through libSystem).
const rawSockCalls = false

func rawRecv(fd int, b []byte) (int, unix.Errno) { panic("unreachable") }

func rawSend(fd int, b []byte) (int, unix.Errno) { panic("unreachable") }
