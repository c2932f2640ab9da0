// Package textclf is the high-level API for text classification with
// pretrained transformers: load a model, classify texts, train.
package textclf

// Version is the version of textclf.
const Version = "0.1.0-dev"
