package ipynb_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loopbook/loopbook/ipynb"
)

func Example() {
	nb := ipynb.New()
	md := nb.NewCell(ipynb.CellMarkdown, "# Timers\n")
	code := nb.NewCell(ipynb.CellCode, "fmt.Println(\"tick\")\n")
	count := 1
	code.ExecutionCount = &count
	code.Outputs = append(code.Outputs, ipynb.Output{Type: ipynb.OutputStream, Name: ipynb.StreamStdout, Text: "tick\n"})
	nb.Cells = append(nb.Cells, md, code)

	path := filepath.Join(os.TempDir(), "example-"+ipynb.NewCellID()+".ipynb")
	defer os.Remove(path)
	if err := ipynb.WriteFile(path, nb); err != nil {
		fmt.Println(err)
		return
	}
	back, err := ipynb.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d cells, In[%d] printed %q\n", len(back.Cells), *back.Cells[1].ExecutionCount, back.Cells[1].Outputs[0].Text)
	// Output: 2 cells, In[1] printed "tick\n"
}

func ExampleRead_error() {
	_, err := ipynb.Read(strings.NewReader(`{"cells": [{"cell_type": "code", "source": "", "outputs": [{"output_type": "strem"}]}],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	fmt.Println(err)
	// Output: line 1, column 76: cells[0].outputs[0].output_type: unknown value "strem" (want stream, display_data, execute_result or error)
}
