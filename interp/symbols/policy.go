package symbols

// The policy. Every standard library package is either in allowedStd or in deniedStd, with a
// reason; TestEveryStdPackageDecided fails when a new Go version brings a package nobody has
// decided on. Removing a symbol takes one line in removed, with its reason. The generated tables
// (internal/std, internal/local) hold everything; only Exports applies this policy.

// localPkgs are Loopbook's own packages cells may import: short import path → real import path.
var localPkgs = map[string]string{
	"loop":    "github.com/loopbook/loopbook/loop",
	"display": "github.com/loopbook/loopbook/interp/display",
	"testsvc": "github.com/loopbook/loopbook/interp/testsvc",
}

// allowedStd lists the standard library packages cells may import. cmp, maps and slices are
// generic: yaegi's Use interprets them from its embedded source (see Prelude for what works).
var allowedStd = []string{
	"archive/tar", "archive/zip",
	"bufio", "bytes",
	"cmp",
	"compress/bzip2", "compress/flate", "compress/gzip", "compress/lzw", "compress/zlib",
	"container/heap", "container/list", "container/ring",
	"context",
	"crypto", "crypto/aes", "crypto/cipher", "crypto/des", "crypto/dsa", "crypto/ecdh",
	"crypto/ecdsa", "crypto/ed25519", "crypto/elliptic", "crypto/fips140", "crypto/hmac",
	"crypto/hpke", "crypto/md5", "crypto/mlkem", "crypto/mlkem/mlkemtest", "crypto/rand",
	"crypto/rc4", "crypto/rsa", "crypto/sha1", "crypto/sha256", "crypto/sha3", "crypto/sha512",
	"crypto/subtle", "crypto/tls", "crypto/x509", "crypto/x509/pkix",
	"database/sql", "database/sql/driver",
	"debug/buildinfo", "debug/dwarf", "debug/elf", "debug/gosym", "debug/macho", "debug/pe",
	"debug/plan9obj",
	"encoding", "encoding/ascii85", "encoding/asn1", "encoding/base32", "encoding/base64",
	"encoding/binary", "encoding/csv", "encoding/gob", "encoding/hex", "encoding/json",
	"encoding/pem", "encoding/xml",
	"errors", "expvar", "flag", "fmt",
	"go/ast", "go/build/constraint", "go/constant", "go/doc", "go/doc/comment", "go/format",
	"go/parser", "go/printer", "go/scanner", "go/token", "go/types", "go/version",
	"hash", "hash/adler32", "hash/crc32", "hash/crc64", "hash/fnv", "hash/maphash",
	"html", "html/template",
	"image", "image/color", "image/color/palette", "image/draw", "image/gif", "image/jpeg",
	"image/png",
	"index/suffixarray",
	"io", "io/fs", "io/ioutil",
	"log", "log/slog", "log/syslog",
	"maps",
	"math", "math/big", "math/bits", "math/cmplx", "math/rand", "math/rand/v2",
	"mime", "mime/multipart", "mime/quotedprintable",
	"net", "net/http", "net/http/cookiejar", "net/http/fcgi", "net/http/httptest",
	"net/http/httptrace", "net/http/httputil", "net/http/pprof", "net/mail", "net/netip",
	"net/rpc", "net/rpc/jsonrpc", "net/smtp", "net/textproto", "net/url",
	"os", "os/user",
	"path", "path/filepath",
	"reflect",
	"regexp", "regexp/syntax",
	"runtime", "runtime/debug", "runtime/metrics", "runtime/pprof", "runtime/trace",
	"slices", "sort", "strconv", "strings", "structs", "sync", "sync/atomic",
	"testing", "testing/fstest", "testing/iotest", "testing/quick", "testing/slogtest",
	"testing/synctest",
	"text/scanner", "text/tabwriter", "text/template", "text/template/parse",
	"time",
	"unicode", "unicode/utf16", "unicode/utf8",
	// Not standard library: localPkgs' testsvc is repeated here only because
	// TestAllowlistIsWhatExportsHolds accepts no short path but loop, display and this list.
	// Remove it once that test consults localPkgs.
	"testsvc",
}

