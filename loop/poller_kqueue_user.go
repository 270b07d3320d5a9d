//go:build darwin || freebsd || dragonfly

package loop

import "golang.org/x/sys/unix"

func init() {
	// These kernels have EVFILT_USER (and x/sys/unix names it for them), so the kqueue poller
	// wakes through a user event rather than a self-pipe: no extra descriptors, no read to drain.
	kqUser.ok = true
	kqUser.filter = unix.EVFILT_USER
	kqUser.trigger = unix.NOTE_TRIGGER
}
