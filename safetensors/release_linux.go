package safetensors

import "syscall"

// releasePages drops the pages of b, a page-aligned part of a private file
// mapping, from the process (MADV_DONTNEED): they are read from the file
// again if touched.
func releasePages(b []byte) error { return syscall.Madvise(b, syscall.MADV_DONTNEED) }
