package loop

import "golang.org/x/sys/unix"

// sendFlags keeps a write to a peer that has gone from raising SIGPIPE.
const sendFlags = unix.MSG_NOSIGNAL
