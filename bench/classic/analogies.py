#!/usr/bin/python3
"""Syntactic word analogies built offline from a corpus and WordNet.

  analogies.py build CORPUS QUESTIONS   writes questions in the format of word2vec's
                                        questions-words.txt (": category", then "a b c d")
  analogies.py eval VECTORS QUESTIONS   prints the accuracy of a .vec file on them

The categories are the syntactic ones of word2vec's analogy set (Mikolov et al. 2013),
whose pairs are drawn here from the words of the corpus met at least 10 times:
plural nouns, past tense, present participle, adjective to adverb, comparative and
superlative. A base form must be a WordNet lemma of its part of speech (Debian's
wordnet-base: /usr/share/wordnet/index.*), its inflected form a regular English
inflection or one of WordNet's exceptions (*.exc). Questions are ordered pairs of
pairs, at most 300 per category, drawn with a fixed seed. A question "a b c d" is
right when d is the nearest word (cosine) to b - a + c among all the words of the
vectors but a, b and c (3CosAdd); questions with a word the vectors lack count as
wrong.
"""
import collections
import random
import sys

import numpy as np

WN = "/usr/share/wordnet"
MIN_COUNT = 10
PER_CATEGORY = 300


def lemmas(pos):
    out = set()
    with open(f"{WN}/index.{pos}", encoding="latin-1") as f:
        for line in f:
            if not line.startswith(" "):
                w = line.split(" ", 1)[0]
                if w.isalpha():
                    out.add(w)
    return out


def exceptions(pos):
    out = []
    with open(f"{WN}/{pos}.exc", encoding="latin-1") as f:
        for line in f:
            fs = line.split()
            if len(fs) >= 2 and fs[0].isalpha() and fs[1].isalpha():
                out.append((fs[1], fs[0]))  # (base, inflected)
    return out


def plural(n):
    if n.endswith(("s", "x", "z", "ch", "sh")):
        return n + "es"
    if n.endswith("y") and len(n) > 2 and n[-2] not in "aeiou":
        return n[:-1] + "ies"
    return n + "s"


def past(v):
    if v.endswith("e"):
        return v + "d"
    if v.endswith("y") and len(v) > 2 and v[-2] not in "aeiou":
        return v[:-1] + "ied"
    return v + "ed"


def participle(v):
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    return v + "ing"


def adverb(a):
    if a.endswith("y") and len(a) > 2:
        return a[:-1] + "ily"
    if a.endswith("le") and len(a) > 3:
        return a[:-1] + "y"
    if a.endswith("ic"):
        return a + "ally"
    return a + "ly"


def suffixed(a, s):
    if a.endswith("e"):
        return a + s[1:]
    if a.endswith("y") and len(a) > 2 and a[-2] not in "aeiou":
        return a[:-1] + "i" + s
    return a + s


def build(corpus, out):
    counts = collections.Counter()
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
    vocab = {w for w, c in counts.items() if c >= MIN_COUNT}
    nouns, verbs, adjs = lemmas("noun"), lemmas("verb"), lemmas("adj")
    cats = {
        "gram-plural": [(n, plural(n)) for n in nouns] + exceptions("noun"),
        "gram-past-tense": [(v, past(v)) for v in verbs] + exceptions("verb"),
        "gram-present-participle": [(v, participle(v)) for v in verbs],
        "gram-adjective-to-adverb": [(a, adverb(a)) for a in adjs],
        "gram-comparative": [(a, suffixed(a, "er")) for a in adjs] + [(b, i) for b, i in exceptions("adj") if i.endswith("er")],
        "gram-superlative": [(a, suffixed(a, "est")) for a in adjs] + [(b, i) for b, i in exceptions("adj") if i.endswith("est")],
    }
    rng = random.Random(19)
    with open(out, "w", encoding="utf-8") as f:
        for cat, pairs in cats.items():
            pairs = sorted({(b, i) for b, i in pairs if b != i and b in vocab and i in vocab and len(b) > 2})
            qs = [(p, q) for p in pairs for q in pairs if p != q]
            rng.shuffle(qs)
            f.write(f": {cat}\n")
            for p, q in sorted(qs[:PER_CATEGORY]):
                f.write(f"{p[0]} {p[1]} {q[0]} {q[1]}\n")
            print(f"{cat}: {len(pairs)} pairs, {min(len(qs), PER_CATEGORY)} questions", file=sys.stderr)


def evaluate(vec, questions):
    words, rows = [], []
    with open(vec, encoding="utf-8", errors="replace") as f:
        n, d = map(int, f.readline().split())
        for line in f:
            fs = line.rstrip().split(" ")
            if len(fs) == d + 1:
                words.append(fs[0])
                rows.append([float(x) for x in fs[1:]])
    m = np.array(rows, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    m = m / np.where(norms > 0, norms, 1)
    index = {w: i for i, w in enumerate(words)}
    right, total = collections.Counter(), collections.Counter()
    cat = ""
    with open(questions, encoding="utf-8") as f:
        for line in f:
            if line.startswith(":"):
                cat = line[1:].strip()
                continue
            a, b, c, d = line.split()
            total[cat] += 1
            if not all(w in index for w in (a, b, c, d)):
                continue
            q = m[index[b]] - m[index[a]] + m[index[c]]
            s = m @ q
            s[[index[a], index[b], index[c]]] = -np.inf
            if words[int(np.argmax(s))] == d:
                right[cat] += 1
    for cat in total:
        print(f"{cat} {right[cat] / total[cat]:.4f} {right[cat]}/{total[cat]}", file=sys.stderr)
    print(f"{sum(right.values()) / max(sum(total.values()), 1):.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("build", "eval"):
        sys.exit(__doc__)
    (build if sys.argv[1] == "build" else evaluate)(sys.argv[2], sys.argv[3])
