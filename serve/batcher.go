package serve

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/textclf/textclf"
)

// errClosed is returned for inputs submitted after the batcher stopped.
var errClosed = errors.New("server is shutting down")

// job is one input waiting for a batch.
type job struct {
	ctx      context.Context
	enc      textclf.Encoding
	enqueued time.Time
	res      chan jobResult // buffered: the batcher never blocks on it
}

// jobResult is the outcome of one input.
type jobResult struct {
	out              []float32
	err              error
	queue, inference time.Duration
}

// batcher gathers queued inputs, first in first out, into batches bounded
// by a token budget (inputs × longest input) and an input count, and runs
// each batch on a single goroutine (the classifier cuts it into forward
// passes of inputs of similar length).
type batcher struct {
	clf       *textclf.Classifier
	maxTokens int
	maxInputs int
	m         *metrics

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	queue  chan *job
	done   chan struct{}
}

func newBatcher(clf *textclf.Classifier, maxTokens, maxInputs, capacity int, m *metrics) *batcher {
	b := &batcher{clf: clf, maxTokens: maxTokens, maxInputs: maxInputs, m: m,
		queue: make(chan *job, capacity), done: make(chan struct{})}
	go b.run()
	return b
}

// submit queues an input; the answer arrives on the returned channel. The
// queue holds as many inputs as the server admits at once, so submit does
// not block.
func (b *batcher) submit(ctx context.Context, enc textclf.Encoding) (<-chan jobResult, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, errClosed
	}
	j := &job{ctx: ctx, enc: enc, enqueued: time.Now(), res: make(chan jobResult, 1)}
	select {
	case b.queue <- j:
		b.m.queueSize.Inc()
		return j.res, nil
	default:
		return nil, errOverloaded
	}
}

// close stops taking inputs; the queued ones are still answered. It waits
// for the batcher goroutine to finish.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.done
}

func (b *batcher) run() {
	defer close(b.done)
	var next *job // the input that did not fit the last batch
	for {
		first := next
		next = nil
		if first == nil {
			j, ok := <-b.queue
			if !ok {
				return
			}
			first = j
		}
		batch := []*job{first}
		longest := first.enc.Len()
	gather:
		for len(batch) < b.maxInputs {
			select {
			case j, ok := <-b.queue:
				if !ok {
					break gather
				}
				l := max(longest, j.enc.Len())
				if l*(len(batch)+1) > b.maxTokens {
					next = j
					break gather
				}
				batch, longest = append(batch, j), l
			default:
				break gather
			}
		}
		b.m.queueSize.Sub(float64(len(batch)))
		// next, taken from the channel, still counts as queued.
		b.runBatch(batch)
	}
}

// runBatch answers the inputs of one batch, skipping those whose client
// has gone.
func (b *batcher) runBatch(batch []*job) {
	start := time.Now()
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.res <- jobResult{err: err, queue: start.Sub(j.enqueued)}
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	encs := make([]textclf.Encoding, len(live))
	longest := 0
	for i, j := range live {
		encs[i] = j.enc
		longest = max(longest, j.enc.Len())
	}
	b.m.batchSize.Observe(float64(len(live)))
	b.m.batchTokens.Observe(float64(len(live) * longest))
	outs, err := b.clf.LogitsOfEncodings(context.Background(), encs, nil)
	inference := time.Since(start)
	b.m.batchInfer.Observe(inference.Seconds())
	if err == nil && len(outs) != len(live) {
		err = errors.New("model returned a wrong number of outputs")
	}
	for i, j := range live {
		r := jobResult{err: err, queue: start.Sub(j.enqueued), inference: inference}
		if err == nil {
			r.out = outs[i]
		}
		j.res <- r
	}
}
