package echo

import (
	"net"
	"slices"
	"time"
)

// ClientConfig sets up a timed echo client run.
type ClientConfig struct {
	Addr     string        // server address
	Conns    int           // connections, each with one request in flight
	Size     int           // message size in bytes
	Warmup   time.Duration // ping-pong before the window, not counted
	Duration time.Duration // the measured window
}

// Result is what a timed client run measured inside its window.
type Result struct {
	Requests  int     // round trips completed inside the window
	Seconds   float64 // window length
	ReqPerSec float64
	P50us     float64 // round-trip time percentiles, microseconds
	P99us     float64
	Maxus     float64
}

// summarise turns the round-trip times (ns) of the window into a Result.
func summarise(rtts []uint32, window time.Duration) Result {
	r := Result{Requests: len(rtts), Seconds: window.Seconds()}
	if window > 0 {
		r.ReqPerSec = float64(len(rtts)) / window.Seconds()
	}
	if len(rtts) == 0 {
		return r
	}
	slices.Sort(rtts)
	pct := func(p float64) float64 {
		i := int(p * float64(len(rtts)-1))
		return float64(rtts[i]) / 1e3
	}
	r.P50us, r.P99us, r.Maxus = pct(0.50), pct(0.99), float64(rtts[len(rtts)-1])/1e3
	return r
}

// WaitFor dials addr until it accepts a connection or timeout passes, so a runner can start a
// server and its client back to back without guessing how long the server takes to start.
func WaitFor(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
