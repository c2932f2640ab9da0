#!/bin/bash
# run_arch.sh: the decoders' and ModernBERT's speed, textclf vs ONNX Runtime 1.30, 2 threads, in one run,
# and ModernBERT's peak memory on 8,192 tokens.
#
# Usage (from anywhere):  bench/model/run_arch.sh
#
# Shapes (issue 16): GPT-2 small 8x128, ModernBERT-base 1x2048, a Qwen2-0.5B-shaped classifier 1x256, on random
# token ids and random weights of the presets of `textclf bench --config` (model/bench.go):
#   - textclf: `textclf bench --config NAME` (binary built once), --threads 2;
#   - ORT:     bench/model/ort_bench.js on torch.onnx.export of scripts/model/reference_decoders.py with the same
#              config (bench/model/arch_export.py; `textclf bench --save-config` writes it), intraOpNumThreads 2,
#              once with the session's spinning threads and once with allow_spinning=0 (the faster counts).
# The machine is shared: each round runs every shape once per implementation back to back (textclf, ORT, ORT
# without spinning), ROUNDS rounds; each measurement is one window of >= MIN_SECONDS and >= MIN_ITERS runs after a
# warm-up (ORT: two). The report gives, per shape, the median over rounds of each implementation and of the
# per-round ratio textclf/ORT (paired, so that load changes between rounds cancel), with the range of the ratios,
# and each process's peak resident memory (/usr/bin/time %M: the weights, the activations and the runtime).
# Then ModernBERT-base 1x8192: textclf's peak resident memory (/usr/bin/time %M), against the 4 bytes x heads x T²
# of one layer's attention scores in full attention.
#
# Knobs (environment): ROUNDS (5), MIN_SECONDS (5), MIN_ITERS (1), THREADS (2), CASES (all three), MEMORY (1: run
# the 8,192-token measurement). Results: bench/model/out/arch-results.jsonl and out/arch-table.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/out
ROUNDS=${ROUNDS:-5}
MIN_SECONDS=${MIN_SECONDS:-5}
MIN_ITERS=${MIN_ITERS:-1}
THREADS=${THREADS:-2}
MEMORY=${MEMORY:-1}
CASES=${CASES:-"gpt2:8:128 modernbert-base:1:2048 qwen2-0.5b:1:256"}
PY=/usr/bin/python3
log() { echo "== $*" >&2; }

if ! "$PY" -c 'import torch' 2>/dev/null; then
	apt-get install -y python3-torch >/dev/null
fi
if [ ! -e "$here/node_modules/onnxruntime-node/package.json" ]; then
	(cd "$here" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi
mkdir -p "$out"
log "go build"
(cd "$root" && CGO_ENABLED=0 go build -o "$out/textclf.tmp" ./cmd/textclf && mv "$out/textclf.tmp" "$out/textclf")

# Export each preset whose ONNX file is missing or older than the reference or the exporter.
for c in $CASES; do
	name=${c%%:*}
	"$out/textclf" bench --config "$name" --save-config "$out/$name.config.json.new"
	if [ ! -e "$out/$name.onnx" ] || ! cmp -s "$out/$name.config.json.new" "$out/$name.config.json" ||
		[ "$root/scripts/model/reference_decoders.py" -nt "$out/$name.onnx" ] || [ "$here/arch_export.py" -nt "$out/$name.onnx" ]; then
		mv "$out/$name.config.json.new" "$out/$name.config.json"
		log "torch.onnx.export $name"
		"$PY" -W ignore "$here/arch_export.py" "$out" "$name" "$out/$name.config.json"
	else
		rm "$out/$name.config.json.new"
	fi
done

results=$out/arch-results.jsonl
: >"$results"
load_before=$(uptime)
for ((r = 1; r <= ROUNDS; r++)); do
	for c in $CASES; do
		IFS=: read -r name b t <<<"$c"
		log "round $r: $name ${b}x${t}"
		line=$(/usr/bin/time -f '%M' -o "$out/rss.txt" "$out/textclf" bench --config "$name" --batch "$b" --seq "$t" \
			--threads "$THREADS" --iterations "$MIN_ITERS" --min-seconds "$MIN_SECONDS")
		echo "{\"impl\":\"textclf\",\"round\":$r,\"max_rss_kb\":$(cat "$out/rss.txt"),\"config\":\"$name\",${line#\{}" | tee -a "$results" >&2
		for spin in 1 0; do
			impl=ort
			[ "$spin" = 0 ] && impl=ort-nospin
			line=$(ORT_BENCH_NO_SPIN=$((1 - spin)) /usr/bin/time -f '%M' -o "$out/rss.txt" node "$here/ort_bench.js" "$out" \
				--config "$name" --batch "$b" --seq "$t" --threads "$THREADS" --min-seconds "$MIN_SECONDS" \
				--min-iterations "$MIN_ITERS" --windows 1)
			echo "{\"impl\":\"$impl\",\"round\":$r,\"max_rss_kb\":$(cat "$out/rss.txt"),${line#\{\"impl\":\"ort\",}" | tee -a "$results" >&2
		done
	done
done
load_after=$(uptime)

if [ "$MEMORY" = 1 ]; then
	log "ModernBERT-base 1x8192: peak memory"
	/usr/bin/time -f '%M' -o "$out/mem8192.txt" "$out/textclf" bench --config modernbert-base --batch 1 --seq 8192 \
		--threads "$THREADS" --iterations 1 --min-seconds 0 >"$out/mem8192.json"
	echo "{\"impl\":\"textclf-memory\",\"config\":\"modernbert-base\",\"seq\":8192,\"max_rss_kb\":$(cat "$out/mem8192.txt"),\"bench\":$(cat "$out/mem8192.json")}" >>"$results"
fi

{
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), AVX-512: $(grep -qm1 avx512f /proc/cpuinfo && echo yes || echo no)), $THREADS threads, $ROUNDS rounds."
	echo "Load before: ${load_before#*load average: }; after: ${load_after#*load average: }."
	echo
	"$PY" "$here/arch_report.py" "$results"
} >"$out/arch-table.md.tmp"
mv "$out/arch-table.md.tmp" "$out/arch-table.md"
cat "$out/arch-table.md"
