#!/usr/bin/env python3
"""GloVe vectors with one more dimension: each word's VADER sentiment rating.

    python3 scripts/builtin/glove_with_vader.py GLOVE LEXICON OUT [SCALE=2]

GloVe puts words of opposite sentiment close together (good, bad; they occur
in the same contexts), and 6 % of SST-2's dev tokens, in 60 % of its
sentences, are words its training split lacks, for which a classifier has
only their vectors. VADER's lexicon (Hutto and Gilbert 2014: 7,517 words and
emoticons, each rated from -4 to +4 by ten people) gives their polarity:
every GloVe line gets a last value, the word's mean rating / 4 × SCALE (0 for
words VADER does not rate), so a model reads a rated word's polarity even
when training never showed it the word.

- GLOVE: a GloVe text file (word and values on a line), such as
  glove_from_wink.py writes.
- LEXICON: vader_lexicon.txt (`token<TAB>mean<TAB>sd<TAB>[ratings]`), as the
  npm package vader-sentiment carries it.
- OUT: GLOVE's words in GLOVE's order with one more value each, written
  through a temporary file renamed into place.
"""
import os
import sys


def read_lexicon(path):
    ratings = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2:
                sys.exit(f"{path}:{number}: want token<TAB>mean rating")
            try:
                ratings[fields[0]] = float(fields[1])
            except ValueError:
                sys.exit(f"{path}:{number}: rating {fields[1]!r} is not a number")
    if not ratings:
        sys.exit(f"{path}: no ratings")
    return ratings


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("\n\n")[1].strip())
    glove, lexicon, out = sys.argv[1:4]
    scale = float(sys.argv[4]) if len(sys.argv) == 5 else 2.0
    ratings = read_lexicon(lexicon)
    rated, dim = 0, None
    tmp = out + ".tmp"
    with open(glove, encoding="utf-8") as f, open(tmp, "w", encoding="utf-8") as o:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            fields = line.split(" ")
            if dim is None:
                dim = len(fields) - 1
            if len(fields) != dim + 1:
                sys.exit(f"{glove}:{number}: {len(fields) - 1} values, want {dim}")
            rating = ratings.get(fields[0], 0.0)
            rated += rating != 0
            o.write("%s %.4f\n" % (line, rating / 4 * scale))
    if dim is None:
        os.remove(tmp)
        sys.exit(f"{glove}: no vectors")
    os.replace(tmp, out)
    print(f"{out}: {number} words, dim {dim + 1}; {rated} with a VADER rating", file=sys.stderr)


if __name__ == "__main__":
    main()
