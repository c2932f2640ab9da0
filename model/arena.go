package model

import "sync"

// arena hands out float32 buffers that live until the next reset, reusing
// the same memory from one training step to the next instead of allocating
// (and zeroing) hundreds of megabytes per step. Buffers are not zeroed.
type arena struct {
	chunks [][]float32
	chunk  int // index of the chunk being cut
	off    int // offset in it
}

// minChunk is the smallest chunk allocated (4 MiB of float32).
const minChunk = 1 << 20

// reset makes all memory available again; earlier buffers must no longer be used.
func (a *arena) reset() { a.chunk, a.off = 0, 0 }

// arenaMark is a position in an arena.
type arenaMark struct{ chunk, off int }

// mark is the arena's position, for release.
func (a *arena) mark() arenaMark { return arenaMark{a.chunk, a.off} }

// release makes the memory taken since mark available again; the buffers
// taken since must no longer be used.
func (a *arena) release(m arenaMark) { a.chunk, a.off = m.chunk, m.off }

// take returns n floats that are not zeroed.
func (a *arena) take(n int) []float32 {
	for a.chunk < len(a.chunks) {
		c := a.chunks[a.chunk]
		if a.off+n <= len(c) {
			s := c[a.off : a.off+n : a.off+n]
			a.off += n
			return s
		}
		a.chunk++
		a.off = 0
	}
	c := make([]float32, max(n, minChunk))
	a.chunks = append(a.chunks, c)
	a.off = n
	return c[:n:n]
}

// inferenceArenas holds the arenas of finished inference passes (Forward),
// whose buffers do not outlive the call, for the next ones.
var inferenceArenas = sync.Pool{New: func() any { return new(arena) }}
