#!/bin/bash
# run_bf16_train.sh: a mixed-precision (bf16) training step against float32 and against PyTorch, in one run:
# textclf f32 (`textclf bench --train`), textclf bf16 (`--train --dtype bf16`: train --bf16's step), PyTorch FP32
# and PyTorch bf16 autocast (torch_bench.py bench --train [--autocast-bf16]), alternated REPEATS times.
#
# Usage: bench/model/run_bf16_train.sh [CONFIG BATCH SEQ]     (default: minilm 8 128)
# PyTorch runs with OMP_WAIT_POLICY=PASSIVE and without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (its best here).
# Knobs (environment): MIN_SECONDS (5), MIN_ITERS (2), WINDOWS (2), REPEATS (2), THREADS (2).
# Prints one JSON line per measurement, then the median ms per step of each and the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cfg=${1:-minilm} b=${2:-8} t=${3:-128}
MIN_SECONDS=${MIN_SECONDS:-5} MIN_ITERS=${MIN_ITERS:-2} WINDOWS=${WINDOWS:-2} REPEATS=${REPEATS:-2} THREADS=${THREADS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/textclf" ./cmd/textclf)
torch_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS"
	OMP_WAIT_POLICY=PASSIVE)
echo "load before: $(uptime)" >&2
for ((r = 0; r < REPEATS; r++)); do
	for d in f32 bf16; do
		for ((w = 0; w < WINDOWS; w++)); do
			line=$("$tmp/textclf" bench --config "$cfg" --batch "$b" --seq "$t" --train --dtype "$d" --threads "$THREADS" \
				--iterations "$MIN_ITERS" --min-seconds "$MIN_SECONDS")
			echo "{\"impl\":\"textclf-$d\",${line#\{}" | tee -a "$tmp/results.jsonl"
		done
	done
	for flag in "" --autocast-bf16; do
		"${torch_env[@]}" /usr/bin/python3 -W ignore "$here/torch_bench.py" bench --config "$cfg" --batch "$b" --seq "$t" \
			--train --threads "$THREADS" --min-seconds "$MIN_SECONDS" --min-iterations "$MIN_ITERS" --windows "$WINDOWS" \
			$flag 2>/dev/null | tee -a "$tmp/results.jsonl"
	done
done
echo "load after: $(uptime)" >&2
/usr/bin/python3 - "$tmp/results.jsonl" <<'PY'
import json, statistics, sys
w = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    w.setdefault(r["impl"], []).extend(r.get("windows_ms") or [r["ms_per_batch"]])
ms = {k: statistics.median(v) for k, v in w.items()}
print(json.dumps({"ms_per_step": ms, "windows": {k: len(v) for k, v in w.items()}}))
for a, c in [("textclf-bf16", "textclf-f32"), ("textclf-bf16", "pytorch"), ("textclf-bf16", "pytorch-bf16-autocast"),
             ("textclf-f32", "pytorch")]:
    if a in ms and c in ms:
        print("%s / %s (speed): %.2fx" % (a, c, ms[c] / ms[a]))
PY
