//go:build !linux

package kernel

func joinCgroup(Limits) string { return "cgroup limits apply on Linux only" }

func removeCgroup(int) {}
