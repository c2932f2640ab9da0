#!/usr/bin/env bash
# Integrated gradients against plain forward and backward passes: explaining
# one 128-token text with 50 Gauss-Legendre steps versus 50 forward and
# backward passes of that text in batches of the same size (BERT-base and
# MiniLM shapes, random weights). The two alternate in each of COUNT rounds
# (default 3); the ratios are printed per round, by wall time and by CPU time
# (user + system of all threads, steadier on a shared machine).
#
#   bash bench/explain/run.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-3}
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) | cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | xargs) | $(nproc) threads | load $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(go test ./explain -run - -bench IntegratedGradients -benchtime 1x -count "$count" -timeout 60m)
echo "$out" | grep '^Benchmark'
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$out" | awk '
	/^Benchmark/ {
		split($1, p, "/"); shape = p[2]; kind = p[3]; sub(/-[0-9]+x.*/, "", kind)
		for (i = 1; i <= NF; i++) { if ($(i+1) == "ns/op") wall = $i / 1e9; if ($(i+1) == "cpu-s/op") cpu = $i }
		if (kind == "explain") { ew[shape] = wall; ec[shape] = cpu }
		else if (shape in ew) {
			printf "%-10s explain %.2f s (cpu %.2f s)  50 passes %.2f s (cpu %.2f s)  ratio wall %.2f  cpu %.2f\n", shape, ew[shape], ec[shape], wall, cpu, ew[shape] / wall, ec[shape] / cpu
			delete ew[shape]
		}
	}'
