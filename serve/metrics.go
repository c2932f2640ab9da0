package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics, under TEI's names (te_*),
// durations in seconds.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec // method: single, batch, tokenize
	success      *prometheus.CounterVec // method
	failures     *prometheus.CounterVec // err: validation, tokenizer, overloaded, backend, batch_size, empty
	duration     prometheus.Histogram
	tokenization prometheus.Histogram
	queue        prometheus.Histogram
	inference    prometheus.Histogram
	inputLength  prometheus.Histogram
	batchSize    prometheus.Histogram
	batchTokens  prometheus.Histogram
	batchInfer   prometheus.Histogram
	queueSize    prometheus.Gauge
}

func newMetrics() *metrics {
	durations := prometheus.ExponentialBuckets(0.0005, 2, 18) // 0.5 ms … 65 s
	sizes := prometheus.ExponentialBuckets(1, 2, 12)          // 1 … 2048
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "te_request_count", Help: "Requests received, by method (single, batch, tokenize).",
		}, []string{"method"}),
		success: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "te_request_success", Help: "Requests answered successfully, by method.",
		}, []string{"method"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "te_request_failure", Help: "Failed requests, by error type.",
		}, []string{"err"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_request_duration", Help: "Request duration in seconds.", Buckets: durations,
		}),
		tokenization: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_request_tokenization_duration", Help: "Tokenization time of a request in seconds.", Buckets: durations,
		}),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_request_queue_duration", Help: "Time an input waited in the queue, in seconds.", Buckets: durations,
		}),
		inference: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_request_inference_duration", Help: "Inference time of the batch an input was in, in seconds.", Buckets: durations,
		}),
		inputLength: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_request_input_length", Help: "Input length in tokens.", Buckets: sizes,
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_batch_next_size", Help: "Inputs per batch.", Buckets: sizes,
		}),
		batchTokens: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_batch_next_tokens", Help: "Padded tokens per batch (inputs × longest).", Buckets: prometheus.ExponentialBuckets(1, 2, 18),
		}),
		batchInfer: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "te_batch_inference_duration", Help: "Forward time of a batch in seconds.", Buckets: durations,
		}),
		queueSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "te_queue_size", Help: "Inputs waiting in the queue.",
		}),
	}
	m.reg.MustRegister(m.requests, m.success, m.failures, m.duration, m.tokenization, m.queue, m.inference,
		m.inputLength, m.batchSize, m.batchTokens, m.batchInfer, m.queueSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
