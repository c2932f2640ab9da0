package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
// calling goroutine and the others on helper goroutines; it returns when
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
	runWorkersIndexed(chunks, func(c int) { fn(c*n/chunks, (c+1)*n/chunks) })
}

// runWorkers calls fn on exactly n goroutines (one of them the caller's) and
// returns when all calls have returned. Unlike ParallelFor it does not
// depend on Threads(), so workers that wait for each other cannot be left
// waiting by a concurrent SetThreads.
func runWorkers(n int, fn func()) {
	runWorkersIndexed(n, func(int) { fn() })
}

// runWorkersIndexed calls fn(0) on the caller's goroutine and fn(1) …
// fn(n-1) concurrently on helpers: persistent goroutines that spin for up
// to spinTime after a task before parking, so that the back-to-back
// parallel regions of a forward pass do not each pay a thread wake-up. A
// helper that is busy (a nested call) is replaced by a new goroutine, so the
// n calls always run concurrently. The caller, its own call done, spins for
// up to spinTime too before it blocks.
func runWorkersIndexed(n int, fn func(i int)) {
	var wg sync.WaitGroup
	var remaining atomic.Int32
	remaining.Store(int32(n - 1))
	for i := 1; i < n; i++ {
		wg.Add(1)
		task := func() {
			fn(i)
			remaining.Add(-1)
			wg.Done()
		}
		if h := helperFor(i - 1); h.busy.CompareAndSwap(false, true) {
			h.work <- task
		} else {
			go task()
		}
	}
	fn(0)
	spinUntil(func() bool { return remaining.Load() == 0 })
	wg.Wait()
}

// spinTime bounds each busy-wait of spinUntil. A parked helper or caller
// costs a futex wake-up of an idle thread (of an idle vCPU, on a virtual
// machine) when the next region starts or the last helper finishes. With
// the former bounds (4096 and 16384 polls, ~10–30 µs) a BERT-base 1×16 pass
// (71 regions, ~25 µs apart on average) parked its helper ~40 times and its
// caller ~30 times, and the helpers started 2.4–3.9 ms per pass late in all,
// on cpu family 25 model 1 (BENCHMARKS.md, issue 14); with 200 µs they park
// about once a pass and start 0.1–0.2 ms late. It is also the CPU time an
// idle pool burns after the last region of a pass.
const spinTime = 200 * time.Microsecond

// yieldEvery is how many polls spinUntil makes between looks at the clock,
// each followed by a runtime.Gosched.
const yieldEvery = 256

// spinUntil polls done until it reports true (then it returns true) or
// spinTime has passed (false). Every yieldEvery polls it yields the
// processor: a goroutine made runnable by this one (a parked helper handed a
// task, a parked caller whose last helper finished) is queued on this
// goroutine's P, where only another P stealing it would run it while this
// one spins; yielding runs it at once.
func spinUntil(done func() bool) bool {
	start := time.Now()
	for spin := 1; ; spin++ {
		if done() {
			return true
		}
		if spin%yieldEvery == 0 {
			if time.Since(start) > spinTime {
				return false
			}
			runtime.Gosched()
		}
	}
}

// helper is a persistent worker goroutine; busy is set by the dispatcher
// before it sends a task and cleared by the helper when the task is done.
type helper struct {
	busy atomic.Bool
	work chan func()
}

var (
	helpersMu sync.Mutex
	helpers   atomic.Pointer[[]*helper]
)

// helperFor returns helper i, starting helpers as needed.
func helperFor(i int) *helper {
	if hs := helpers.Load(); hs != nil && i < len(*hs) {
		return (*hs)[i]
	}
	helpersMu.Lock()
	defer helpersMu.Unlock()
	var cur []*helper
	if hs := helpers.Load(); hs != nil {
		cur = *hs
	}
	for len(cur) <= i {
		h := &helper{work: make(chan func(), 1)}
		go h.loop()
		cur = append(cur[:len(cur):len(cur)], h)
	}
	helpers.Store(&cur)
	return cur[i]
}

func (h *helper) loop() {
	for {
		var task func()
		spinUntil(func() bool {
			select {
			case task = <-h.work:
				return true
			default:
				return false
			}
		})
		if task == nil {
			task = <-h.work
		}
		task()
		h.busy.Store(false)
	}
}
