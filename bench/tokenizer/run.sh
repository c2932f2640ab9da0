#!/bin/sh
# run.sh: tokenizer throughput, HF tokenizers (Node binding, the reference) beside the Go tokenizer, on
# testdata/tokenizer/corpus.txt repeated to about 1 MB.
#
# Usage: bench/tokenizer/run.sh        (from anywhere; needs node and npm for the HF half)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ ! -d scripts/golden/tokenizer/node_modules/tokenizers ]; then
	(cd scripts/golden/tokenizer && npm install --no-audit --no-fund >/dev/null)
fi

echo "== HF tokenizers, one thread (RAYON_NUM_THREADS=1)"
RAYON_NUM_THREADS=1 node bench/tokenizer/hf_bench.js
echo
echo "== HF tokenizers, default threads (encodeBatch runs on rayon)"
node bench/tokenizer/hf_bench.js
echo

echo "== Go tokenizer (go test ./tokenizer -bench Encode)"
# LEAD: the Go half runs once package tokenizer has a BenchmarkEncode* over the same corpus; until then it
# only says so.
if grep -qs 'func BenchmarkEncode' tokenizer/*_test.go; then
	go test ./tokenizer -bench Encode -run '^$' -benchmem
else
	echo "(no BenchmarkEncode in ./tokenizer yet)"
fi
