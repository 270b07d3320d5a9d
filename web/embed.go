package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS is the browser UI, rooted at static/: index.html (the single page of both the start page
// and notebooks), js/, css/ and vendor/ (the committed third-party bundle).
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // static is embedded: cannot happen
	}
	return sub
}

// FrameScriptHash is the CSP source ('sha256-…') of the one inline script the UI writes: the
// copy of js/frame.js inside each sandboxed HTML output frame, which reports the content's
// height. A srcdoc frame inherits the page's CSP, and 'self' does not match in its opaque
// origin, so the page's script-src must list this hash for the frame to size itself.
func FrameScriptHash() string {
	b, err := fs.ReadFile(static, "static/js/frame.js")
	if err != nil {
		panic(err) // static is embedded: cannot happen
	}
	sum := sha256.Sum256(b)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
