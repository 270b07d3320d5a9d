// Command loopbook is the Loopbook binary.
//
//	loopbook                 the chapter's payoff in the terminal (until the server lands)
//	loopbook run NB.ipynb    execute a notebook headless, like jupyter nbconvert --execute
//	loopbook kernel          the kernel process the server starts (not for people)
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
