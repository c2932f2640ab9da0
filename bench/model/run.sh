#!/bin/bash
# run.sh: transformer speed, textclf vs ONNX Runtime 1.30 vs PyTorch 1.13, on 2 threads, in one run.
#
# Usage (from anywhere):  bench/model/run.sh
#
# Measures, on random token ids and random weights of the same BERT shape (model/bench.go PresetConfig),
# BERT-base 8x128 and 1x16, MiniLM 32x128 (inference) and a BERT-base 8x128 training step (forward,
# cross-entropy, backward, AdamW; textclf and PyTorch only):
#   - textclf:   `textclf bench` (binary built once with go build), --threads 2;
#   - ORT:       bench/model/ort_bench.js on ONNX exports of scripts/model/reference.py made with
#                torch.onnx.export (bench/model/torch_bench.py export), intraOpNumThreads 2, interOpNumThreads
#                1, graphOptimizationLevel 'all'; run twice, with the session's default (spinning worker
#                threads) and with intra_op.allow_spinning=0, because the machine is shared;
#   - PyTorch:   bench/model/torch_bench.py bench (the same reference model), torch.set_num_threads(2),
#                inference_mode; OMP_WAIT_POLICY=PASSIVE (faster than libgomp's spinning on this shared machine).
# The three run back to back on each shape. Every measurement is 3 windows of >= 5 s and >= 5 steps after a
# warm-up; the value is the median window. Results: bench/model/out/results.jsonl and out/table.md (the
# table is also printed). Exported models and the binary stay in bench/model/out/ (gitignored).
#
# Knobs (environment): MIN_SECONDS (5), MIN_ITERS (5), WINDOWS (3), THREADS (2), STEP_TIMEOUT (900 s for
# one measurement), MAX_TOTAL (3600 s for the whole run: later steps are skipped once it is spent).
# Needs go, node/npm and Debian's python3-torch (installed with apt-get if missing and running as root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/out
MIN_SECONDS=${MIN_SECONDS:-5}
MIN_ITERS=${MIN_ITERS:-5}
WINDOWS=${WINDOWS:-3}
THREADS=${THREADS:-2}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
MAX_TOTAL=${MAX_TOTAL:-3600}
PY=/usr/bin/python3
start=$SECONDS

log() { echo "== $*" >&2; }

# run_bounded CMD...: runs CMD with a time limit of STEP_TIMEOUT, cut to what is left of MAX_TOTAL.
run_bounded() {
	local left=$((MAX_TOTAL - (SECONDS - start)))
	if [ "$left" -le 5 ]; then
		log "skipped (MAX_TOTAL=${MAX_TOTAL}s spent): $*"
		return 1
	fi
	local limit=$((left < STEP_TIMEOUT ? left : STEP_TIMEOUT))
	timeout --kill-after=10 "$limit" "$@"
}

# --- prerequisites -----------------------------------------------------------------------------------
if ! "$PY" -c 'import torch' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		log "installing python3-torch"
		apt-get install -y python3-torch >/dev/null
	else
		echo "run.sh: $PY has no torch; install Debian's python3-torch" >&2
		exit 1
	fi
fi
if [ ! -e "$here/node_modules/onnxruntime-node/package.json" ]; then
	log "installing onnxruntime-node (package-lock.json)"
	# The variable skips the package's post-install download (no such network here); the npm package
	# itself carries libonnxruntime.so.
	(cd "$here" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi
mkdir -p "$out"
results=$out/results.jsonl.tmp
: >"$results"

load_before=$(uptime)
log "load before: $load_before"

log "go build -o $out/textclf ./cmd/textclf"
(cd "$root" && CGO_ENABLED=0 go build -o "$out/textclf.tmp" ./cmd/textclf && mv "$out/textclf.tmp" "$out/textclf")

# Re-export only when an export is missing or older than the scripts that make it.
stale=0
for f in bert-base.onnx bert-base.check.json minilm.onnx minilm.check.json; do
	if [ ! -e "$out/$f" ] || [ "$here/torch_bench.py" -nt "$out/$f" ] ||
		[ "$root/scripts/model/reference.py" -nt "$out/$f" ]; then
		stale=1
	fi
done
if [ "$stale" = 1 ]; then
	log "torch.onnx.export of the reference model (bert-base, minilm)"
	run_bounded "$PY" -W ignore "$here/torch_bench.py" export "$out"
fi

# --- measurements ------------------------------------------------------------------------------------
# case: config batch seq train(0/1)
cases=("bert-base 8 128 0" "bert-base 1 16 0" "minilm 32 128 0" "bert-base 8 128 1")
for c in "${cases[@]}"; do
	read -r cfg b t train <<<"$c"
	tflag=()
	[ "$train" = 1 ] && tflag=(--train)
	log "$cfg ${b}x${t}${tflag[*]:+ train}: textclf ($WINDOWS window(s))"
	for ((w = 0; w < WINDOWS; w++)); do
		if line=$(run_bounded "$out/textclf" bench --config "$cfg" --batch "$b" --seq "$t" "${tflag[@]}" \
			--threads "$THREADS" --iterations "$MIN_ITERS" --min-seconds "$MIN_SECONDS"); then
			echo "{\"impl\":\"textclf\",\"config\":\"$cfg\",${line#\{}" | tee -a "$results" >&2
		else
			log "textclf failed or timed out"
		fi
	done
	if [ "$train" = 0 ]; then
		for spin in 1 0; do
			impl=ort
			[ "$spin" = 0 ] && impl=ort-nospin
			log "$cfg ${b}x${t}: $impl"
			if line=$(ORT_BENCH_NO_SPIN=$((1 - spin)) run_bounded node "$here/ort_bench.js" "$out" --config "$cfg" \
				--batch "$b" --seq "$t" --threads "$THREADS" --min-seconds "$MIN_SECONDS" \
				--min-iterations "$MIN_ITERS" --windows "$WINDOWS"); then
				echo "{\"impl\":\"$impl\",${line#\{\"impl\":\"ort\",}" | tee -a "$results" >&2
			else
				log "$impl failed or timed out"
			fi
		done
	fi
	log "$cfg ${b}x${t}${tflag[*]:+ train}: pytorch"
	if line=$(OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE \
		run_bounded "$PY" -W ignore "$here/torch_bench.py" bench --config "$cfg" --batch "$b" --seq "$t" \
		"${tflag[@]}" --threads "$THREADS" --min-seconds "$MIN_SECONDS" --min-iterations "$MIN_ITERS" \
		--windows "$WINDOWS"); then
		echo "$line" | tee -a "$results" >&2
	else
		log "pytorch failed or timed out"
	fi
done

load_after=$(uptime)
log "load after: $load_after"
mv "$results" "$out/results.jsonl"
{
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $THREADS threads, ${WINDOWS} window(s) of >= ${MIN_SECONDS} s and >= ${MIN_ITERS} steps, median window."
	echo "Load before: ${load_before#*load average: }; after: ${load_after#*load average: }; took $((SECONDS - start)) s."
	echo
	"$PY" "$here/report.py" "$out/results.jsonl"
} >"$out/table.md.tmp"
mv "$out/table.md.tmp" "$out/table.md"
cat "$out/table.md"
