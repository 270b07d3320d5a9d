package ipynb

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead checks that no input makes Read panic, and that whatever Read
// accepts can be written, read again and written to the same bytes.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ipynb")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(validNB))
	for _, tt := range readErrorTests {
		f.Add([]byte(tt.in))
	}
	for _, s := range []string{
		`{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}`,
		`{"cells":[{"cell_type":"markdown","source":"","attachments":{"a":{"image/png":["x\n","y"],"application/json":{"k":[1e9]}}}}],"nbformat":4,"nbformat_minor":1}`,
		`{"cells":[{"cell_type":"code","source":["a\r","\u2028b"],"outputs":[{"output_type":"execute_result","execution_count":null,"data":{"application/x+json":null,"text/plain":["a","b"]},"metadata":{"x":[-0.0e-0]}}]}],"nbformat":4,"nbformat_minor":5}`,
		"{\"cells\":[],\"nbformat\":4,\"nbformat_minor\":5,\"metadata\":{\"\xff\":\"\\ud800\"}}",
		`{"cells":[],"nbformat":4,"nbformat_minor":99999999999999999999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Unmarshal(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if err := nb.Validate(); err != nil {
			t.Fatalf("Read returned an invalid notebook: %v", err)
		}
		b1, err := nb.Marshal()
		if err != nil {
			t.Fatalf("cannot write what was read: %v", err)
		}
		nb2, err := Unmarshal(b1)
		if err != nil {
			t.Fatalf("cannot read what was written: %v\n%s", err, b1)
		}
		b2, err := nb2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("write→read→write not stable; %s", lineDiff(string(b1), string(b2)))
		}
	})
}
