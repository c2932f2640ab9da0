#!/bin/bash
# Word vectors: textclf word2vec against fastText's skipgram and cbow
# (Debian's fasttext, apt-get install -y fasttext), with char n-grams
# (-minn 3 -maxn 6), on the same corpus, alternating the tools.
#
#   bash bench/classic/vectors.sh DATASETS_DIR [WORK_DIR] [RUNS]
#
# Corpus: the sentences of SST-2's train and dev splits (68k lines, 651k
# tokens), as they are (lower-case, space-separated). Evaluation:
# bench/classic/analogies.py, syntactic analogies (the categories of
# word2vec's questions-words.txt) built from the corpus's words and WordNet
# (Debian's wordnet-base), 3CosAdd over each tool's .vec file. Settings:
# fastText's defaults (dim 100, window 5, 5 negatives, min count 5, 5
# epochs, lr 0.05, t 1e-4, 2M buckets) with 2 threads; seeds 1…RUNS. Time is
# the wall time of the whole command (read, train, write the .bin and .vec).
set -euo pipefail
DATA=${1:?usage: vectors.sh DATASETS_DIR [WORK_DIR] [RUNS]}
WORK=${2:-/tmp/textclf-bench-vectors}
RUNS=${3:-3}
source "$(dirname "$0")/lib.sh"
[ -r /usr/share/wordnet/index.noun ] || { echo "WordNet not installed (apt-get install -y wordnet-base)" >&2; exit 1; }
corpus="$WORK/corpus.txt"
(tail -n +2 "$DATA/sst2/train.tsv" | cut -f2; tail -n +2 "$DATA/sst2/dev.tsv" | cut -f2) > "$corpus"
/usr/bin/python3 "$ROOT/bench/classic/analogies.py" build "$corpus" "$WORK/questions.txt"
acc() { /usr/bin/python3 "$ROOT/bench/classic/analogies.py" eval "$1" "$WORK/questions.txt" 2>/dev/null; }

OUT="$WORK/results.md"
{
echo "| model | fastText analogy acc | textclf analogy acc | Δ (points) | fastText time (s) | textclf time (s) | time ratio |"
echo "|---|---|---|---|---|---|---|"
} > "$OUT"
for model in skipgram cbow; do
  fa="" ta="" ft_t="" tc_t=""
  for r in $(seq 1 "$RUNS"); do
    ft_t+=" $(secs "$FT" "$model" -input "$corpus" -output "$WORK/ft-$model" -minn 3 -maxn 6 -thread $THREADS -seed "$r" -verbose 0)"
    fa+=" $(acc "$WORK/ft-$model.vec")"
    tc_t+=" $(secs "$BIN" word2vec --model "$model" --corpus "$corpus" --output "$WORK/tc-$model.bin" --segment whitespace --minn 3 --maxn 6 --threads $THREADS --seed "$r")"
    ta+=" $(acc "$WORK/tc-$model.vec")"
    rm -f "$WORK"/*.bin
    echo "$model run $r: fastText ${ft_t##* }s ${fa##* }, textclf ${tc_t##* }s ${ta##* }" >&2
  done
  fm=$(echo "$fa" | mean) tm=$(echo "$ta" | mean)
  fmed=$(echo "$ft_t" | median) tmed=$(echo "$tc_t" | median)
  echo "| $model | $fm ($fa ) | $tm ($ta ) | $(awk -v a="$tm" -v b="$fm" 'BEGIN{printf "%+.2f", 100*(a-b)}') | $fmed ($ft_t ) | $tmed ($tc_t ) | $(awk -v a="$tmed" -v b="$fmed" 'BEGIN{printf "%.2f×", a/b}') |" >> "$OUT"
done
cat "$OUT"
