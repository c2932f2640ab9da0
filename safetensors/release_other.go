//go:build !linux

package safetensors

// releasePages does nothing where MADV_DONTNEED is not used.
func releasePages(b []byte) error { return nil }
