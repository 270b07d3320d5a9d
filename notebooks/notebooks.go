// Package notebooks holds the notebooks Loopbook ships: read-only originals that open as
// editable copies. They are also golden tests: see notebooks_test.go.
package notebooks

import (
	"embed"
	"io/fs"
)

//go:embed *.ipynb
var files embed.FS

// FS holds the shipped notebooks.
func FS() fs.FS { return files }
