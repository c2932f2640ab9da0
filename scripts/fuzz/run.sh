#!/usr/bin/env bash
# run.sh: runs every fuzz target of the repository (func FuzzX in a _test.go file) for FUZZTIME each,
# with -fuzzminimizetime MINIMIZE: go test's default, 60 s, spends a short run minimizing the first new
# input instead of executing it. Prints each target's executions; a crash stops the script and leaves
# the failing input under the package's testdata/fuzz/ (commit it as a regression seed).
#
# Usage: scripts/fuzz/run.sh [FUZZTIME] [MINIMIZE]     (default 10s 1s)
set -euo pipefail
cd "$(dirname "$0")/../.."
fuzztime=${1:-10s}
minimize=${2:-1s}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
	dir=$(dirname "$file")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		log=$(mktemp)
		if ! go test "$dir" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" </dev/null >"$log" 2>&1; then
			cat "$log"
			rm -f "$log"
			echo "FAIL $dir $target"
			exit 1
		fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
		rm -f "$log"
		printf '%-14s %-28s %10s execs in %s\n' "$dir" "$target" "${execs:-0}" "$fuzztime"
	done
done
