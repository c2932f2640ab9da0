// Package textclfbeam classifies texts on Apache Beam with textclf models:
// the Classify and ClassifyKeyed transforms (Beam's RunInference for
// textclf, with its metrics and a dead-letter output), ReadTexts and
// WriteShards for the files of cmd/textclf-beam. It is a Go module of its
// own, github.com/textclf/textclf/beam, so that the Beam SDK never enters
// the core module's dependencies; its package name is textclfbeam, apart
// from the SDK's beam.
//
// A model is loaded once per worker process: the first DoFn instance that
// needs it loads it in Setup, and every other instance of the process,
// bundle after bundle, shares it.
package textclfbeam