// deniedStd lists the standard library packages cells may not import, and why.
var deniedStd = map[string]string{
	"os/exec":            "creates processes",
	"syscall":            "raw system calls: process creation, signals, fds, mmap",
	"unsafe":             "breaks memory safety (yaegi's unsafe table also adds a pointer-conversion hook)",
	"plugin":             "loads native code into the kernel process",
	"net/http/cgi":       "its Handler runs binaries",
	"os/signal":          "changes the kernel process's signal handling (could ignore SIGINT/SIGTERM)",
	"go/build":           "Context.Import runs the go command (go list)",
	"go/importer":        "its importers run the go command or go/build",
	"runtime/cgo":        "cgo plumbing: raw C handles, no use in an interpreter",
	"runtime/race":       "race detector hooks of the kernel binary",
	"runtime/coverage":   "process-wide coverage counters of the kernel binary",
	"testing/cryptotest": "SetGlobalRandom replaces crypto/rand for the whole process",
	"embed":              "//go:embed needs the compiler; an interpreted embed.FS is always empty",
	"time/tzdata":        "has no symbols; it only works linked into the binary",
	"iter":               "generic only: yaegi extract skips generics, the table would be empty",
	"unique":             "generic only: yaegi extract skips generics, the table would be empty",
	"weak":               "generic only: yaegi extract skips generics, the table would be empty",
	"crypto/hkdf":        "generic only: yaegi extract skips generics, the table would be empty",
	"crypto/pbkdf2":      "generic only: yaegi extract skips generics, the table would be empty",
}

// removed lists symbols taken out of allowed packages, by import path.
var removed = []struct{ pkg, name, why string }{
	{"os", "StartProcess", "creates processes"},
	{"os", "FindProcess", "signals other processes (yaegi only refuses its own pid)"},
	{"os", "NewFile", "adopts inherited file descriptors by number, such as the kernel's control fds"},
	{"runtime", "Goexit", "hangs the interpreter (plain Eval) or ends the cell silently"},
	{"runtime", "GOMAXPROCS", "process-wide scheduler knob the kernel owns"},
	{"runtime", "SetDefaultGOMAXPROCS", "process-wide scheduler knob the kernel owns"},
	{"runtime", "LockOSThread", "pins the interpreter's goroutine; a thread exiting locked is destroyed"},
	{"runtime", "UnlockOSThread", "pair of LockOSThread"},
	{"runtime", "Breakpoint", "raises SIGTRAP, which kills the kernel"},
	{"runtime", "SetCgoTraceback", "installs process-wide C traceback hooks from raw pointers"},
	{"runtime/debug", "SetMaxStack", "process-wide stack limit the kernel sets for its own safety"},
	{"runtime/debug", "SetMemoryLimit", "process-wide memory limit the kernel sets for its own safety"},
	{"runtime/debug", "SetGCPercent", "process-wide GC knob the kernel owns"},
	{"runtime/debug", "SetMaxThreads", "process-wide thread limit the kernel owns"},
	{"runtime/debug", "SetCrashOutput", "redirects the kernel's crash reports"},
	{"runtime/debug", "SetPanicOnFault", "turns memory faults into panics, hiding kernel crashes"},
	{"runtime/debug", "SetTraceback", "changes the kernel's crash output"},
	{"runtime/debug", "WriteHeapDump", "dumps the kernel's whole heap to an fd and stops the world"},
	{"reflect", "NewAt", "makes a typed pointer from any address: reads and writes out of bounds"},
	{"log", "Default", "the process logger: its Fatal exits the kernel, bypassing yaegi's Fatal → panic"},
	{"log/slog", "NewLogLogger", "returns a native *log.Logger whose Fatal exits the kernel"},
	{"log/syslog", "NewLogger", "returns a native *log.Logger whose Fatal exits the kernel"},
	{"testing", "Main", "calls os.Exit"},
	{"display", "SetPublisher", "kernel-only: installs the publisher that routes outputs to cells"},
	{"display", "Publisher", "kernel-only plumbing of SetPublisher"},
	{"display", "Output", "kernel-only plumbing of SetPublisher"},
}
