#!/bin/sh
# run.sh: load test of `textclf serve` (issue 7): throughput and p50/p99 latency of POST /predict with
# 1, 8 and 64 concurrent clients, dynamic batching on and off, on a random MiniLM-shaped BERT built in a
# temporary directory. Loopback only; about 6 × (DURATION + 1 s).
#
# Usage: bench/serve/run.sh [DURATION]     (default 8s)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
exec go run ./bench/serve -duration "${1:-8s}"
