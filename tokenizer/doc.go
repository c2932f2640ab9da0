// Package tokenizer encodes text into token ids exactly as Hugging Face
// tokenizers does. It loads tokenizer.json files, BERT vocab.txt directories and
// GPT-2/RoBERTa vocab.json+merges.txt pairs, and implements the normalizers,
// pre-tokenizers, models (WordPiece, BPE, Unigram), post-processors, added
// tokens, truncation, padding, offsets and decoding those files use.
//
// WordPieceTrainer learns a BERT WordPiece vocabulary as HF's
// WordPieceTrainer does and writes it as BertWordPieceTokenizer's
// tokenizer.json (with vocab.txt and transformers' config files).
//
// Offsets in an Encoding are Unicode code point offsets into the input text, as
// HF's Python and Node APIs return them.
package tokenizer
