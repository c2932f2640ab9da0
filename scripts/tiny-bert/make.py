#!/usr/bin/env python3
"""Writes testdata/tiny-bert: a tiny random BERT classifier with a matching tokenizer.

The weights and config are those of the PyTorch golden model
testdata/model/bert-single-label (scripts/model/gen.py); the tokenizer is a
small WordPiece vocabulary (99 ids, the model's vocab_size) in the HF
tokenizer.json format. It is a fixture for end-to-end tests and examples
(train, eval, predict): its predictions are those of random weights.

Run from the repository root:  python3 scripts/tiny-bert/make.py
"""
import json, os, shutil

src = "testdata/model/bert-single-label"
dst = "testdata/tiny-bert"
os.makedirs(dst, exist_ok=True)
shutil.copy(os.path.join(src, "model.safetensors"), os.path.join(dst, "model.safetensors"))
config = json.load(open(os.path.join(src, "config.json")))
config["max_position_embeddings"] = config.get("max_position_embeddings", 40)
json.dump(config, open(os.path.join(dst, "config.json"), "w"), indent=2, sort_keys=True)

special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
words = ["the", "a", "an", "and", "or", "not", "no", "very", "so", "is", "was", "it", "this", "that", "i",
         "movie", "film", "story", "acting", "plot", "great", "good", "fine", "bad", "awful", "boring",
         "fun", "funny", "sad", "love", "loved", "hate", "hated", "best", "worst", "of", "to", "in",
         "spam", "win", "free", "prize", "call", "now", "text", "you", "me", "ok", "see", "home",
         ".", ",", "!", "?", "'", "-", "这", "是", "一", "个", "示", "例", "文", "本"]
vocab = {t: i for i, t in enumerate(special + words)}
for c in "abcdefghijklmnopqrstuvwxyz0123456789":
    if len(vocab) >= config["vocab_size"]:
        break
    vocab["##" + c] = len(vocab)
assert len(vocab) <= config["vocab_size"], len(vocab)
tok = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for t in special],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                  {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                       "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                       "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ["[CLS]", "[SEP]"]}},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100, "vocab": vocab},
}
json.dump(tok, open(os.path.join(dst, "tokenizer.json"), "w"), ensure_ascii=False, indent=1)
print("wrote", dst, len(vocab), "tokens")
