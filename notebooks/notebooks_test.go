package notebooks_test

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/loopbook/loopbook/headless"
	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/kernel"
	"github.com/loopbook/loopbook/notebooks"
)

var update = flag.Bool("update", false, "rewrite the stored outputs of the shipped notebooks with a fresh run")

// The test binary doubles as the kernel: started with LOOPBOOK_TEST_KERNEL=1 it serves the
// kernel protocol instead of running tests, exactly as `loopbook kernel` does.
func TestMain(m *testing.M) {
	if os.Getenv("LOOPBOOK_TEST_KERNEL") == "1" {
		os.Exit(kernel.Serve(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// shipped returns the names of the embedded notebooks, which are also the files in this
// directory (go test runs in it).
func shipped(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(notebooks.FS(), "*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no notebooks are embedded")
	}
	return names
}

// loopbookMeta is what a notebook says about how it is run, under metadata.loopbook.
type loopbookMeta struct {
	// VirtualTime runs the golden execution on virtual time: timers fire at once and in order,
	// and every duration measured with loop time is exact, so it is compared as it is. Without
	// it the notebook runs on real time (timing is its lesson) and durations are normalised.
	VirtualTime bool `json:"virtual_time"`
}

// TestGolden executes every shipped notebook in a fresh kernel, as `loopbook run` does, and
// compares each code cell's outputs with those stored in the file, after normalise. With
// -update it writes the new outputs instead (keeping the stored ones of cells whose
// normalised outputs did not change, so an update does not churn ports and timings).
func TestGolden(t *testing.T) {
	for _, name := range shipped(t) {
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			t.Parallel()
			stored, err := ipynb.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var meta loopbookMeta
			if _, err := ipynb.GetMetadata(stored.Metadata, ipynb.LoopbookKey, &meta); err != nil {
				t.Fatalf("metadata.loopbook: %v", err)
			}
			ran, err := ipynb.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := headless.Run(context.Background(), ran, headless.Options{Kernel: kernel.Config{
				Command: []string{os.Args[0]},
				Env:     []string{"LOOPBOOK_TEST_KERNEL=1"},
				Limits:  kernel.Limits{VirtualTime: meta.VirtualTime},
			}})
			if err != nil {
				var sb strings.Builder
				headless.Print(&sb, ran)
				t.Fatalf("%s does not run: %v (kernel: %q)\n%s", name, err, rep.Cause, sb.String())
			}

			if *update {
				changed := 0
				for i, c := range ran.Cells {
					old := stored.Cells[i]
					if c.Type == ipynb.CellCode && render(old, meta.VirtualTime) == render(c, meta.VirtualTime) &&
						equalCount(old.ExecutionCount, c.ExecutionCount) {
						c.Outputs = old.Outputs
					} else if c.Type == ipynb.CellCode {
						changed++
					}
				}
				if changed == 0 {
					return
				}
				if err := ipynb.WriteFile(name, ran); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: rewrote the outputs of %d cells", name, changed)
				return
			}

			for i, c := range ran.Cells {
				if c.Type != ipynb.CellCode {
					continue
				}
				old := stored.Cells[i]
				got, want := render(c, meta.VirtualTime), render(old, meta.VirtualTime)
				if !equalCount(old.ExecutionCount, c.ExecutionCount) {
					t.Errorf("%s cell %d (%s): execution count %s, stored %s", name, i, c.ID, count(c.ExecutionCount), count(old.ExecutionCount))
				}
				if got != want {
					t.Errorf("%s cell %d (%s, %q): outputs differ from the stored ones (normalised; run go test ./notebooks -update if the change is intended)\n%s",
						name, i, c.ID, firstLine(c.Source), lineDiff(want, got))
				}
			}
		})
	}
}

// TestShippedFiles checks what a code host needs to render a shipped notebook as a notebook,
// and what the notebook list needs: nbformat 4.5, a Go kernelspec and language_info, every code
// cell run with its outputs stored, and the embedded set equal to the files here.
func TestShippedFiles(t *testing.T) {
	names := shipped(t)
	onDisk, err := fs.Glob(os.DirFS("."), "*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, onDisk) {
		t.Fatalf("embedded %v, on disk %v", names, onDisk)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			nb, err := ipynb.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if nb.Nbformat != 4 || nb.NbformatMinor != 5 {
				t.Errorf("nbformat %d.%d, want 4.5", nb.Nbformat, nb.NbformatMinor)
			}
			var ks struct {
				Name        string `json:"name"`
				DisplayName string `json:"display_name"`
			}
			if ok, err := ipynb.GetMetadata(nb.Metadata, "kernelspec", &ks); !ok || err != nil || ks.Name != "go" || ks.DisplayName == "" {
				t.Errorf("kernelspec %+v (%v): want name go and a display name", ks, err)
			}
			var li struct{ Name string }
			if ok, err := ipynb.GetMetadata(nb.Metadata, "language_info", &li); !ok || err != nil || li.Name != "go" {
				t.Errorf("language_info %+v (%v): want name go", li, err)
			}
			if len(nb.Cells) == 0 || nb.Cells[0].Type != ipynb.CellMarkdown || !strings.HasPrefix(nb.Cells[0].Source, "# ") {
				t.Errorf("the first cell should be Markdown with a # title")
			}
			for i, c := range nb.Cells {
				if c.Type == ipynb.CellCode && strings.TrimSpace(c.Source) != "" && c.ExecutionCount == nil {
					t.Errorf("cell %d (%s) has not run: store its outputs (go test ./notebooks -update)", i, c.ID)
				}
			}
			// Written in the canonical style, so a run of -update or a save in Loopbook or
			// Jupyter leaves no formatting diff.
			b, err := nb.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(name)
			if string(b) != string(raw) {
				t.Errorf("%s is not in the canonical ipynb style; rewrite it with ipynb.WriteFile", name)
			}
		})
	}
}

