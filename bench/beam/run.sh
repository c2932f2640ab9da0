#!/bin/sh
# run.sh: throughput of textclf-beam on Prism against textclf predict on the same file (issue 18):
# LINES sentences of SST-2 (cycled), a model (default: a random MiniLM-shaped BERT), the two
# commands alternating REPEATS times; prints texts/s, the ratio and how far the outputs differ.
#
# Usage: bench/beam/run.sh [LINES] [REPEATS] [DATA] [MODEL]
#        (default 20000 2 ../shared/datasets/sst2/train.tsv, MiniLM)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
exec go run ./bench/beam -lines "${1:-20000}" -repeats "${2:-2}" -data "${3:-../shared/datasets/sst2/train.tsv}" -model "${4:-}"
