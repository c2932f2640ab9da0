// Package classic holds the classic baselines: a fastText-style bag of
// n-grams, TextCNN and BiLSTM over word vectors, and word-vector readers.
package classic
