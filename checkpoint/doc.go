// Package checkpoint reads and writes checkpoint directories as transformers'
// from_pretrained and save_pretrained do: config.json, weights from safetensors
// (sharded too) or pytorch_model.bin through a restricted unpickler, HF tensor names.
package checkpoint
