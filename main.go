// Command loopbook is the Loopbook binary.
//
// For now it runs the chapter's payoff in the terminal: three slow requests served by a local
// server, fetched by coroutines on one event loop, finish in about the time of one.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m := &Main{Stdout: os.Stdout}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loopbook:", err)
		os.Exit(1)
	}
}
