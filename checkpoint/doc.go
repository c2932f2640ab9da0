// Package checkpoint reads and writes checkpoint directories as transformers'
// from_pretrained and save_pretrained do.
//
// LoadConfig parses config.json for BERT, RoBERTa, XLM-RoBERTa and DistilBERT
// into one normalised Config. LoadWeights reads the weights — model.safetensors,
// sharded safetensors (model.safetensors.index.json), pytorch_model.bin in
// torch's zip format or its sharded index — into float32 tensors under their HF
// names; pytorch_model.bin is decoded by a restricted unpickler that never runs
// code. MapWeights matches checkpoint tensors to the names and shapes a model
// expects with transformers' prefix and legacy-name rules and reports missing,
// unexpected and mismatched tensors. Save writes config.json, model.safetensors
// and tokenizer files atomically.
package checkpoint
