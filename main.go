// Command loopbook is the Loopbook binary.
//
//	loopbook [-addr 127.0.0.1:8888] [-notebooks DIR]   serve the notebook UI
//	loopbook run NB.ipynb [-o OUT.ipynb]              execute a notebook headless, like jupyter nbconvert --execute
//	loopbook demo                                     the chapter's payoff in the terminal
//	loopbook healthcheck [-addr HOST:PORT]            probe a running server's /healthz (container health checks)
//	loopbook kernel                                   the kernel process the server starts (not for people)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/loopbook/loopbook/kernel"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "kernel" {
		os.Exit(kernel.Serve(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m := &Main{Stdout: os.Stdout}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loopbook:", err)
		os.Exit(1)
	}
}
