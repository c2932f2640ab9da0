// Package classic holds the classic baselines: a fastText-style bag of
// n-grams (reading and writing fastText's .bin and quantized .ftz files,
// with fastText's quantize), TextCNN and BiLSTM over word vectors, word
// vectors trained as fastText's skipgram and cbow (with char n-grams), the
// word-vector readers and fastText's vector tools (nearest neighbours,
// analogies, word and sentence vectors).
package classic
