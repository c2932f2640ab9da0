#!/usr/bin/env bash
# Does distillation pay? A fastText-style student trained on a teacher's soft
# targets (textclf distill) against the same student on the hard labels
# (textclf train), same data, same hyper-parameters, seeds 1..RUNS, the two
# alternating. Teachers: the built-in models (BiLSTM for SST-2, TextCNN for
# waimai), whose logits are computed once and cached.
#
#   bash bench/distill/run.sh DATASETS_DIR [WORK_DIR] [RUNS]
#
# The data files are scripts/builtin/prep.py's (SST-2 train/dev; waimai 90/10).
# Student: dim 100, word bigrams, 200,000 buckets, softmax; SST-2 lr 0.1,
# 5 epochs; waimai lr 0.5, 25 epochs (as bench/classic/run.sh). Distillation:
# KL at T=2 with alpha 0.5 (the defaults), alpha 1 (soft targets only), MSE
# on logits with alpha 1, and for SST-2 KL alpha 0.5 with the 1,821 SST-2
# test sentences as unlabelled texts (--unlabeled; their labels unused).
set -euo pipefail
DATA=${1:?usage: run.sh DATASETS_DIR [WORK_DIR] [RUNS]}
WORK=${2:-/tmp/textclf-bench-distill}
RUNS=${3:-3}
cd "$(dirname "$0")/../.."
mkdir -p "$WORK"
python3 scripts/builtin/prep.py "$DATA" "$WORK/data"
tail -n +2 "$DATA/sst2/test.tsv" | cut -f2 > "$WORK/data/sst2-test.txt"
go build -o "$WORK/textclf" ./cmd/textclf
T="$WORK/textclf" D="$WORK/data"
export TEXTCLF_BUILTIN_CACHE="$WORK/cache"
acc() { "$T" eval --model "$1" --data "$2" --format json 2>/dev/null | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["accuracy"])'; }
declare -A LR=([en]=0.1 [zh]=0.5) EPOCH=([en]=5 [zh]=25) LOWER=([en]=--lower [zh]=)
echo "| data | teacher dev acc | variant | student dev acc per seed | mean |"
echo "|---|---|---|---|---|"
for lang in en zh; do
	name=sentiment-$lang tr="$D/sentiment-$lang.train.tsv" dv="$D/sentiment-$lang.dev.tsv"
	hp=(--dim 100 --word-ngrams 2 --bucket 200000 --loss softmax --lr "${LR[$lang]}" --epochs "${EPOCH[$lang]}" ${LOWER[$lang]} --threads 2)
	tacc=$(acc "builtin:$name" "$dv")
	declare -A res=()
	variants=(hard "kl a0.5" "kl a1" "mse a1")
	[ "$lang" = en ] && variants+=("kl a0.5 +unlabeled")
	for r in $(seq 1 "$RUNS"); do
		for v in "${variants[@]}"; do
			out="$WORK/$lang-${v// /_}-$r"
			case "$v" in
			hard) "$T" train --arch fasttext "${hp[@]}" --seed "$r" --train "$tr" --output "$out" 2>/dev/null ;;
			"kl a0.5") "$T" distill --teacher "builtin:$name" --teacher-cache "$WORK/$lang.logits" --alpha 0.5 "${hp[@]}" --seed "$r" --train "$tr" --output "$out" 2>/dev/null ;;
			"mse a1") "$T" distill --teacher "builtin:$name" --teacher-cache "$WORK/$lang.logits" --distill-loss mse --alpha 1 "${hp[@]}" --seed "$r" --train "$tr" --output "$out" 2>/dev/null ;;
			"kl a1") "$T" distill --teacher "builtin:$name" --teacher-cache "$WORK/$lang.logits" --alpha 1 "${hp[@]}" --seed "$r" --train "$tr" --output "$out" 2>/dev/null ;;
			"kl a0.5 +unlabeled") "$T" distill --teacher "builtin:$name" --teacher-cache "$WORK/$lang-unl.logits" --alpha 0.5 --unlabeled "$D/sst2-test.txt" "${hp[@]}" --seed "$r" --train "$tr" --output "$out" 2>/dev/null ;;
			esac
			res[$v]+=" $(acc "$out" "$dv")"
			rm -rf "$out"
			echo "$lang run $r $v:${res[$v]}" >&2
		done
	done
	for v in "${variants[@]}"; do
		mean=$(echo "${res[$v]}" | tr ' ' '\n' | awk 'NF{s+=$1;n++} END{printf "%.4f", s/n}')
		echo "| $name | $tacc | $v | ${res[$v]# } | $mean |"
	done
	unset res
done
