//go:build unix

package textclf

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process has used, for
// benchmarks on a shared machine, where wall time counts the waits for a
// core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
