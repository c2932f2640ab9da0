#!/usr/bin/python3
"""PyTorch side of the pretraining benchmark: BertForMaskedLM training steps
(scripts/model/reference.py, written from transformers' modeling_bert.py) of
a BERT miniature with vocabulary 30,522 and dropout 0.1, on B×T random tokens
of which 15 % are labelled (80 % of those replaced by [MASK], 10 % by a random
token), labels -100 elsewhere: forward (logits at every position, as
BertForMaskedLM computes them), CrossEntropyLoss, backward,
clip_grad_norm_(1), torch.optim.AdamW (lr 1e-4, weight decay 0.01).

    /usr/bin/python3 bench/pretrain/torch_mlm_step.py --preset bert-mini --batch 32 --seq 128 --steps 10 --threads 2

Prints tokens/s over the timed steps (after one untimed step). --masked-only
runs the head on the labelled positions only, as textclf does (the loss and
gradients are the same; BertForMaskedLM computes every position's logits).
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "model"))
import reference  # noqa: E402

PRESETS = {"bert-tiny": (2, 128, 2), "bert-mini": (4, 256, 4), "bert-small": (4, 512, 8), "bert-medium": (8, 512, 8)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="bert-mini")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--masked-only", action="store_true",
                    help="run the MLM head on the labelled positions only (as textclf does), not on every position")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    layers, hidden, heads = PRESETS[a.preset]
    cfg = {"architectures": ["BertForMaskedLM"], "vocab_size": 30522, "hidden_size": hidden, "num_hidden_layers": layers,
           "num_attention_heads": heads, "intermediate_size": 4 * hidden, "max_position_embeddings": 512,
           "type_vocab_size": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
           "layer_norm_eps": 1e-12, "initializer_range": 0.02, "pad_token_id": 0, "id2label": {"0": "A", "1": "B"}}
    torch.manual_seed(1)
    model = reference.from_config(cfg)
    model.train()
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(1000, 30522, (a.batch, a.seq), generator=g)
    labels = torch.full_like(ids, -100)
    chosen = torch.rand(ids.shape, generator=g) < 0.15
    chosen[:, 0] = chosen[:, -1] = False
    labels[chosen] = ids[chosen]
    u = torch.rand(ids.shape, generator=g)
    ids[chosen & (u < 0.8)] = 103
    rnd = chosen & (u >= 0.8) & (u < 0.9)
    ids[rnd] = torch.randint(0, 30522, (int(rnd.sum()),), generator=g)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)

    sel = labels != -100

    def step():
        opt.zero_grad(set_to_none=True)
        if a.masked_only:
            seq, _ = model.bert(ids, mask, types)
            logits = model.cls(seq[sel])
            loss = torch.nn.functional.cross_entropy(logits, labels[sel])
        else:
            _, loss, _ = model(ids, mask, types, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    print("torch%s %s %dx%d: %.1f tokens/s (%.3f s/step)" % (" (masked rows only)" if a.masked_only else "", a.preset, a.batch,
                                                          a.seq, a.steps * a.batch * a.seq / dt, dt / a.steps))


if __name__ == "__main__":
    main()
