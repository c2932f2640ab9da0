#!/usr/bin/env bash
# Pretraining throughput: textclf (BenchmarkPretrainStep) against PyTorch
# (torch_mlm_step.py: BertForMaskedLM as transformers runs it, and with the head
# on the masked rows only, as textclf runs it) on the same shape, interleaved,
# REPEAT times each, with
# the load average before and after. From the repository root:
#
#   bench/pretrain/run.sh [PRESET] [BATCH] [SEQ] [STEPS] [REPEAT]     # default bert-mini 32 128 10 3
set -euo pipefail
cd "$(dirname "$0")/../.."
preset=${1:-bert-mini} batch=${2:-32} seq=${3:-128} steps=${4:-10} repeat=${5:-3}
echo "commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
go test -c -o /tmp/textclf-train.test ./train
for i in $(seq "$repeat"); do
	TEXTCLF_BENCH_PRESET=$preset TEXTCLF_BENCH_BATCH=$batch TEXTCLF_BENCH_SEQ=$seq \
		/tmp/textclf-train.test -test.run - -test.bench PretrainStep -test.benchtime "${steps}x" | grep tokens/s
	for variant in "" --masked-only; do
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE \
			/usr/bin/python3 bench/pretrain/torch_mlm_step.py --preset "$preset" --batch "$batch" --seq "$seq" --steps "$steps" --threads 2 $variant
	done
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
