#!/usr/bin/env python3
"""Accuracy of models and of the mean of their probabilities.

    python3 scripts/builtin/ensemble_accuracy.py DATA.tsv PRED.jsonl [PRED.jsonl ...]

DATA.tsv has a header and the gold label in its first column (as
scripts/builtin/prep.py writes them); each PRED.jsonl is `textclf predict
--data DATA.tsv --all` of one model, in the same order. Prints each file's
accuracy, then the accuracy of the mean of their probabilities (the way a
built-in model with parts, such as news-zh, averages them).
"""
import json
import sys


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    data, paths = argv[0], argv[1:]
    gold = [line.split("\t")[0] for line in open(data, encoding="utf-8").read().splitlines()[1:]]
    preds = []
    for path in paths:
        rows = [json.loads(line) for line in open(path, encoding="utf-8")]
        if len(rows) != len(gold):
            sys.exit(f"{path}: {len(rows)} predictions for {len(gold)} rows of {data}")
        preds.append([{s["label"]: s["score"] for s in r["scores"]} for r in rows])

    def accuracy(probs):
        return sum(max(p, key=p.get) == g for p, g in zip(probs, gold)) / len(gold)

    for path, p in zip(paths, preds):
        print(f"{path}: {accuracy(p):.4f}")
    mean = [{k: sum(p[i][k] for p in preds) / len(preds) for k in preds[0][i]} for i in range(len(gold))]
    print(f"mean of {len(preds)}: {accuracy(mean):.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
