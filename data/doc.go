// Package data reads labelled text from CSV, TSV, JSONL and fastText-format
// files, maps labels and forms length-bucketed batches.
package data
