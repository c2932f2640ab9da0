package textclfbeam

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/textclf/textclf"
)

// loaded is a model in the process-wide cache.
type loaded struct {
	mu  sync.Mutex // held while loading
	clf *textclf.Classifier
	// batches runs the batches of the process's DoFn instances, one run at
	// a time, combining those that wait (combine.go).
	batches combiner
	// took is how long loading took; reported says whether a DoFn has put
	// it into the load_model_latency_milli_secs metric.
	took     time.Duration
	reported atomic.Bool
}

// models are the models this process has loaded, by cacheKey.
var models = struct {
	sync.Mutex
	m map[string]*loaded
}{m: map[string]*loaded{}}

// loads counts the models this process has loaded (not taken from the
// cache); setups and bundles count the DoFn instances set up and the
// bundles they started, so that a test can see loads stay at one per model
// while instances and bundles grow.
var loads, setups, bundles atomic.Int64

// cacheKey names what a Config loads: the same model with the same options
// is one entry.
func (c Config) cacheKey() string {
	return fmt.Sprintf("%s@%s max_length=%d batch_size=%d threads=%d", c.Model, c.Revision, c.MaxLength, c.BatchSize, c.Threads)
}

// LoadModel returns the classifier of cfg.Model, loading it on the first
// call of the process (textclf.Open: a local path, a hub id found in or
// downloaded into the HF cache, or a builtin: name) and sharing it with
// every later call of the same model and options. A failed load is not
// cached: the next call tries again. cmd/textclf-beam calls it before the
// pipeline runs, so that an unreadable model fails the job before any work
// starts; on Prism (in-process) the workers then find it loaded.
func LoadModel(ctx context.Context, cfg Config) (*textclf.Classifier, error) {
	clf, _, err := load(ctx, cfg)
	return clf, err
}

// load is LoadModel, also returning the cache entry.
func load(ctx context.Context, cfg Config) (*textclf.Classifier, *loaded, error) {
	if cfg.Model == "" {
		return nil, nil, fmt.Errorf("textclfbeam: no model given")
	}
	key := cfg.cacheKey()
	models.Lock()
	e := models.m[key]
	if e == nil {
		e = &loaded{}
		models.m[key] = e
	}
	models.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.clf != nil {
		return e.clf, e, nil
	}
	start := time.Now()
	clf, err := textclf.Open(ctx, cfg.Model, textclf.Options{Revision: cfg.Revision, MaxLength: cfg.MaxLength,
		BatchSize: cfg.BatchSize, Threads: cfg.Threads})
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", cfg.Model, err)
	}
	e.clf, e.took = clf, time.Since(start)
	loads.Add(1)
	return clf, e, nil
}
