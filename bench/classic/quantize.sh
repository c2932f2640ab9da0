#!/bin/bash
# Quantized models: textclf's quantize against fastText's (Debian's fasttext,
# apt-get install -y fasttext), on the splits and tokens of run.sh.
#
#   bash bench/classic/quantize.sh DATASETS_DIR [WORK_DIR] [RUNS]
#
# For each dataset and run (seeds 1…RUNS), alternating the tools: fastText
# trains (run.sh's settings) and quantizes its model; textclf trains and
# quantizes its own; and textclf quantizes fastText's .bin too, so that the
# quantizers are compared on the same dense model. Quantization uses
# fastText's tutorial settings: -qnorm -retrain -cutoff 100000 -dsub 2, the
# retraining at the training's lr and epochs. Each quantized model is scored
# on the dev split (fastText's `test` P@1 for its own .ftz, `textclf eval` for
# textclf's); the table gives mean accuracies, the .ftz sizes and the median
# wall time of the quantize command, with 2 threads.
set -euo pipefail
DATA=${1:?usage: quantize.sh DATASETS_DIR [WORK_DIR] [RUNS]}
WORK=${2:-/tmp/textclf-bench-quantize}
RUNS=${3:-3}
source "$(dirname "$0")/lib.sh"
declare -A LR=([sst2]=0.1 [thucnews]=0.5) EPOCH=([sst2]=5 [thucnews]=25)
size() { stat -c %s "$1"; }

OUT="$WORK/results.md"
{
echo "| dataset | fastText .bin acc | fastText .ftz acc | textclf .ftz acc (own model) | Δ (points) | textclf .ftz of fastText's .bin | Δ (points) | fastText .ftz bytes | textclf .ftz bytes | fastText quantize (s) | textclf quantize (s) | time ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$OUT"
for ds in sst2 thucnews; do
  tr="$WORK/data/$ds.train.txt" dv="$WORK/data/$ds.dev.txt"
  dense="" fq="" tq="" xq="" fs="" ts="" ft_t="" tc_t=""
  HP_FT="-lr ${LR[$ds]} -epoch ${EPOCH[$ds]} -dim 100 -wordNgrams 2 -bucket 2000000 -minCount 1 -loss softmax -thread $THREADS"
  HP_TC="--lr ${LR[$ds]} --epochs ${EPOCH[$ds]} --dim 100 --word-ngrams 2 --bucket 2000000 --min-count 1 --loss softmax --threads $THREADS"
  Q_FT="-qnorm -retrain -cutoff 100000 -dsub 2 -lr ${LR[$ds]} -epoch ${EPOCH[$ds]} -thread $THREADS"
  Q_TC="--qnorm --retrain --cutoff 100000 --dsub 2 --lr ${LR[$ds]} --epochs ${EPOCH[$ds]} --threads $THREADS"
  for r in $(seq 1 "$RUNS"); do
    "$FT" supervised -input "$tr" -output "$WORK/ft-$ds" $HP_FT -seed "$r" -verbose 0
    dense+=" $("$FT" test "$WORK/ft-$ds.bin" "$dv" | awk '/^P@1/{print $2}')"
    cp "$WORK/ft-$ds.bin" "$WORK/ftcopy-$ds.bin"
    ft_t+=" $(secs "$FT" quantize -input "$tr" -output "$WORK/ft-$ds" $Q_FT -verbose 0)"
    fq+=" $("$FT" test "$WORK/ft-$ds.ftz" "$dv" | awk '/^P@1/{print $2}')"
    fs="$(size "$WORK/ft-$ds.ftz")"
    "$BIN" train --arch fasttext --train "$tr" --output "$WORK/tc-$ds" $HP_TC --segment whitespace --seed "$r" 2>/dev/null
    tc_t+=" $(secs "$BIN" quantize --model "$WORK/tc-$ds" --output "$WORK/tc-$ds.ftz" --train "$tr" $Q_TC --seed "$r")"
    tq+=" $(tc_acc "$WORK/tc-$ds.ftz" "$dv")"
    ts="$(size "$WORK/tc-$ds.ftz")"
    "$BIN" quantize --model "$WORK/ftcopy-$ds.bin" --output "$WORK/x-$ds.ftz" --train "$tr" $Q_TC --seed "$r" 2>/dev/null
    xq+=" $(tc_acc "$WORK/x-$ds.ftz" "$dv")"
    echo "$ds run $r: fastText .ftz ${fq##* } (${ft_t##* }s, $fs B), textclf .ftz ${tq##* } (${tc_t##* }s, $ts B), textclf on fastText's .bin ${xq##* }" >&2
  done
  da=$(echo "$dense" | mean) fa=$(echo "$fq" | mean) ta=$(echo "$tq" | mean) xa=$(echo "$xq" | mean)
  fm=$(echo "$ft_t" | median) tm=$(echo "$tc_t" | median)
  d() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.2f", 100*(a-b)}'; }
  echo "| $ds | $da | $fa ($fq ) | $ta ($tq ) | $(d "$ta" "$fa") | $xa ($xq ) | $(d "$xa" "$fa") | $fs | $ts | $fm ($ft_t ) | $tm ($tc_t ) | $(awk -v a="$tm" -v b="$fm" 'BEGIN{printf "%.2f×", a/b}') |" >> "$OUT"
done
cat "$OUT"
