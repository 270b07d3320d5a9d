package ipynb

import (
	"strconv"
	"strings"
)

// Error describes a problem with a notebook: a JSON syntax error, a
// structural error found while reading, or a rule broken in memory (from
// Validate). Read and ReadFile return only *Error values.
type Error struct {
	// File is the file name, set by ReadFile.
	File string
	// Line and Column locate the problem in the file (1-based; Column
	// counts characters). Zero when unknown, e.g. for Validate errors.
	Line, Column int
	// Path names the offending JSON value, like
	// "cells[3].outputs[0].output_type" or "metadata.kernelspec.name";
	// empty for problems with the file as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as "file:line:col: path: msg", leaving out the
// parts that are unknown. Without a file name the position reads
// "line L, column C".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// pathIndex appends an index to a path: cells[3].
func pathIndex(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

// pathKey appends an object key to a path: metadata.kernelspec, or
// data["text/plain"] when the key is not a plain identifier.
func pathKey(p, k string) string {
	plain := k != ""
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if !plain {
		return p + "[" + strconv.Quote(k) + "]"
	}
	if p == "" {
		return k
	}
	return p + "." + k
}
