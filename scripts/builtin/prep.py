#!/usr/bin/env python3
"""Writes the training and dev files of textclf's built-in models.

    python3 scripts/builtin/prep.py DATASETS_DIR OUT_DIR

DATASETS_DIR is the shared datasets folder (sst2/, waimai/, thucnews/).
Writes into OUT_DIR, as TSV files with a header `label<TAB>text` and the
label names NEGATIVE/POSITIVE (topics for news):
  sentiment-en.train.tsv, sentiment-en.dev.tsv   SST-2 train / dev, as GLUE splits them
  sentiment-zh.train.tsv, sentiment-zh.dev.tsv   waimai_10k, shuffled with a fixed seed,
                                                 the last 10 % as dev (stratified by label)
  news-zh.train.tsv, news-zh.dev.tsv             THUCNews dev.txt (the folder has no train split),
                                                 shuffled with a fixed seed, the last 10 % per label
                                                 as dev (for choosing the model and its epochs)
  news-zh.test.tsv                               THUCNews test.txt, for the reported accuracy only
Deterministic: the same inputs give byte-identical outputs (no clock, a fixed
seed, Python's Mersenne Twister whose shuffle is stable across Python 3).
"""
import csv
import os
import random
import sys

SENT = ["NEGATIVE", "POSITIVE"]


def clean(s):
    return " ".join(s.replace("\t", " ").split())


def write(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write("label\ttext\n")
        for label, text in rows:
            if text:
                f.write(f"{label}\t{text}\n")
    os.replace(tmp, path)


def sst2(src, split):
    rows = []
    with open(os.path.join(src, "sst2", split + ".tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            rows.append((SENT[int(label)], clean(text)))
    return rows


def waimai(src):
    by_label = {0: [], 1: []}
    with open(os.path.join(src, "waimai", "waimai_10k.csv"), encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        next(r)
        for label, review in r:
            by_label[int(label)].append(clean(review))
    rng = random.Random(13)
    train, dev = [], []
    for label in (0, 1):
        texts = by_label[label]
        rng.shuffle(texts)
        n_dev = len(texts) // 10
        dev += [(SENT[label], t) for t in texts[:n_dev]]
        train += [(SENT[label], t) for t in texts[n_dev:]]
    rng.shuffle(train)
    rng.shuffle(dev)
    return train, dev


def thucnews(src, split, names):
    rows = []
    with open(os.path.join(src, "thucnews", split + ".txt"), encoding="utf-8") as f:
        for line in f:
            text, label = line.rstrip("\n").rsplit("\t", 1)
            rows.append((names[int(label)], clean(text)))
    return rows


def split90(rows, seed):
    """Shuffles rows with seed and holds out the last 10 % of each label."""
    labels = sorted({label for label, _ in rows})
    rng = random.Random(seed)
    train, dev = [], []
    for label in labels:
        texts = [t for l, t in rows if l == label]
        rng.shuffle(texts)
        n_dev = len(texts) // 10
        dev += [(label, t) for t in texts[:n_dev]]
        train += [(label, t) for t in texts[n_dev:]]
    rng.shuffle(train)
    rng.shuffle(dev)
    return train, dev


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "sentiment-en.train.tsv"), sst2(src, "train"))
    write(os.path.join(out, "sentiment-en.dev.tsv"), sst2(src, "dev"))
    train, dev = waimai(src)
    write(os.path.join(out, "sentiment-zh.train.tsv"), train)
    write(os.path.join(out, "sentiment-zh.dev.tsv"), dev)
    with open(os.path.join(src, "thucnews", "class.txt"), encoding="utf-8") as f:
        names = [l.strip() for l in f if l.strip()]
    train, dev = split90(thucnews(src, "dev", names), 13)
    write(os.path.join(out, "news-zh.train.tsv"), train)
    write(os.path.join(out, "news-zh.dev.tsv"), dev)
    write(os.path.join(out, "news-zh.test.tsv"), thucnews(src, "test", names))


if __name__ == "__main__":
    main()
