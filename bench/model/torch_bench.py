"""PyTorch side of bench/model/run.sh: times the reference BERT of
scripts/model/reference.py (HF's BertForSequenceClassification, HF parameter
names) on the shapes textclf's `bench` uses, and exports it to ONNX for the
ONNX Runtime side.

Run with Debian's PyTorch 1.13 (`/usr/bin/python3`):

    torch_bench.py export OUTDIR            # OUTDIR/{bert-base,minilm}.onnx + check inputs/logits
    torch_bench.py save --config bert-base DIR   # the random model as a checkpoint directory
    torch_bench.py bench --config bert-base --batch 8 --seq 128 [--train] [--threads 2]
                         [--min-seconds 5 --min-iterations 5 --windows 3]
                         [--quantize-dynamic ENGINE | --autocast-bf16]

--quantize-dynamic ENGINE times torch.quantization.quantize_dynamic(model,
{nn.Linear}, dtype=torch.qint8) (int8 weights per tensor, activations
quantized at run time) on the quantized engine ENGINE (Debian's torch 1.13
has onednn and qnnpack, not fbgemm).

--autocast-bf16 runs the forward pass (and the loss) under
torch.autocast("cpu", dtype=torch.bfloat16), the Trainer's bf16=True on the
CPU: linear layers and matmuls in bfloat16, the weights and the optimizer in
float32 (impl "pytorch-bf16-autocast").

`bench` prints one JSON object (seq_per_s, ms_per_batch, ...). A measurement is
`windows` consecutive windows, each of at least min-seconds and at least
min-iterations steps after a warm-up; a window's value is its mean time per
step, and the reported value is the median window (the same rule run.sh
applies to textclf's and ONNX Runtime's numbers).
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "model"))
import reference  # noqa: E402

# Shapes as in model/bench.go PresetConfig.
PRESETS = {
    "bert-base": dict(layers=12, hidden=768, heads=12, inter=3072),
    "minilm": dict(layers=6, hidden=384, heads=12, inter=1536),
}

def config(name):
    p = PRESETS[name]
    return {
        "model_type": "bert", "architectures": ["BertForSequenceClassification"], "vocab_size": 30522,
        "hidden_size": p["hidden"], "num_hidden_layers": p["layers"], "num_attention_heads": p["heads"],
        "intermediate_size": p["inter"], "max_position_embeddings": 512, "type_vocab_size": 2,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "layer_norm_eps": 1e-12, "initializer_range": 0.02, "pad_token_id": 0,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
    }


def build(name, seed=1):
    """The reference model with transformers' _init_weights: normal(0, 0.02)
    weights and embeddings, zero biases, LayerNorm 1/0."""
    torch.manual_seed(seed)
    cfg = config(name)
    m = reference.from_config(cfg)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                mod.weight.normal_(0.0, cfg["initializer_range"])
                if isinstance(mod, nn.Linear) and mod.bias is not None:
                    mod.bias.zero_()
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.fill_(1.0)
                mod.bias.zero_()
    return m, cfg


def random_batch(cfg, b, t, seed=2):
    """Random token ids in [1000, vocab), no padding, token types 0 (as
    model.RandomBatch)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, cfg["vocab_size"], (b, t), generator=g, dtype=torch.long)
    return ids, torch.ones_like(ids), torch.zeros_like(ids)


