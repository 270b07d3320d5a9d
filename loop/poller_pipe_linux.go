//go:build linux

package loop

import (
	"os"

	"golang.org/x/sys/unix"
)

func init() {
	// pipe2 makes the pipe non-blocking and close-on-exec atomically, with no window for a
	// concurrent fork+exec and no fcntl calls; poller_poll.go cannot name unix.Pipe2 itself, as
	// darwin has no pipe2.
	openPipe = func(p *[2]int) error {
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			return os.NewSyscallError("pipe2", err)
		}
		return nil
	}
}
