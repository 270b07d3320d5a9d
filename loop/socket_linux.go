package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendFlags keeps a write to a peer that has gone from raising SIGPIPE.
const sendFlags = unix.MSG_NOSIGNAL

// A read or send on a non-blocking socket returns at once, so it needs none of the hand-off to
// the scheduler that unix.Read and unix.SendmsgN make around a syscall that may block
// (entersyscall/exitsyscall): the raw syscall saves that on every Sock* operation. Blocking
// sockets keep the ordinary calls. sendto without an address is send(2), as sendmsg with one
// buffer and no address is.
const rawSockCalls = true

func rawRead(fd int, b []byte) (int, unix.Errno) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	} else {
		p = unsafe.Pointer(&rawZero)
	}
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(p), uintptr(len(b)))
	return int(r), e
}

func rawSend(fd int, b []byte) (int, unix.Errno) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	} else {
		p = unsafe.Pointer(&rawZero)
	}
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)), sendFlags, 0, 0)
	return int(r), e
}

var rawZero uintptr
