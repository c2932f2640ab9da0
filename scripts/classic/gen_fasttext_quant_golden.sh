#!/bin/sh
# Golden files for quantized (.ftz) models and for word vectors, written by
# Debian's fasttext (apt-get install -y fasttext) itself:
#
#   q_*.ftz, q_*.probs   models of gen_fasttext_golden.sh quantized by
#                        `fasttext quantize`, and their `predict-prob` output;
#   sg.bin, cbow.bin     tiny skip-gram and CBOW models with char n-grams;
#   *.words, *.sentences, *.nn, *.analogies
#                        what `print-word-vectors` (in-vocabulary and unseen
#                        words), `print-sentence-vectors`, `nn` and
#                        `analogies` print for them (softmax.sentences: the
#                        sentence vectors of the supervised softmax.bin).
#
# package classic must read each file and print the same. Run from the
# repository root after gen_fasttext_golden.sh:
#   sh scripts/classic/gen_fasttext_quant_golden.sh
set -eu
out=testdata/classic/fasttext
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# quantize NAME SOURCE ARGS…: quantize SOURCE.bin into NAME.ftz.
quantize() {
  name=$1 src=$2
  shift 2
  cp "$out/$src.bin" "$tmp/$name.bin"
  fasttext quantize -input "$out/train.txt" -output "$tmp/$name" -thread 1 -verbose 0 "$@"
  cp "$tmp/$name.ftz" "$out/$name.ftz"
  fasttext predict-prob "$out/$name.ftz" "$out/test.txt" -1 > "$out/$name.probs"
}
# No cutoff (no pruning), plain product quantization of 2-dim sub-vectors.
quantize q_softmax softmax -dsub 2
# Norms quantized apart, 300 rows kept by norm and retrained, 4-dim sub-vectors.
quantize q_hs_qnorm hs -qnorm -cutoff 300 -retrain -epoch 5 -lr 0.1 -dsub 4
# A last sub-vector shorter than the others (dim 8, dsub 3), cutoff without retraining.
quantize q_ova_cutoff ova -cutoff 400 -dsub 3

# Sentence vectors of a supervised model (its input rows averaged over the
# words, char and word n-grams of each line).
fasttext print-sentence-vectors "$out/softmax.bin" < "$out/test.txt" > "$out/softmax.sentences"

# Word vectors: the training texts without their labels.
sed 's/__label__[a-z]* //' "$out/train.txt" > "$out/corpus.txt"
for model in skipgram cbow; do
  short=$([ "$model" = skipgram ] && echo sg || echo cbow)
  fasttext "$model" -input "$out/corpus.txt" -output "$tmp/$short" -dim 8 -bucket 500 -minn 2 -maxn 4 \
    -minCount 2 -epoch 3 -thread 1 -seed 1 -verbose 0
  cp "$tmp/$short.bin" "$out/$short.bin"
  printf 'match goal 比赛 matchs unseenword 新面条 </s>\n' | tr ' ' '\n' | fasttext print-word-vectors "$out/$short.bin" > "$out/$short.words"
  fasttext print-sentence-vectors "$out/$short.bin" < "$out/test.txt" > "$out/$short.sentences"
  printf 'goal\nrecipe\n芯片\nrobots\n' | fasttext nn "$out/$short.bin" 5 | sed 's/Query word? //' > "$out/$short.nn"
  # fastText 0.9.2's analogies prompts forever at the end of its input: keep
  # the 2 × 4 answers asked for, then stop it.
  /usr/bin/python3 - "$out/$short.bin" > "$out/$short.analogies" <<'PY'
import subprocess, sys
p = subprocess.Popen(["fasttext", "analogies", sys.argv[1], "4"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
p.stdin.write("match team recipe\ncode chip noodle\n".encode()); p.stdin.close()
buf, lines = b"", []
while len(lines) < 8:
    chunk = p.stdout.read1(4096)
    if not chunk:
        break
    buf += chunk.replace(b"Query triplet (A - B + C)? ", b"")
    *done, buf = buf.split(b"\n")
    lines += [l for l in done if l.strip() and not l.startswith(b"Loading model")]
p.kill()
sys.stdout.write("".join(l.decode() + "\n" for l in lines[:8]))
PY
done