// TestNbformat validates every shipped notebook with Jupyter's own nbformat package.
func TestNbformat(t *testing.T) {
	py := nbformatPython(t)
	for _, name := range shipped(t) {
		out, err := exec.Command(py, "-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", name).CombinedOutput()
		if err != nil {
			t.Errorf("nbformat rejects %s: %v\n%s", name, err, out)
		}
	}
}

// nbformatPython returns a Python that can import nbformat: python3 on PATH, else
// /usr/bin/python3 (where Debian's python3-nbformat installs). Without one the test is skipped,
// or fails when LOOPBOOK_CI is set.
func nbformatPython(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		tried = append(tried, p)
		if exec.Command(p, "-c", "import nbformat").Run() == nil {
			return p
		}
	}
	msg := "no python3 can import nbformat (tried " + strings.Join(tried, ", ") +
		"); install Debian's python3-nbformat (apt-get install -y python3-nbformat) or pip install nbformat"
	if os.Getenv("LOOPBOOK_CI") != "" {
		t.Fatal(msg + " (LOOPBOOK_CI is set, so this is an error)")
	}
	t.Skip(msg)
	return ""
}

// Normalisation. What a notebook prints may vary from run to run in ways that are not its
// lesson; these rules replace such text with a placeholder on both sides of the comparison.
// Always:
//
//   - loopback addresses: 127.0.0.1:41327, [::1]:41327, localhost:41327 → 127.0.0.1:<port>, …
//     (test services listen on a port the system picks);
//   - the loop's slow-callback warning, "took 2.006 seconds" → "took <n> seconds";
//   - pointers and other hexadecimal ids, 0xc000123456 → 0x<ptr>;
//   - timestamps, 2026-11-24T19:36:17.123Z or 19:36:17 → <time>;
//   - goroutine numbers, "goroutine 42" → "goroutine <n>".
//
// In notebooks on real time (metadata.loopbook.virtual_time not true) also every duration in
// Go's notation, 2.004640473s, 501.5659ms, 1m30s, 0s → <dur>, and a decimal number of seconds,
// "2.01 s" → "<dur>". Notebooks on virtual time keep their durations: measured with loop time,
// they are exact.
var (
	always = []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`\b(127\.0\.0\.1|localhost):\d+\b`), "$1:<port>"},
		{regexp.MustCompile(`\[::1\]:\d+\b`), "[::1]:<port>"},
		{regexp.MustCompile(`took \d+(\.\d+)? seconds`), "took <n> seconds"},
		{regexp.MustCompile(`\b0x[0-9a-fA-F]{6,}\b`), "0x<ptr>"},
		{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?`), "<time>"},
		{regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}(\.\d+)?\b`), "<time>"},
		{regexp.MustCompile(`\bgoroutine \d+\b`), "goroutine <n>"},
	}
	durationRE = regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b|\b\d+\.\d+ ?s\b`)
)

func TestNormalise(t *testing.T) {
	tests := []struct {
		in, real, virtual string
	}{
		{"slow-http server on 127.0.0.1:43697", "slow-http server on 127.0.0.1:<port>", "slow-http server on 127.0.0.1:<port>"},
		{"Executing <Handle In[2]()> took 2.006 seconds", "Executing <Handle In[2]()> took <n> seconds", "Executing <Handle In[2]()> took <n> seconds"},
		{"Recv waited 2.004640473s for 113 bytes", "Recv waited <dur> for 113 bytes", "Recv waited 2.004640473s for 113 bytes"},
		{"after 501.5659ms, 1m30s, 0s and 12µs", "after <dur>, <dur>, <dur> and <dur>", "after 501.5659ms, 1m30s, 0s and 12µs"},
		{"about 2.01 s", "about <dur>", "about 2.01 s"},
		{"/?delay=500ms", "/?delay=<dur>", "/?delay=500ms"},
		{"at 0xc000123456 on goroutine 17", "at 0x<ptr> on goroutine <n>", "at 0x<ptr> on goroutine <n>"},
		{"at 2026-11-24T19:36:17.123Z, 19:36:17", "at <time>, <time>", "at <time>, <time>"},
		{"3 sockets, 42 bytes, In[12]:5, Task-3, 1.5 apples", "3 sockets, 42 bytes, In[12]:5, Task-3, 1.5 apples", "3 sockets, 42 bytes, In[12]:5, Task-3, 1.5 apples"},
		{"10 msgs", "10 msgs", "10 msgs"},
	}
	for _, tt := range tests {
		if got := normalise(tt.in, false); got != tt.real {
			t.Errorf("normalise(%q, real time) = %q, want %q", tt.in, got, tt.real)
		}
		if got := normalise(tt.in, true); got != tt.virtual {
			t.Errorf("normalise(%q, virtual time) = %q, want %q", tt.in, got, tt.virtual)
		}
	}
}

func normalise(s string, virtualTime bool) string {
	for _, r := range always {
		s = r.re.ReplaceAllString(s, r.with)
	}
	if !virtualTime {
		s = durationRE.ReplaceAllString(s, "<dur>")
	}
	return s
}

// render writes a code cell's outputs as comparable text, normalised.
func render(c *ipynb.Cell, virtualTime bool) string {
	var b strings.Builder
	for _, o := range c.Outputs {
		switch o.Type {
		case ipynb.OutputStream:
			fmt.Fprintf(&b, "[%s]\n%s\n", o.Name, o.Text)
		case ipynb.OutputExecuteResult, ipynb.OutputDisplayData:
			fmt.Fprintf(&b, "[%s]\n", o.Type)
			mimes := make([]string, 0, len(o.Data))
			for m := range o.Data {
				mimes = append(mimes, m)
			}
			sort.Strings(mimes)
			for _, m := range mimes {
				fmt.Fprintf(&b, "%s: %s\n", m, o.Data[m])
			}
		case ipynb.OutputError:
			fmt.Fprintf(&b, "[error %s]\n%s\n%s\n", o.Ename, o.Evalue, strings.Join(o.Traceback, "\n"))
		default:
			fmt.Fprintf(&b, "[%s]\n", o.Type)
		}
	}
	return normalise(b.String(), virtualTime)
}

func equalCount(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func count(n *int) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// lineDiff shows want and got line by line: "-" stored, "+" new, " " both. It is a plain
// longest-common-subsequence diff; cell outputs are short.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + b[j] + "\n")
			j++
		default:
			out.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}