class LogitsOnly(nn.Module):
    """Wraps the reference model for export: inputs as ONNX names them,
    logits out."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids, attention_mask, token_type_ids)[0]


def export(outdir, opset):
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    for name in PRESETS:
        m, cfg = build(name)
        w = LogitsOnly(m).eval()
        ids, mask, types = random_batch(cfg, 2, 16)
        axes = {k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "token_type_ids")}
        axes["logits"] = {0: "batch"}
        tmp = os.path.join(outdir, name + ".onnx.tmp")
        with torch.no_grad():
            torch.onnx.export(w, (ids, mask, types), tmp, input_names=["input_ids", "attention_mask",
                              "token_type_ids"], output_names=["logits"], dynamic_axes=axes,
                              opset_version=opset, do_constant_folding=True)
        os.replace(tmp, os.path.join(outdir, name + ".onnx"))
        # A check batch of another shape than the export's (3 x 24, the last
        # row padded), so that ORT's dynamic axes and the mask are exercised.
        ids, mask, types = random_batch(cfg, 3, 24, seed=3)
        mask[2, 10:] = 0
        ids[2, 10:] = 0
        w.eval()  # export restores the wrapper's mode; keep dropout off
        with torch.inference_mode():
            logits = w(ids, mask, types)
        check = {"shape": list(ids.shape), "input_ids": ids.flatten().tolist(),
                 "attention_mask": mask.flatten().tolist(), "token_type_ids": types.flatten().tolist(),
                 "logits": logits.flatten().tolist()}
        with open(os.path.join(outdir, name + ".check.json.tmp"), "w") as f:
            json.dump(check, f)
        os.replace(os.path.join(outdir, name + ".check.json.tmp"), os.path.join(outdir, name + ".check.json"))
        print("exported %s (opset %d, %.0f MB)" % (name, opset,
              os.path.getsize(os.path.join(outdir, name + ".onnx")) / 1e6), file=sys.stderr)


def measure(step, batch, min_seconds, min_iters, windows):
    step()  # warm-up
    step()
    means = []
    for _ in range(windows):
        n = 0
        start = time.perf_counter()
        while n < min_iters or time.perf_counter() - start < min_seconds:
            step()
            n += 1
        means.append((time.perf_counter() - start) / n)
    med = statistics.median(means)
    return {"seq_per_s": batch / med, "ms_per_batch": 1000 * med,
            "windows_ms": [round(1000 * x, 2) for x in means]}


def openblas_core():
    for name in ("openblas", "blas"):
        path = ctypes.util.find_library(name)
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_num_threads.restype = ctypes.c_int
            return "%s, %d threads" % (lib.openblas_get_corename().decode(), lib.openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return "unknown"


def bench(args):
    torch.set_num_threads(args.threads)
    name, b, t, train = args.config, args.batch, args.seq, args.train
    m, cfg = build(name)
    ids, mask, types = random_batch(cfg, b, t)
    if args.quantize_dynamic:
        if train:
            sys.exit("--quantize-dynamic is for inference")
        torch.backends.quantized.engine = args.quantize_dynamic
        m.eval()
        m = torch.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.autocast_bf16)  # noqa: E731
    if not train:
        m.eval()

        def step():
            with torch.inference_mode(), autocast():
                m(ids, mask, types)
    else:
        m.train()  # dropout on, as in fine-tuning
        labels = torch.zeros(b, dtype=torch.long)
        # The Trainer's groups: no weight decay for biases and LayerNorm weights.
        decay = [p for n, p in m.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
        no_decay = [p for n, p in m.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=1e-5)

        def step():
            opt.zero_grad(set_to_none=True)
            with autocast():
                _, loss, _ = m(ids, mask, types, labels)
            loss.backward()
            opt.step()
    r = measure(step, b, args.min_seconds, args.min_iterations, args.windows)
    impl = "pytorch-int8-" + args.quantize_dynamic if args.quantize_dynamic else "pytorch"
    if args.autocast_bf16:
        impl = "pytorch-bf16-autocast"
    r.update({"impl": impl, "config": name, "batch": b, "seq": t, "train": train,
              "torch": torch.__version__, "threads": torch.get_num_threads(), "openblas": openblas_core()})
    print(json.dumps(r), flush=True)


def save(name, outdir):
    """Writes the random model of build(name) as an HF checkpoint directory
    (config.json, model.safetensors), for run_reduced.sh's memory figures."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "model"))
    import gen  # noqa: E402
    m, cfg = build(name)
    os.makedirs(outdir, exist_ok=True)
    gen.save_safetensors(dict(m.state_dict()), os.path.join(outdir, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("outdir")
    e.add_argument("--opset", type=int, default=14)
    sv = sub.add_parser("save")
    sv.add_argument("--config", choices=sorted(PRESETS), required=True)
    sv.add_argument("outdir")
    b = sub.add_parser("bench")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--min-seconds", type=float, default=5.0)
    b.add_argument("--min-iterations", type=int, default=5)
    b.add_argument("--windows", type=int, default=3)
    b.add_argument("--config", choices=sorted(PRESETS), required=True)
    b.add_argument("--batch", type=int, required=True)
    b.add_argument("--seq", type=int, required=True)
    b.add_argument("--train", action="store_true", help="forward + cross-entropy + backward + AdamW step")
    b.add_argument("--quantize-dynamic", metavar="ENGINE", default="",
                   help="time torch.quantization.quantize_dynamic's int8 model on this engine (onednn, qnnpack)")
    b.add_argument("--autocast-bf16", action="store_true",
                   help="run the forward pass under torch.autocast('cpu', dtype=torch.bfloat16)")
    args = ap.parse_args()
    if args.cmd == "export":
        export(args.outdir, args.opset)
    elif args.cmd == "save":
        save(args.config, args.outdir)
    else:
        bench(args)


if __name__ == "__main__":
    main()
