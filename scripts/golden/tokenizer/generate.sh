#!/bin/sh
# generate.sh regenerates everything under testdata/tokenizer with the HF tokenizers Node binding (the
# reference). Needs node + npm and the shared datasets/tokenizer files (default: ../shared beside the repo).
#
# Usage: scripts/golden/tokenizer/generate.sh [shared dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
shared=${1:-$root/../shared}
out=$root/testdata/tokenizer

cd "$here"
npm install --no-audit --no-fund >/dev/null
node make_corpus.js "$shared/datasets" "$out"
node build_real.js "$shared/tokenizers" "$out"
node train_unigram.js "$shared/datasets" "$out"
node build_variants.js "$shared/datasets" "$out"
rm -rf "$out/golden"
node gen_golden.js "$out"
node check_golden.js "$out"
