package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMain_Run runs the demo for real: three requests to a local server that waits 300 ms each
// must all be answered, on one loop, and the demo must say so.
func TestMain_Run(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Stdout: &out}
	if err := m.Run(context.Background(), []string{"demo", "-n", "3", "-delay", (300 * time.Millisecond).String()}); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	got := out.String()
	for i := range 3 {
		if !regexp.MustCompile(`request ` + string(rune('0'+i)) + `: HTTP/1.0 200 OK at \d+\.\d\d s`).MatchString(got) {
			t.Errorf("output lacks request %d's status line:\n%s", i, got)
		}
	}
	if !strings.Contains(got, "all 3 done in") {
		t.Errorf("output lacks the summary:\n%s", got)
	}
}
