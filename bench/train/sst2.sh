#!/usr/bin/env bash
# SST-2 accuracy and training-time run: textclf vs the PyTorch reference, from
# the same random initial BERT and the same hyper-parameters, batches and inputs.
#
#   bench/train/sst2.sh [--train-size N] [--epochs E] [--dropout P] [--seed S] [--data-dir DIR] [--out DIR]
#
# Defaults: the first 12000 rows of SST-2 train, 1 epoch, dropout 0, batch 32,
# lr 1e-4, max length 64, warmup ratio 0.1, weight decay 0.01, clipping 1.0,
# training seed 42 (with --no-shuffle it only draws the dropout masks; the
# initial weights always come from seed 42), 2 threads on both sides.
# Evaluates on all of SST-2 dev (872 rows).
# Everything goes to --out (default bench/train/out/, gitignored); the summary is
# printed and written to OUT/summary.json. Needs Go and Debian's python3-torch
# (/usr/bin/python3). See BENCHMARKS.md, "Fine-tuning on SST-2".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/out
train_size=12000
epochs=1
dropout=0
data_dir=$root/../shared/datasets/sst2
batch=32 lr=1e-4 maxlen=64 warmup=0.1 wd=0.01 seed=42 threads=2

while [ $# -gt 0 ]; do
  case $1 in
    --train-size) train_size=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --dropout) dropout=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --out) out=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "sst2.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
"$py" -c 'import torch' 2>/dev/null || { echo "sst2.sh: $py has no torch (apt-get install -y python3-torch)" >&2; exit 1; }
[ -f "$data_dir/train.tsv" ] && [ -f "$data_dir/dev.tsv" ] || { echo "sst2.sh: no train.tsv/dev.tsv in $data_dir" >&2; exit 1; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }

rm -rf "$out/textclf" "$out/torch" "$out/data" "$out/bin"
mkdir -p "$out/data"
echo "== build textclf"
(cd "$root" && CGO_ENABLED=0 go build -o "$out/bin/textclf" ./cmd/textclf)

echo "== data: first $train_size rows of $data_dir/train.tsv, all of dev.tsv"
head -n $((train_size + 1)) "$data_dir/train.tsv" > "$out/data/train.tsv"
cp "$data_dir/dev.tsv" "$out/data/dev.tsv"

echo "== random initial checkpoint"
"$py" "$here/init.py" "$out/init" "$root/testdata/tokenizer/bert-base-uncased/tokenizer.json" \
  --seed 42 --dropout "$dropout"

common=(--epochs "$epochs" --batch-size "$batch" --lr "$lr" --max-length "$maxlen" --warmup-ratio "$warmup"
        --weight-decay "$wd" --dropout "$dropout" --max-grad-norm 1 --seed "$seed" --threads "$threads")

echo "== textclf train ($(date -u +%FT%TZ), load $(load))"
load_tc0=$(load)
t0=$(now)
"$out/bin/textclf" train --model "$out/init" --train "$out/data/train.tsv" --eval "$out/data/dev.tsv" \
  --output "$out/textclf" --no-shuffle --logging-steps 25 "${common[@]}" 2> "$out/textclf_train.log"
t1=$(now)
load_tc1=$(load)
tail -c 300 "$out/textclf_train.log" | tr '\r' '\n' | tail -n 2
"$out/bin/textclf" eval --model "$out/textclf" --data "$out/data/dev.tsv" --max-length "$maxlen" --threads "$threads" \
  --format json > "$out/textclf_eval.json"

echo "== PyTorch train ($(date -u +%FT%TZ), load $(load))"
load_pt0=$(load)
t2=$(now)
# OMP_WAIT_POLICY=PASSIVE: without it PyTorch's OpenMP threads and OpenBLAS's
# pthreads spin against each other and the other jobs on this 2-core machine,
# and a training step is several times slower (see BENCHMARKS.md).
OMP_WAIT_POLICY=PASSIVE "$py" "$here/torch_train.py" --init "$out/init" --train "$out/data/train.tsv" \
  --eval "$out/data/dev.tsv" --textclf "$out/bin/textclf" --out "$out/torch" --compare "$out/textclf" "${common[@]}"
t3=$(now)
load_pt1=$(load)

cat > "$out/times.json" <<JSON
{"textclf_train_s": $(echo "$t1 - $t0" | bc), "torch_script_s": $(echo "$t3 - $t2" | bc),
 "load": {"textclf_start": "$load_tc0", "textclf_end": "$load_tc1", "torch_start": "$load_pt0", "torch_end": "$load_pt1"},
 "date": "$(date -u +%FT%TZ)"}
JSON
echo "== summary"
"$py" "$here/summary.py" "$out"
