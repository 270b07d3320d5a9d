package server_test

import (
	"os"
	"testing"

	"github.com/loopbook/loopbook/kernel"
)

// The test binary doubles as the kernel, as `loopbook kernel` does for the real binary.
func TestMain(m *testing.M) {
	if os.Getenv("LOOPBOOK_TEST_KERNEL") == "1" {
		os.Exit(kernel.Serve(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testKernel starts kernels from this test binary.
func testKernel() kernel.Config {
	return kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1"}}
}
