#!/usr/bin/env python3
"""Make unlabeled texts for distillation from a labeled TSV, as Tang et al. (2019) do.

"Distilling Task-Specific Knowledge from BERT into Simple Neural Networks", section 3.3: for each
training text, n_iter times, every word is masked with probability p_mask (replaced by a token the
student does not know, here "xxunk"), then with probability p_ng the text is cut down to one of its
n-grams (n drawn from 1..5). (Their third rule, replacing a word by another of the same part of
speech, needs a tagger and is left out.) The teacher labels these texts with its logits; the student
learns them as soft targets (`textclf distill --unlabeled`).

Texts equal to a training text, and repeats, are dropped. The output is one text a line, written to a
temporary file and renamed.

Usage: augment.py TRAIN.tsv OUT.txt [N_ITER=2] [SEED=1] [P_MASK=0.1] [P_NG=0.25]
  TRAIN.tsv: a header line, then "label<TAB>text" lines (scripts/builtin/prep.py's files)
"""
import os
import random
import sys


def augment(words, rng, p_mask, p_ng):
    out = ["xxunk" if rng.random() < p_mask else w for w in words]
    if len(out) > 1 and rng.random() < p_ng:
        n = min(rng.randint(1, 5), len(out))
        i = rng.randint(0, len(out) - n)
        out = out[i:i + n]
    return out


def main():
    if not 3 <= len(sys.argv) <= 7:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    n_iter = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    p_mask = float(sys.argv[5]) if len(sys.argv) > 5 else 0.1
    p_ng = float(sys.argv[6]) if len(sys.argv) > 6 else 0.25
    texts = []
    with open(src, encoding="utf-8") as f:
        next(f)
        for n, line in enumerate(f, 2):
            parts = line.rstrip("\n").split("\t", 1)
            if len(parts) != 2:
                sys.exit(f"{src}:{n}: want label<TAB>text")
            texts.append(parts[1])
    seen = set(texts)
    out = []
    for _ in range(n_iter):
        for t in texts:
            a = " ".join(augment(t.split(), rng, p_mask, p_ng))
            if a and a not in seen:
                seen.add(a)
                out.append(a)
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(a + "\n" for a in out)
    os.replace(tmp, dst)
    print(f"{dst}: {len(out)} texts from {len(texts)} ({n_iter} passes, p_mask {p_mask}, p_ng {p_ng})")


if __name__ == "__main__":
    main()
