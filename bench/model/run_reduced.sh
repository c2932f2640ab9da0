#!/bin/bash
# run_reduced.sh (named run_int8.sh before it measured bf16 too): int8 and bf16 inference, textclf vs ONNX Runtime FP32 vs PyTorch's quantize_dynamic, on 2 threads,
# in one run; then the resident memory of an FP32, an int8 and a bf16 BERT-base process.
#
# Usage (from anywhere):  bench/model/run_reduced.sh      (run.sh's prerequisites: go, node/npm, python3-torch)
#
# Speed: BERT-base 8x128 and 1x16, MiniLM 32x128, random token ids and random weights of the same shape
# (model/bench.go PresetConfig). On each shape, back to back, REPEATS times over:
#   - textclf f32, int8 and bf16: `textclf bench --dtype f32|int8|bf16 --threads 2` (one line per window;
#     DTYPES="f32 int8 bf16" by default);
#   - ORT FP32:  bench/model/ort_bench.js (the ONNX export of run.sh, session defaults, 2 intra-op threads);
#   - PyTorch int8: torch_bench.py bench --quantize-dynamic onednn (torch.quantization.quantize_dynamic,
#     {nn.Linear}, qint8; Debian's torch 1.13 has the onednn and qnnpack engines, not fbgemm);
#   - PyTorch FP32: torch_bench.py bench.
# PyTorch runs with OMP_WAIT_POLICY=PASSIVE and without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (its best here).
# ONNX Runtime's own dynamic int8 (onnxruntime.quantization.quantize_dynamic) needs the python onnxruntime
# package, which is not installed here (npm's onnxruntime-node only runs models): not measured.
# Every measurement is WINDOWS windows of >= MIN_SECONDS s and >= MIN_ITERS steps after a warm-up; the value of
# an implementation is the median of all its windows. Results: bench/model/out/reduced-results.jsonl and
# out/reduced-table.md (also printed).
#
# Memory: /usr/bin/time -f %M (maximum resident set, KiB) of `textclf bench --model DIR --batch 8 --seq 128
# --iterations 1 --min-seconds 0` on a random BERT-base directory (written by torch_bench.py save), FP32, the
# same with --dtype int8 (quantized on load), its int8 directory (textclf quantize), the same with --dtype bf16, and
# its bf16 directory (textclf quantize --dtype bf16) with --dtype bf16 and with --dtype f32.
#
# Knobs (environment): MIN_SECONDS (5), MIN_ITERS (3), WINDOWS (3), REPEATS (2), THREADS (2), STEP_TIMEOUT (900),
# DTYPES ("f32 int8 bf16"), REFERENCES (1; 0 skips ORT and PyTorch), MEMORY (1; 0 skips the memory runs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/out
MIN_SECONDS=${MIN_SECONDS:-5}
MIN_ITERS=${MIN_ITERS:-3}
WINDOWS=${WINDOWS:-3}
REPEATS=${REPEATS:-2}
THREADS=${THREADS:-2}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
DTYPES=${DTYPES:-f32 int8 bf16}
REFERENCES=${REFERENCES:-1}
MEMORY=${MEMORY:-1}
PY=/usr/bin/python3
start=$SECONDS
log() { echo "== $*" >&2; }

mkdir -p "$out"
results=$out/reduced-results.jsonl.tmp
: >"$results"
load_before=$(uptime)
log "load before: $load_before"
(cd "$root" && CGO_ENABLED=0 go build -o "$out/textclf.tmp" ./cmd/textclf && mv "$out/textclf.tmp" "$out/textclf")
for f in bert-base.onnx minilm.onnx; do
	if [ ! -e "$out/$f" ]; then
		log "torch.onnx.export of the reference model (bert-base, minilm)"
		"$PY" -W ignore "$here/torch_bench.py" export "$out"
		break
	fi
done
if [ ! -e "$here/node_modules/onnxruntime-node/package.json" ]; then
	(cd "$here" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi

torch_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS"
	OMP_WAIT_POLICY=PASSIVE)
