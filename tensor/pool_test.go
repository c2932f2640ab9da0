package tensor

import (
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
