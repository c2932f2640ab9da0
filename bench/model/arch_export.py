#!/usr/bin/python3
"""ONNX exports of the decoder and ModernBERT presets for bench/model/run_arch.sh.

    arch_export.py OUTDIR NAME CONFIG.json [NAME CONFIG.json ...]

CONFIG.json is a preset's config as `textclf bench --config NAME --save-config`
writes it, so the exported model has textclf's shape exactly. The model is
scripts/model/reference_decoders.py (written from transformers' modeling files,
eager attention: full T x T scores with additive causal / padding / sliding-
window masks, as transformers' eager and ONNX paths compute them) with random
weights (normal(0, 0.02), norms 1); the export takes input_ids and
attention_mask [batch, seq] and gives the pooled logits [batch, labels]
(dynamic axes). Next to OUTDIR/NAME.onnx it writes NAME.check.json: a 2 x 24
batch (the second row right-padded) and PyTorch's logits, which ort_bench.js
compares with ORT's before timing.
"""
import json
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "scripts", "model"))
import reference_decoders as ref  # noqa: E402


class Wrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids, attention_mask)[0]


def main():
    outdir, pairs = sys.argv[1], sys.argv[2:]
    if not pairs or len(pairs) % 2:
        sys.exit(__doc__)
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    for name, cfg_path in zip(pairs[::2], pairs[1::2]):
        with open(cfg_path) as f:
            cfg = json.load(f)
        m = ref.build(cfg).eval()
        with torch.no_grad():
            for n, p in m.named_parameters():
                if p.dim() >= 2:
                    p.normal_(0, 0.02)
                elif "norm" in n or "ln_" in n:
                    p.fill_(1.0 if n.endswith("weight") else 0.0)
                else:
                    p.zero_()
        w = Wrapper(m).eval()
        vocab = cfg["vocab_size"]
        g = torch.Generator().manual_seed(3)
        ids = torch.randint(1000, vocab, (2, 24), generator=g)
        mask = torch.ones_like(ids)
        pad = cfg.get("pad_token_id") or 0
        ids[1, 10:], mask[1, 10:] = pad, 0
        tmp = os.path.join(outdir, name + ".onnx.tmp")
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "logits": {0: "batch"}}
        with torch.no_grad():
            torch.onnx.export(w, (ids, mask), tmp, input_names=["input_ids", "attention_mask"],
                              output_names=["logits"], dynamic_axes=axes, opset_version=14, do_constant_folding=True)
        os.replace(tmp, os.path.join(outdir, name + ".onnx"))
        with torch.inference_mode():
            logits = w(ids, mask)
        check = {"shape": list(ids.shape), "input_ids": ids.flatten().tolist(), "attention_mask": mask.flatten().tolist(),
                 "logits": logits.flatten().tolist(), "vocab_size": vocab}
        with open(os.path.join(outdir, name + ".check.json.tmp"), "w") as f:
            json.dump(check, f)
        os.replace(os.path.join(outdir, name + ".check.json.tmp"), os.path.join(outdir, name + ".check.json"))
        print("exported %s (%.0f MB)" % (name, os.path.getsize(os.path.join(outdir, name + ".onnx")) / 1e6),
              file=sys.stderr)


if __name__ == "__main__":
    main()
