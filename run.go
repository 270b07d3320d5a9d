package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/loopbook/loopbook/headless"
	"github.com/loopbook/loopbook/ipynb"
)

// runNotebook is `loopbook run NB.ipynb [-o OUT.ipynb]`: every cell in a fresh kernel, outputs
// printed in cell order and written to the executed notebook (NB.ipynb itself without -o).
// It fails if a cell failed, as jupyter nbconvert --execute does. A notebook whose
// metadata.loopbook.virtual_time is true runs on virtual time, as its golden test does.
func (m *Main) runNotebook(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loopbook run", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	out := fs.String("o", "", "write the executed notebook here (default: over the input)")
	allow := fs.Bool("allow-errors", false, "run every cell even after one fails")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: loopbook run NB.ipynb [-o OUT.ipynb] [-allow-errors]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the file, as with nbconvert.
	var files []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return errors.New("run: want exactly one notebook")
	}
	nb, err := ipynb.ReadFile(files[0])
	if err != nil {
		return err
	}
	rep, runErr := headless.Run(ctx, nb, headless.Options{Kernel: m.Kernel, AllowErrors: *allow})
	headless.Print(m.Stdout, nb)
	dst := *out
	if dst == "" {
		dst = files[0]
	}
	if err := ipynb.WriteFile(dst, nb); err != nil {
		return err
	}
	clock := ""
	if rep.VirtualTime {
		clock = " on virtual time (metadata.loopbook.virtual_time)"
	}
	fmt.Fprintf(m.Stderr, "ran %d cells%s; wrote %s\n", rep.Ran, clock, dst)
	return runErr
}
