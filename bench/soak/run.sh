#!/bin/sh
# run.sh: memory soak of `textclf serve` (issue 12): CLIENTS clients post bodies of ~2 MB (the payload
# limit) to /predict (truncated and not) and /tokenize for DURATION, against a random MiniLM-shaped BERT
# served in a child process on a loopback port; fails if the server's peak resident memory exceeds 1 GB.
#
# Usage: bench/soak/run.sh [DURATION] [CLIENTS]     (default 30s 16)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
exec go run ./bench/soak -duration "${1:-30s}" -clients "${2:-16}"
