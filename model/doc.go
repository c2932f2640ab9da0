// Package model builds transformer encoders (BERT, RoBERTa/XLM-R, DistilBERT)
// and their classification heads from a config, mapping HF weight names.
package model
