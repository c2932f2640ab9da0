// Package nn holds layers with explicit Forward and Backward passes (Linear,
// Embedding, LayerNorm, Dropout, attention, feed-forward) over flat float32
// slices, and Param, a weight with its gradient.
package nn
