// Package serve is the HTTP classification server: a TEI-compatible API,
// the Hugging Face Inference API's text-classification request at the root
// (for the official clients), a dynamic batcher and Prometheus metrics,
// explanations (POST /explain), and a self-contained web page (GET /) with
// the API's OpenAPI description (/openapi.json) rendered at /docs.
package serve
