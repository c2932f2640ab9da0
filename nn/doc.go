// Package nn holds layers with explicit Forward and Backward passes over flat
// float32 slices, in the style of llm.c: Linear (and GPT-2's Conv1D),
// Embedding, LayerNorm, RMSNorm, Dropout, activations, gated units (SwiGLU,
// GeGLU), rotary position embeddings, multi-head self-attention (BERT's) and
// masked attention with grouped-query heads, causal masks and sliding windows
// (the decoders' and ModernBERT's), and the classification losses. A Param is a weight with its gradient.
//
// Layers keep only their parameters; the caller owns the activations and
// passes back to Backward what Forward computed. Every Backward adds the
// gradient of its input to dx (which the caller zeroes) and adds parameter
// gradients to Param.Grad, so gradients of shared inputs accumulate.
// Shapes are explicit: x [n, in] is n rows of in values, row-major.
package nn
