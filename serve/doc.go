// Package serve is the HTTP classification server: a TEI-compatible API, a
// dynamic batcher and Prometheus metrics.
package serve
