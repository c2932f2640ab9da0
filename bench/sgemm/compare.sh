#!/usr/bin/env bash
# compare.sh runs tensor.BenchmarkSgemm and OpenBLAS's cblas_sgemm (Debian
# libopenblas-dev; the small C program openblas_sgemm.c is built here) on the
# same shapes, on 1 and 2 threads, alternating the two REPS times (default 3)
# so that both see the same machine load, and prints GFLOP/s (best and median
# of the runs) and the ratio textclf/OpenBLAS. A second table gives the work
# per CPU-second of each process (GFLOP/cpu-s), which other load on a shared
# machine disturbs much less than wall-clock time; note that OpenBLAS's
# threads spin while they wait, which this metric counts.
#
# OpenBLAS runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (in that
# command only) so that it picks its AVX-512 kernels on this CPU.
#
# With BASELINE set to a git revision, the tensor benchmark of that revision
# (built from `git archive` in a temporary directory) runs as a third side,
# "before", alternating with the other two, so that a change is measured
# against the old code and OpenBLAS in the same run.
#
# Usage: bench/sgemm/compare.sh            (from anywhere in the repository)
#        REPS=5 BENCHTIME=2s bench/sgemm/compare.sh
#        BASELINE=main bench/sgemm/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${REPS:-3}
benchtime=${BENCHTIME:-1s}
out=bench/out/sgemm
mkdir -p "$out"
rm -f "$out"/*.txt

if ! gcc -O2 -o "$out/openblas_sgemm" bench/sgemm/openblas_sgemm.c -lopenblas; then
	echo "compare.sh: cannot build the OpenBLAS program; install gcc and libopenblas-dev" \
		"(apt-get install -y gcc libopenblas-dev)" >&2
	exit 1
fi
CGO_ENABLED=0 go test -c -o "$out/tensor.test" ./tensor
sides="go"
if [ -n "${BASELINE:-}" ]; then
	base=$(git rev-parse --short "$BASELINE^{commit}")
	src=$(mktemp -d)
	trap 'rm -rf "$src"' EXIT
	git archive "$base" | tar -x -C "$src"
	(cd "$src" && CGO_ENABLED=0 go test -c -o "$OLDPWD/$out/tensor.base.test" ./tensor)
	sides="base go"
fi
secs=${benchtime%s}

for t in 1 2; do
	for r in $(seq "$reps"); do
		for side in $sides; do
			bin=$out/tensor.test
			[ "$side" = base ] && bin=$out/tensor.base.test
			"$bin" -test.run '^$' -test.bench '^BenchmarkSgemm$' -test.cpu "$t" -test.benchtime "$benchtime" |
				awk -v t="$t" -v side="$side" '/GFLOP\/s/ { name = $1; sub(/^BenchmarkSgemm\//, "", name); sub(/-[0-9]+$/, "", name)
					w = c = 0
					for (i = 2; i <= NF; i++) { if ($i == "GFLOP/s") w = $(i-1); if ($i == "GFLOP/cpu-s") c = $(i-1) }
					print side, t, name, w, c }' >>"$out/results.txt"
		done
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$t" "$out/openblas_sgemm" "$secs" |
			awk -v t="$t" '{ print "blas", t, $1, $2, $3; print $4 > "/dev/stderr" }' >>"$out/results.txt" 2>"$out/corename.txt"
	done
done

echo "textclf kernel: $("$out/tensor.test" -test.run '^TestKernelName$' -test.v 2>/dev/null | awk '/kernel:/ {print $NF}' | head -1)," \
	"OpenBLAS core: $(head -1 "$out/corename.txt"), $reps runs each, benchtime $benchtime${base:+, before = $base}"
echo
table() {
	awk -v col="$1" -v unit="$2" -v base="${base:-}" '
function median(s,   a, n, i, j, tmp) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { tmp = a[i]; a[i] = a[j]; a[j] = tmp }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	key = $3 SUBSEP $2
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	vals[$1, key] = vals[$1, key] " " $col
	if ($col + 0 > best[$1, key]) best[$1, key] = $col + 0
}
END {
	if (base == "") {
		printf "| shape | threads | textclf %s (best / median) | OpenBLAS %s (best / median) | ratio best | ratio median |\n", unit, unit
		printf "|---|---|---|---|---|---|\n"
	} else {
		printf "| shape | threads | before (%s) %s (best / median) | textclf %s (best / median) | OpenBLAS %s (best / median) | before/OpenBLAS best / median | textclf/OpenBLAS best / median |\n", base, unit, unit, unit
		printf "|---|---|---|---|---|---|---|\n"
	}
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, p, SUBSEP)
		gm = median(vals["go", k]); bm = median(vals["blas", k])
		if (base == "") {
			printf "| %s | %s | %.1f / %.1f | %.1f / %.1f | %.2f | %.2f |\n", p[1], p[2], best["go", k], gm, best["blas", k], bm, best["go", k] / best["blas", k], gm / bm
			continue
		}
		om = median(vals["base", k])
		printf "| %s | %s | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.2f / %.2f | %.2f / %.2f |\n", p[1], p[2], best["base", k], om, best["go", k], gm, best["blas", k], bm, best["base", k] / best["blas", k], om / bm, best["go", k] / best["blas", k], gm / bm
	}
}' "$out/results.txt"
}
echo "Wall clock:"
echo
table 4 GFLOP/s
echo
echo "Per CPU-second of the process:"
echo
table 5 GFLOP/cpu-s
