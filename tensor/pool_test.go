package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runWorkers must run its n calls at the same time, even when called from
// inside another parallel region that holds the helpers: each call here
// waits until all n have started.
func TestRunWorkersConcurrentWhenNested(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ParallelFor(4, 1, func(lo, hi int) {
			for range 20 {
				const n = 3
				var arrived atomic.Int32
				var all sync.WaitGroup
				all.Add(n)
				runWorkers(n, func() {
					arrived.Add(1)
					all.Done()
					all.Wait() // deadlocks unless all n run concurrently
				})
				if arrived.Load() != n {
					t.Errorf("%d of %d workers ran", arrived.Load(), n)
				}
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("nested runWorkers did not finish: its calls were not concurrent")
	}
}

func TestParallelForCoversRangeOnce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 17, 1000} {
		hits := make([]atomic.Int32, n)
		for range 50 {
			ParallelFor(n, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
		}
		for i := range hits {
			if hits[i].Load() != 50 {
				t.Fatalf("n=%d: element %d visited %d times in 50 calls", n, i, hits[i].Load())
			}
		}
	}
}

// spinUntil yields its P while it spins: with one P, a goroutine made
// runnable by the spinner (here: started by it) must get to run within the
// spin, or else it would wait for the spinner to give up (or for the
// scheduler to preempt it, ~10 ms later).
func TestSpinUntilYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range 20 {
		var flag atomic.Bool
		go flag.Store(true)
		if !spinUntil(flag.Load) {
			t.Fatalf("a goroutine started on the spinner's only P did not run within %v of spinning", spinTime)
		}
	}
}

// spinUntil gives up, reporting false, once spinTime has passed, and not
// before.
func TestSpinUntilGivesUp(t *testing.T) {
	polls := 0
	start := time.Now()
	if spinUntil(func() bool { polls++; return false }) {
		t.Fatal("spinUntil reported true for a condition that never held")
	}
	if d := time.Since(start); d < spinTime {
		t.Fatalf("spinUntil gave up after %v, before spinTime = %v", d, spinTime)
	}
	if polls < yieldEvery {
		t.Fatalf("spinUntil polled %d times, fewer than yieldEvery = %d", polls, yieldEvery)
	}
	calls := 0
	if !spinUntil(func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Fatalf("spinUntil stopped after %d polls, want 3 (the first that held)", calls)
	}
}

// Regions far apart (the helper parked between them) and back to back (it
// spins), from one P and from two, with tasks of uneven length: every
// index runs exactly once per call and the call returns only after all.
func TestRunWorkersAfterParking(t *testing.T) {
	for _, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		for round := range 6 {
			if round%2 == 0 {
				time.Sleep(3 * spinTime) // the helpers park
			}
			const n = 3
			var hits [n]atomic.Int32
			runWorkersIndexed(n, func(i int) {
				if i == round%n {
					time.Sleep(time.Duration(round) * 100 * time.Microsecond)
				}
				hits[i].Add(1)
			})
			for i := range hits {
				if h := hits[i].Load(); h != 1 {
					t.Fatalf("GOMAXPROCS=%d round %d: fn(%d) had run %d times when runWorkersIndexed returned", procs, round, i, h)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}
