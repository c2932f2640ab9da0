#!/usr/bin/env bash
# Does distillation pay for a transformer student? A bert-tiny-shaped
# student (2 layers, 128 hidden, random init, the bert-base-uncased
# tokenizer) distilled from the built-in SST-2 BiLSTM (textclf distill
# --arch transformer, KL at T=2 with alpha 0.5 and alpha 1) against the same
# student on the hard labels (textclf train): same data, hyper-parameters
# and seed; for each seed the three runs go side by side (--threads 1 each).
#
#   bash bench/distill/transformer.sh DATASETS_DIR TOKENIZER_DIR [WORK_DIR] [EPOCHS] [SEEDS]
#
# The data files are scripts/builtin/prep.py's (SST-2 train/dev with the
# labels NEGATIVE/POSITIVE). Student: max length 64, batch 32, AdamW 2e-4,
# 6 % warmup, linear decay, dev accuracy every 500 steps; the table gives the
# best. The teacher's logits are computed once and cached in WORK_DIR.
set -euo pipefail
usage="usage: transformer.sh DATASETS_DIR TOKENIZER_DIR [WORK_DIR] [EPOCHS] [SEEDS]"
DATA=${1:?$usage} TOK=${2:?$usage}
WORK=${3:-/tmp/textclf-bench-distill-transformer}
EPOCHS=${4:-2} SEEDS=${5:-"1 2 3"}
cd "$(dirname "$0")/../.."
mkdir -p "$WORK"
python3 scripts/builtin/prep.py "$DATA" "$WORK/data"
go build -o "$WORK/textclf" ./cmd/textclf
T="$WORK/textclf" D="$WORK/data"
export TEXTCLF_BUILTIN_CACHE="$WORK/cache"
hp=(--config bert-tiny --tokenizer "$TOK" --train "$D/sentiment-en.train.tsv" --eval "$D/sentiment-en.dev.tsv"
	--max-length 64 --batch-size 32 --epochs "$EPOCHS" --lr 2e-4 --warmup-ratio 0.06 --eval-steps 500
	--logging-steps 50 --threads 1)
kd=(distill --teacher builtin:sentiment-en --arch transformer --temperature 2 --teacher-cache "$WORK/sst2.teacher-logits")
"$T" eval --model builtin:sentiment-en --data "$D/sentiment-en.dev.tsv" --format json 2>/dev/null |
	python3 -c 'import json,sys; print("teacher dev accuracy %.4f" % json.load(sys.stdin)["accuracy"])'
# The teacher's logits, once, before the runs that share them.
"$T" "${kd[@]}" --alpha 1 "${hp[@]}" --max-steps 1 --seed 1 --output "$WORK/cache-only" > "$WORK/cache-only.log" 2>&1
best() { # best RUN: the dev accuracies of RUN and the best
	grep -h '"eval"' "$WORK/$1/metrics.jsonl" | python3 -c '
import json, sys
evals = [json.loads(l) for l in sys.stdin]
print(" ".join("%.4f" % e["eval"]["accuracy"] for e in evals), "| best %.4f" % max(e["eval"]["accuracy"] for e in evals))'
}
for seed in $SEEDS; do
	"$T" train "${hp[@]}" --seed "$seed" --output "$WORK/hard-$seed" > "$WORK/hard-$seed.log" 2>&1 &
	"$T" "${kd[@]}" --alpha 0.5 "${hp[@]}" --seed "$seed" --output "$WORK/kl-a0.5-$seed" > "$WORK/kl-a0.5-$seed.log" 2>&1 &
	"$T" "${kd[@]}" --alpha 1 "${hp[@]}" --seed "$seed" --output "$WORK/kl-a1-$seed" > "$WORK/kl-a1-$seed.log" 2>&1 &
	wait
	for run in hard kl-a0.5 kl-a1; do
		echo "seed $seed $run: $(best "$run-$seed")   (load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC)"
	done
done
