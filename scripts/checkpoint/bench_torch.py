#!/usr/bin/python3
"""Reference timings for BENCHMARKS.md: PyTorch loading a BERT-base checkpoint.

    /usr/bin/python3 scripts/checkpoint/bench_torch.py /tmp/dir

writes /tmp/dir/pytorch_model.bin (BERT-base classifier, 438 MB F32) and prints
the best of 5 torch.load times (page cache warm). Pass the same file to
TEXTCLF_BENCH_TORCH_BIN for Go's BenchmarkLoadTorchBin.
"""
import collections
import os
import sys
import time

import torch

h, inter, vocab, pos, layers = 768, 3072, 30522, 512, 12
sd = collections.OrderedDict()
sd["bert.embeddings.word_embeddings.weight"] = torch.randn(vocab, h)
sd["bert.embeddings.position_embeddings.weight"] = torch.randn(pos, h)
sd["bert.embeddings.token_type_embeddings.weight"] = torch.randn(2, h)
sd["bert.embeddings.LayerNorm.weight"] = torch.ones(h)
sd["bert.embeddings.LayerNorm.bias"] = torch.zeros(h)
for l in range(layers):
    p = "bert.encoder.layer.%d." % l
    for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
        sd[p + m + ".weight"] = torch.randn(h, h)
        sd[p + m + ".bias"] = torch.randn(h)
    sd[p + "attention.output.LayerNorm.weight"] = torch.ones(h)
    sd[p + "attention.output.LayerNorm.bias"] = torch.zeros(h)
    sd[p + "intermediate.dense.weight"] = torch.randn(inter, h)
    sd[p + "intermediate.dense.bias"] = torch.randn(inter)
    sd[p + "output.dense.weight"] = torch.randn(h, inter)
    sd[p + "output.dense.bias"] = torch.randn(h)
    sd[p + "output.LayerNorm.weight"] = torch.ones(h)
    sd[p + "output.LayerNorm.bias"] = torch.zeros(h)
sd["bert.pooler.dense.weight"] = torch.randn(h, h)
sd["bert.pooler.dense.bias"] = torch.randn(h)
sd["classifier.weight"] = torch.randn(2, h)
sd["classifier.bias"] = torch.randn(2)

os.makedirs(sys.argv[1], exist_ok=True)
path = os.path.join(sys.argv[1], "pytorch_model.bin")
torch.save(sd, path)
torch.load(path)  # warm the page cache
best = min((lambda t0: (torch.load(path), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
print("torch %s: torch.load of %s (%d MB): %.3f s" % (torch.__version__, path, os.path.getsize(path) // 10**6, best))
