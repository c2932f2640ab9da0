// Package explain attributes a classifier's prediction to the tokens of its
// input: integrated gradients on a transformer's embeddings, following
// Captum's LayerIntegratedGradients (the same baseline, path, quadrature
// rules and completeness delta, so results compare one to one), and
// leave-one-out occlusion for any model, which is how classic models
// (fastText, TextCNN, BiLSTM) are explained. It also holds the Explanation
// type that the command line, the root package and the server share, with
// its word-level scores and its HTML rendering (Captum's visualize_text).
package explain
