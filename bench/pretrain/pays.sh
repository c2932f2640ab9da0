#!/usr/bin/env bash
# "Pretraining pays": the same encoder (bert-tiny, the bert-base-uncased
# tokenizer) fine-tuned on SST-2 from random weights and from an MLM
# pretraining on the SST-2 training sentences (no labels; dev untouched).
# Usage, from the repository root (BIN: a textclf binary, OUT: a work dir):
#
#   bench/pretrain/pays.sh BIN OUT [PRETRAIN_STEPS]     # default 2000 steps
#
# The pretraining step count is what a 2-core machine allows in an hour;
# the fine-tuning runs are identical but for --config vs --model.
set -euo pipefail
bin=$1 out=$2 steps=${3:-2000}
data=../shared/datasets/sst2 tok=../shared/tokenizers/bert-base-uncased
mkdir -p "$out"
tail -n +2 "$data/train.tsv" | cut -f2 > "$out/sst2_train_sentences.txt"
"$bin" pretrain --corpus "$out/sst2_train_sentences.txt" --config bert-tiny --tokenizer "$tok" --output "$out/mlm" \
	--max-length 64 --batch-size 32 --max-steps "$steps" --lr 5e-4 --lr-scheduler constant --warmup-steps 300 \
	--save-steps 250 --eval-steps 250 --validation-split 0.01 --logging-steps 50 --threads 1 --seed 1
ft() { # ft NAME MODEL-FLAGS...
	local name=$1; shift
	"$bin" train "$@" --train "$data/train.tsv" --eval "$data/dev.tsv" --output "$out/$name" --max-length 64 \
		--batch-size 32 --epochs 2 --lr 2e-4 --warmup-ratio 0.06 --eval-steps 1000 --threads 1 --seed 1
}
ft ft-random --config bert-tiny --tokenizer "$tok"
ft ft-pretrained --model "$out/mlm"
grep -h '"eval"' "$out"/ft-*/metrics.jsonl
