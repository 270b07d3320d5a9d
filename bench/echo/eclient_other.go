//go:build !linux

package echo

import "errors"

// RunClient is the timed epoll client; it exists only on Linux, where the benchmarks run.
func RunClient(cfg ClientConfig) (Result, error) {
	return Result{}, errors.New("echo: the timed client needs Linux (epoll)")
}
