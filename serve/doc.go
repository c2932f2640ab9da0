// Package serve is the HTTP classification server: a TEI-compatible API,
// the Hugging Face Inference API's text-classification request at the root
// (for the official clients), a dynamic batcher and Prometheus metrics.
package serve
