//go:build unix

package tensor

import "syscall"

// processCPUSeconds returns the user+system CPU time of the process, for
// benchmarks that report work per CPU-second (robust to other load on the
// machine, unlike work per wall-clock second).
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
