// Package safetensors reads (with mmap) and writes safetensors files, converting
// F16, BF16 and F64 tensors to float32 on load.
package safetensors
