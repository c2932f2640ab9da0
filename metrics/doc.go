// Package metrics computes accuracy, precision, recall, F1 and confusion
// matrices, and writes reports as text, JSON, HTML and plots.
package metrics
