#!/usr/bin/python3
"""Golden values for package metrics, computed by scikit-learn.

Run with Debian's python3-sklearn:  /usr/bin/python3 scripts/classic/gen_metrics_golden.py
Writes testdata/classic/metrics_golden.json.
"""
import json
import os
import random

import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support)

random.seed(7)
cases = []

def single(name, labels, gold, pred):
    k = len(labels)
    ids = list(range(k))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=ids, zero_division=0)
    avg = {}
    for a in ("macro", "micro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(gold, pred, labels=ids, average=a, zero_division=0)
        avg[a] = {"precision": ap, "recall": ar, "f1": af}
    cases.append({
        "name": name, "kind": "single", "labels": labels, "gold": gold, "pred": pred,
        "accuracy": accuracy_score(gold, pred),
        "precision": list(p), "recall": list(r), "f1": list(f), "support": [int(x) for x in s],
        "avg": avg,
        "confusion": confusion_matrix(gold, pred, labels=ids).tolist(),
    })

single("binary", ["neg", "pos"], [0, 1, 1, 0, 1, 1, 0, 0, 1, 1], [0, 1, 0, 0, 1, 1, 1, 0, 1, 0])
gold = [random.randrange(5) for _ in range(200)]
pred = [g if random.random() < 0.6 else random.randrange(4) for g in gold]  # class 4 never predicted
single("five-classes", ["a", "b", "c", "d", "e"], gold, pred)
single("absent-class", ["x", "y", "z"], [0, 0, 1, 1], [0, 1, 1, 2])  # z has no support

# Multi-label: scores thresholded at 0.5.
k, n = 4, 60
gold_sets, scores = [], []
for _ in range(n):
    gs = sorted(random.sample(range(k), random.randrange(1, 3)))
    sc = [round(min(1, max(0, (0.7 if j in gs else 0.3) + random.uniform(-0.35, 0.35))), 3) for j in range(k)]
    gold_sets.append(gs)
    scores.append(sc)
Y = np.zeros((n, k), dtype=int)
for i, gs in enumerate(gold_sets):
    Y[i, gs] = 1
P = (np.array(scores) >= 0.5).astype(int)
p, r, f, s = precision_recall_fscore_support(Y, P, zero_division=0)
avg = {}
for a in ("macro", "micro", "weighted"):
    ap, ar, af, _ = precision_recall_fscore_support(Y, P, average=a, zero_division=0)
    avg[a] = {"precision": ap, "recall": ar, "f1": af}
cases.append({
    "name": "multi-label", "kind": "multi", "labels": ["l0", "l1", "l2", "l3"], "gold_sets": gold_sets,
    "scores": scores, "threshold": 0.5, "accuracy": accuracy_score(Y, P),
    "precision": list(p), "recall": list(r), "f1": list(f), "support": [int(x) for x in s], "avg": avg,
})

out = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "classic", "metrics_golden.json")
with open(out, "w") as fh:
    json.dump(cases, fh, indent=1, default=float)
print("wrote", out)
