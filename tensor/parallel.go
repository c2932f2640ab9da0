package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

var threads atomic.Int32

// SetThreads sets the number of goroutines the kernels of this package may
// use at once. n ≤ 0 restores the default, runtime.GOMAXPROCS(0). It returns
// the previous setting.
func SetThreads(n int) int {
	old := Threads()
	if n <= 0 {
		n = 0
	}
	threads.Store(int32(n))
	return old
}

// Threads reports the number of goroutines the kernels may use at once:
// the value given to SetThreads, or GOMAXPROCS by default.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// ParallelFor splits [0, n) into at most Threads() contiguous chunks of
// near-equal size, each of at least grain elements (unless n < grain, when
// there is one chunk), and calls fn(lo, hi) once per chunk, the first on the
// calling goroutine and the others on their own goroutines; it returns when
// all calls have returned. With one chunk it simply calls fn(0, n). grain < 1
// is taken as 1. fn must be safe to run concurrently on disjoint ranges.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	chunks := min(Threads(), max(1, n/grain))
	if chunks <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for c := 1; c < chunks; c++ {
		lo, hi := c*n/chunks, (c+1)*n/chunks
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/chunks)
	wg.Wait()
}

// runWorkers calls fn on exactly n goroutines (one of them the caller's) and
// returns when all calls have returned. Unlike ParallelFor it does not
// depend on Threads(), so workers that wait for each other cannot be left
// waiting by a concurrent SetThreads.
func runWorkers(n int, fn func()) {
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn()
		}()
	}
	fn()
	wg.Wait()
}
