#!/usr/bin/python3
"""PyTorch side of the SST-2 accuracy run: fine-tunes the initial checkpoint
exactly as `textclf train --no-shuffle` does, with HF Trainer semantics.

    /usr/bin/python3 bench/train/torch_train.py --init DIR --train TSV --eval TSV --textclf BIN
        --out DIR [--epochs 1 --batch-size 32 --lr 1e-4 --max-length 64 --warmup-ratio 0.1
        --weight-decay 0.01 --dropout 0 --max-grad-norm 1 --seed 42 --threads 2]
        [--compare TEXTCLF_OUTPUT_DIR]

Same inputs: token ids come from `textclf tokenize --max-length L` (HF-identical,
[CLS] ... [SEP], longest-first truncation). Same batches: consecutive rows of the
file in its order, `batch-size` at a time (the last one smaller), each padded to
its longest row with pad id 0, attention mask 1/0, token types 0. Same labels:
distinct labels of train and eval, integers in numeric order (so "0"->0, "1"->1).
Same optimisation as transformers' Trainer: model.train(); mean cross-entropy;
backward; clip_grad_norm_(max_grad_norm); torch.optim.AdamW (betas 0.9/0.999,
eps 1e-8) with weight decay on every parameter except biases and LayerNorm
parameters; LambdaLR with get_linear_schedule_with_warmup's factor
(k/warmup, then (total-k)/(total-warmup)), warmup = ceil(ratio * total),
total = ceil(epochs * steps_per_epoch); dev accuracy after each epoch.

Writes OUT/torch_result.json (per-epoch dev accuracy, per-step losses, times)
and OUT/model.safetensors. With --compare it also loads textclf's fine-tuned
model.safetensors into the reference model and reports its dev accuracy as
computed by PyTorch, the agreement of the two models' dev predictions and the
largest weight difference.
"""
import argparse
import json
import math
import os
import subprocess
import time

import torch

from common import load_safetensors, reference, save_safetensors, write_json

T_SCRIPT = time.perf_counter()


