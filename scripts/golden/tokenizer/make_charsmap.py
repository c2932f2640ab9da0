#!/usr/bin/env python3
"""Writes testdata/tokenizer/precompiled_charsmap.b64: the precompiled normalization map of
SentencePiece's default nmt_nfkc rule, as XLM-R and ALBERT tokenizer.json files carry it in their
"Precompiled" normalizer. It trains a tiny SentencePiece model (the map does not depend on the training
text) with Debian's python3-sentencepiece and takes the map from its normalizer_spec.

Run from the repository root:  /usr/bin/python3 scripts/golden/tokenizer/make_charsmap.py
"""
import base64, os, sys, tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

out = os.path.join("testdata", "tokenizer", "precompiled_charsmap.b64")
with tempfile.TemporaryDirectory() as tmp:
    text = os.path.join(tmp, "text.txt")
    with open(text, "w") as f:
        for i in range(200):
            f.write("the quick brown fox %d jumps over the lazy dog 你好世界 café\n" % i)
    prefix = os.path.join(tmp, "m")
    spm.SentencePieceTrainer.train(input=text, model_prefix=prefix, vocab_size=60, model_type="unigram",
                                   normalization_rule_name="nmt_nfkc", minloglevel=2)
    m = pb.ModelProto()
    with open(prefix + ".model", "rb") as f:
        m.ParseFromString(f.read())
    blob = m.normalizer_spec.precompiled_charsmap
if not blob:
    sys.exit("no precompiled charsmap in the trained model")
with open(out, "w") as f:
    f.write(base64.b64encode(blob).decode() + "\n")
print("wrote %s (%d bytes of charsmap)" % (out, len(blob)))
