package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS is the browser app: index.html, its modules and styles, and the vendored bundle.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}
