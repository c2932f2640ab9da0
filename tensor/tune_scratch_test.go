package tensor

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func TestTuneScratch(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	var kc, nc int
	fmt.Sscanf(os.Getenv("TUNE"), "%d,%d", &kc, &nc)
	be := *current.Load()
	if kc > 0 {
		be.gemm.kc, be.gemm.nc = kc, nc
	}
	current.Store(&be)
	defer UseAssembly(true)
	var thr int
	fmt.Sscanf(os.Getenv("THREADS"), "%d", &thr)
	defer SetThreads(SetThreads(max(thr, 1)))
	cases := []struct {
		tB      bool
		m, n, k int
	}{{false, 1024, 768, 768}, {true, 1024, 3072, 768}, {false, 1024, 768, 3072}, {true, 128, 768, 768}, {false, 2048, 2048, 2048}}
	for _, cs := range cases {
		r := rand.New(rand.NewPCG(1, 1))
		x, y, z := randSlice(r, cs.m*cs.k), randSlice(r, cs.k*cs.n), make([]float32, cs.m*cs.n)
		ldb := cs.n
		if cs.tB {
			ldb = cs.k
		}
		best, bestW := 0.0, 0.0
		for rep := 0; rep < 5; rep++ {
			t0, w0 := cpuSeconds(), time.Now()
			iters := max(1, int(4e9/(2*float64(cs.m*cs.n*cs.k))))
			for i := 0; i < iters; i++ {
				Sgemm(false, cs.tB, cs.m, cs.n, cs.k, 1, x, cs.k, y, ldb, 0, z, cs.n)
			}
			g := 2 * float64(cs.m*cs.n*cs.k) * float64(iters) / (cpuSeconds() - t0) / 1e9
			best = max(best, g)
			bestW = max(bestW, 2*float64(cs.m*cs.n*cs.k)*float64(iters)/time.Since(w0).Seconds()/1e9)
		}
		fmt.Printf("%v %d %d %d: %.1f GFLOP/cpu-s %.1f GFLOP/s\n", cs.tB, cs.m, cs.n, cs.k, best, bestW)
	}
}
