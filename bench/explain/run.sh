#!/usr/bin/env bash
# Integrated gradients against plain forward and backward passes: explaining
# one 128-token text with 50 Gauss-Legendre steps versus 50 forward and
# backward passes of that text in batches of the same size (BERT-base and
# MiniLM shapes, random weights; BenchmarkIntegratedGradients in
# explain/bench_unix_test.go). The test binary is built once and run ROUNDS
# times (default 3); each round runs the two back to back for each shape, so
# the pairs are interleaved. Ratios are printed per round, by wall time and by
# CPU time (user + system of all threads, steadier on a shared machine).
#
#   bash bench/explain/run.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/explain.test" ./explain
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) threads"
echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) | $cpu | load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	(cd explain && "$bin/explain.test" -test.run - -test.bench IntegratedGradients -test.benchtime 1x) | grep '^Benchmark' | sed "s/^/round $r /"
	echo "# after round $r: $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
done | tee "$bin/out"
awk '
	/^round/ {
		split($3, p, "/"); shape = p[2]; kind = p[3]; sub(/-[0-9]+x.*/, "", kind)
		for (i = 1; i <= NF; i++) { if ($(i+1) == "ns/op") wall = $i / 1e9; if ($(i+1) == "cpu-s/op") cpu = $i }
		if (kind == "explain") { ew[shape] = wall; ec[shape] = cpu }
		else if (shape in ew) {
			printf "round %s %-10s explain %7.2f s (cpu %6.2f s)  50 passes %7.2f s (cpu %6.2f s)  ratio wall %.2f cpu %.2f\n", $2, shape, ew[shape], ec[shape], wall, cpu, ew[shape] / wall, ec[shape] / cpu
			delete ew[shape]
		}
	}' "$bin/out"
