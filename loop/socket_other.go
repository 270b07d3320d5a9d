//go:build unix && !linux

package loop

// sendFlags: BSDs and darwin have no MSG_NOSIGNAL; the Go runtime already ignores SIGPIPE on
// sockets that are not stdout/stderr.
const sendFlags = 0
