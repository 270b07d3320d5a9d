package display_test

import (
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/loopbook/loopbook/interp/display"
)

func TestBundles(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G'}
	tests := []struct {
		name string
		got  display.Bundle
		want display.Bundle
	}{
		{"text", display.Text("hi"), display.Bundle{"text/plain": "hi"}},
		{"html", display.HTML("<b>x</b>"), display.Bundle{"text/html": "<b>x</b>", "text/plain": "<HTML>"}},
		{"markdown", display.Markdown("# T"), display.Bundle{"text/markdown": "# T", "text/plain": "# T"}},
		{"svg", display.SVG("<svg/>"), display.Bundle{"image/svg+xml": "<svg/>", "text/plain": "<SVG>"}},
		{"png", display.PNG(png), display.Bundle{"image/png": base64.StdEncoding.EncodeToString(png), "text/plain": "<PNG, 4 bytes>"}},
		{"json", display.JSON(map[string]int{"a": 1}), display.Bundle{"application/json": `{"a":1}`, "text/plain": "{\n  \"a\": 1\n}"}},
		{"json error", display.JSON(func() {}), display.Bundle{"text/plain": "display.JSON: json: unsupported type: func()"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestShowAndUpdate(t *testing.T) {
	var got []display.Output
	prev := display.SetPublisher(func(o display.Output) { got = append(got, o) })
	defer display.SetPublisher(prev)
	h := display.Show(display.Text("0%"))
	h.Update(display.Text("100%"))
	other := display.Show(display.Text("x"))
	if len(got) != 3 {
		t.Fatalf("published %d outputs, want 3", len(got))
	}
	if got[0].ID != h.ID() || got[0].Update || got[1].ID != h.ID() || !got[1].Update || got[1].Data["text/plain"] != "100%" {
		t.Errorf("show then update published %+v", got[:2])
	}
	if other.ID() == h.ID() {
		t.Errorf("two Shows share id %q", h.ID())
	}
}