cases=("bert-base 8 128" "bert-base 1 16" "minilm 32 128")
for ((r = 0; r < REPEATS; r++)); do
	for c in "${cases[@]}"; do
		read -r cfg b t <<<"$c"
		for dtype in $DTYPES; do
			log "repeat $r, $cfg ${b}x${t}: textclf $dtype"
			for ((w = 0; w < WINDOWS; w++)); do
				line=$(timeout "$STEP_TIMEOUT" "$out/textclf" bench --config "$cfg" --batch "$b" --seq "$t" --dtype "$dtype" \
					--threads "$THREADS" --iterations "$MIN_ITERS" --min-seconds "$MIN_SECONDS") || { log "failed"; continue; }
				echo "{\"impl\":\"textclf-$dtype\",\"config\":\"$cfg\",${line#\{}" | tee -a "$results" >&2
			done
		done
		[ "$REFERENCES" = 1 ] || continue
		log "repeat $r, $cfg ${b}x${t}: ort"
		if line=$(timeout "$STEP_TIMEOUT" node "$here/ort_bench.js" "$out" --config "$cfg" --batch "$b" --seq "$t" \
			--threads "$THREADS" --min-seconds "$MIN_SECONDS" --min-iterations "$MIN_ITERS" --windows "$WINDOWS"); then
			echo "$line" | tee -a "$results" >&2
		fi
		for q in onednn ""; do
			log "repeat $r, $cfg ${b}x${t}: pytorch ${q:-fp32}"
			qflag=()
			[ -n "$q" ] && qflag=(--quantize-dynamic "$q")
			if line=$("${torch_env[@]}" timeout "$STEP_TIMEOUT" "$PY" -W ignore "$here/torch_bench.py" bench --config "$cfg" \
				--batch "$b" --seq "$t" --threads "$THREADS" --min-seconds "$MIN_SECONDS" --min-iterations "$MIN_ITERS" \
				--windows "$WINDOWS" "${qflag[@]}" 2>/dev/null); then
				echo "$line" | tee -a "$results" >&2
			fi
		done
	done
done

# --- memory --------------------------------------------------------------------------------------------
mem=$out/reduced-memory.txt
: >"$mem.tmp"
if [ "$MEMORY" = 1 ]; then
if [ ! -e "$out/bert-base-dir/model.safetensors" ]; then
	log "random BERT-base directory"
	"$PY" -W ignore "$here/torch_bench.py" save --config bert-base "$out/bert-base-dir"
fi
rm -rf "$out/bert-base-int8" "$out/bert-base-bf16"
"$out/textclf" quantize --model "$out/bert-base-dir" --output "$out/bert-base-int8"
"$out/textclf" quantize --model "$out/bert-base-dir" --dtype bf16 --output "$out/bert-base-bf16"
for run in "f32 $out/bert-base-dir f32" "f32-dir-dtype-int8 $out/bert-base-dir int8" "int8-dir $out/bert-base-int8 f32" \
	"f32-dir-dtype-bf16 $out/bert-base-dir bf16" "bf16-dir $out/bert-base-bf16 bf16" "bf16-dir-dtype-f32 $out/bert-base-bf16 f32"; do
	read -r name dir dtype <<<"$run"
	for ((r = 0; r < REPEATS; r++)); do
		kib=$( { /usr/bin/time -f %M "$out/textclf" bench --model "$dir" --dtype "$dtype" --batch 8 --seq 128 \
			--threads "$THREADS" --iterations 1 --min-seconds 0 >/dev/null; } 2>&1 | tail -1)
		echo "$name $kib" | tee -a "$mem.tmp" >&2
	done
done
fi
mv "$mem.tmp" "$mem"
[ "$MEMORY" = 1 ] && du -b "$out/bert-base-dir/model.safetensors" "$out/bert-base-int8/model.safetensors" \
	"$out/bert-base-bf16/model.safetensors" >>"$mem"

load_after=$(uptime)
log "load after: $load_after"
mv "$results" "$out/reduced-results.jsonl"
{
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | tr -d ' '); avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no), avx512_vnni: $(grep -qw avx512_vnni /proc/cpuinfo && echo yes || echo no), avx_vnni: $(grep -qw avx_vnni /proc/cpuinfo && echo yes || echo no)), $THREADS threads, $REPEATS repeats of ${WINDOWS} window(s) of >= ${MIN_SECONDS} s and >= ${MIN_ITERS} steps, median window."
	echo "Load before: ${load_before#*load average: }; after: ${load_after#*load average: }; took $((SECONDS - start)) s."
	echo
	"$PY" "$here/reduced_report.py" "$out/reduced-results.jsonl" "$mem"
} >"$out/reduced-table.md.tmp"
mv "$out/reduced-table.md.tmp" "$out/reduced-table.md"
cat "$out/reduced-table.md"