def read_tsv(path):
    """Rows (label, text) of a `label<TAB>sentence` file with a header (text column: text, sentence or content)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        li = header.index("label")
        ti = next(header.index(c) for c in ("text", "sentence", "content") if c in header)
        for n, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) <= max(li, ti):
                raise SystemExit("%s:%d: %d cells, want %d" % (path, n, len(cells), len(header)))
            rows.append((cells[li].strip(), cells[ti]))
    return rows


def tokenize(textclf, tokenizer, texts, max_length):
    """Token ids of each text from `textclf tokenize` (one JSON object a line)."""
    inp = "".join(t.replace("\n", " ") + "\n" for t in texts).encode("utf-8")
    out = subprocess.run([textclf, "tokenize", "--tokenizer", tokenizer, "--max-length", str(max_length)],
                         input=inp, stdout=subprocess.PIPE, check=True).stdout
    encs = [json.loads(l) for l in out.decode("utf-8").splitlines()]
    if len(encs) != len(texts):
        raise SystemExit("textclf tokenize returned %d encodings for %d texts" % (len(encs), len(texts)))
    return [(e["ids"], e["type_ids"]) for e in encs]


def label_order(labels):
    """transformers-free version of textclf's data.BuildLabelMap for this data:
    integers in numeric order, else names sorted."""
    labels = sorted(set(labels))
    try:
        return sorted(labels, key=int)
    except ValueError:
        return labels


def pad(encs):
    T = max(len(ids) for ids, _ in encs)
    ids = torch.zeros(len(encs), T, dtype=torch.long)
    types = torch.zeros(len(encs), T, dtype=torch.long)
    mask = torch.zeros(len(encs), T, dtype=torch.long)
    for i, (x, t) in enumerate(encs):
        ids[i, :len(x)] = torch.tensor(x)
        types[i, :len(t)] = torch.tensor(t)
        mask[i, :len(x)] = 1
    return ids, types, mask


def linear_factor(k, warmup, total):
    if k < warmup:
        return k / max(1, warmup)
    return max(0.0, (total - k) / max(1, total - warmup))


def predict(model, encs, batch_size=64):
    model.eval()
    preds = []
    with torch.no_grad():
        for lo in range(0, len(encs), batch_size):
            ids, types, mask = pad(encs[lo:lo + batch_size])
            logits, _, _ = model(ids, mask, types)
            preds += logits.argmax(-1).tolist()
    return preds


def accuracy(preds, gold):
    return sum(int(p == g) for p, g in zip(preds, gold)) / len(gold)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--textclf", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compare", help="textclf's output directory: evaluate its weights here too")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    with open(os.path.join(a.init, "config.json")) as f:
        cfg = json.load(f)
    cfg["hidden_dropout_prob"] = a.dropout
    cfg["attention_probs_dropout_prob"] = a.dropout
    cfg["classifier_dropout"] = None
    train_rows, eval_rows = read_tsv(a.train), read_tsv(a.eval)
    labels = label_order([l for l, _ in train_rows + eval_rows])
    if labels != [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]:
        raise SystemExit("labels %s differ from the checkpoint's %s" % (labels, cfg["id2label"]))
    index = {l: i for i, l in enumerate(labels)}
    tok = os.path.join(a.init, "tokenizer.json")
    t0 = time.perf_counter()
    train_enc = tokenize(a.textclf, tok, [t for _, t in train_rows], a.max_length)
    eval_enc = tokenize(a.textclf, tok, [t for _, t in eval_rows], a.max_length)
    t_tok = time.perf_counter() - t0
    train_y = [index[l] for l, _ in train_rows]
    eval_y = [index[l] for l, _ in eval_rows]

    model = reference.BertForSequenceClassification(cfg)
    init = load_safetensors(os.path.join(a.init, "model.safetensors"))
    model.load_state_dict(init, strict=True)

    # The Trainer's groups: no decay for biases and LayerNorm parameters.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    batches = [list(range(lo, min(lo + a.batch_size, len(train_enc))))
               for lo in range(0, len(train_enc), a.batch_size)]
    steps_per = len(batches)
    total = math.ceil(a.epochs * steps_per)
    warmup = math.ceil(a.warmup_ratio * total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: linear_factor(k, warmup, total))
    params = [p for p in model.parameters()]

    losses, evals = [], []
    t_train = 0.0
    step = 0
    print("torch: %d train rows, %d dev rows, %d steps (%d warmup), batch %d, lr %g, dropout %g, %d threads"
          % (len(train_enc), len(eval_enc), total, warmup, a.batch_size, a.lr, a.dropout, a.threads), flush=True)
    for epoch in range(a.epochs):
        model.train()
        t0 = time.perf_counter()
        for b in batches:
            ids, types, mask = pad([train_enc[i] for i in b])
            y = torch.tensor([train_y[i] for i in b], dtype=torch.long)
            _, loss, _ = model(ids, mask, types, labels=y)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            losses.append((step, loss.item(), float(norm), t_train + time.perf_counter() - t0))
            if step % 50 == 0 or step == total:
                el = t_train + time.perf_counter() - t0
                print("torch: step %d/%d loss(last 50) %.4f  %.3f s/step" %
                      (step, total, sum(x[1] for x in losses[-50:]) / len(losses[-50:]), el / step), flush=True)
        t_train += time.perf_counter() - t0
        preds = predict(model, eval_enc)
        evals.append({"epoch": epoch + 1, "step": step, "accuracy": accuracy(preds, eval_y)})
        print("torch: epoch %d dev accuracy %.4f" % (epoch + 1, evals[-1]["accuracy"]), flush=True)

    os.makedirs(a.out, exist_ok=True)
    save_safetensors(dict(model.state_dict()), os.path.join(a.out, "model.safetensors"))
    res = {"train_rows": len(train_enc), "eval_rows": len(eval_enc), "steps": total, "warmup_steps": warmup,
           "threads": a.threads, "tokenize_s": t_tok, "train_loop_s": t_train, "s_per_step": t_train / total,
           "evals": evals, "dev_accuracy": evals[-1]["accuracy"],
           "losses": [{"step": s, "loss": l, "grad_norm": n, "elapsed_s": e} for s, l, n, e in losses]}
    if a.compare:
        tc = reference.BertForSequenceClassification(cfg)
        tc_w = load_safetensors(os.path.join(a.compare, "model.safetensors"))
        tc.load_state_dict(tc_w, strict=True)
        tc_preds = predict(tc, eval_enc)
        sd = model.state_dict()
        worst = max(((tc_w[k] - sd[k]).abs().max().item(), k) for k in sd)
        res["textclf_model"] = {
            "dev_accuracy_by_torch": accuracy(tc_preds, eval_y),
            "prediction_agreement": accuracy(tc_preds, preds),
            "max_abs_weight_diff": worst[0], "max_abs_weight_diff_tensor": worst[1],
            "max_abs_weight_change_torch": max((sd[k] - init[k]).abs().max().item() for k in sd),
        }
    res["script_s"] = time.perf_counter() - T_SCRIPT
    write_json(res, os.path.join(a.out, "torch_result.json"))
    print("torch: training loop %.1f s (%.3f s/step), whole script %.1f s" %
          (t_train, t_train / total, res["script_s"]), flush=True)


if __name__ == "__main__":
    main()
