#!/bin/sh
# Golden files for the fastText-style model: tiny models trained by Debian's
# fasttext (apt-get install -y fasttext) and its own predicted probabilities.
# package classic reads each .bin and must predict the same probabilities.
# Run from the repository root: sh scripts/classic/gen_fasttext_golden.sh
set -eu
out=testdata/classic/fasttext
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
random.seed(3)
topics = {
    "sport": "match goal team coach score league fútbol équipe 比赛 球队".split(),
    "tech": "software chip cloud code robot données 芯片 软件 算法 network".split(),
    "food": "recipe bake spicy noodle café crème 面条 美食 dinner sauce".split(),
}
common = "the a of and today new big 的 是 très".split()
def line(topic, n):
    ws = [random.choice(topics[topic]) if random.random() < 0.45 else random.choice(common) for _ in range(n)]
    return " ".join(ws)
with open(f"{out}/train.txt", "w") as f:
    for i in range(300):
        t = random.choice(sorted(topics))
        f.write(f"__label__{t} {line(t, random.randint(3, 12))}\n")
with open(f"{out}/test.txt", "w") as f:
    for i in range(40):
        t = random.choice(sorted(topics))
        extra = random.choice(["unseenword", "matchs", "códigos", "新面条", "robots", ""])
        f.write(f"__label__{t} {line(t, random.randint(1, 10))} {extra}\n".replace("  ", " "))
PY
for loss in softmax hs ova; do
  fasttext supervised -input "$out/train.txt" -output "$out/$loss" -dim 8 -bucket 1000 -wordNgrams 2 \
    -minn 2 -maxn 4 -epoch 30 -lr 0.5 -thread 1 -seed 1 -loss "$loss" -verbose 0
  rm -f "$out/$loss.vec"
  fasttext predict-prob "$out/$loss.bin" "$out/test.txt" -1 > "$out/$loss.probs"
done
# A model without n-gram buckets (fastText sets bucket 0 when wordNgrams 1 and maxn 0).
fasttext supervised -input "$out/train.txt" -output "$out/nobucket" -dim 8 -epoch 20 -thread 1 -verbose 0
rm -f "$out/nobucket.vec"
fasttext predict-prob "$out/nobucket.bin" "$out/test.txt" -1 > "$out/nobucket.probs"
