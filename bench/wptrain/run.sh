#!/bin/sh
# run.sh: WordPiece training speed, HF tokenizers (Node binding, the reference) beside textclf's trainer, on
# one corpus built from the shared datasets (SST-2 train sentences, THUCNews dev+test headlines, waimai
# reviews: 99,336 lines, 5.6 MB), interleaved ROUNDS times. Each HF run's vocabulary is also replayed by
# TestWordPieceTrainerMatchesHFLarge (its "##c" order), which must give the identical vocabulary.
#
# Usage: bench/wptrain/run.sh [SHARED] [ROUNDS]   (SHARED defaults to ../shared beside the repository)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
shared=${1:-$root/../shared}
rounds=${2:-3}
ds=$shared/datasets

if [ ! -d scripts/tokenizer/wordpiece/node_modules/tokenizers ]; then
	(cd scripts/tokenizer/wordpiece && npm install --no-audit --no-fund --no-package-lock >/dev/null)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
corpus=$tmp/corpus.txt
{
	tail -n +2 "$ds/sst2/train.tsv" | cut -f2
	cut -f1 "$ds/thucnews/dev.txt" "$ds/thucnews/test.txt"
	tail -n +2 "$ds/waimai/waimai_10k.csv" | cut -d, -f2-
} >"$corpus"
echo "corpus: $(wc -l <"$corpus") lines, $(wc -c <"$corpus") bytes; $(grep -m1 'model name' /proc/cpuinfo)"
go test -c -o "$tmp/tokenizer.test" ./tokenizer
for i in $(seq "$rounds"); do
	echo "== round $i, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	RAYON_NUM_THREADS=1 NODE_PATH=scripts/tokenizer/wordpiece/node_modules node bench/wptrain/hf_train.js "$corpus"
	TEXTCLF_WPTRAIN_CORPUS=$corpus "$tmp/tokenizer.test" -test.run '^$' -test.bench WordPieceTrainer -test.benchtime 1x -test.cpu 1 | grep ^Benchmark
	NODE_PATH=scripts/tokenizer/wordpiece/node_modules node bench/wptrain/hf_train.js "$corpus" "$tmp/hf-vocab.txt"
	TEXTCLF_WPTRAIN_CORPUS=$corpus "$tmp/tokenizer.test" -test.run '^$' -test.bench WordPieceTrainer -test.benchtime 1x -test.cpu 2 | grep ^Benchmark
	(cd tokenizer && TEXTCLF_WPTRAIN_CORPUS=$corpus TEXTCLF_WPTRAIN_HF_VOCAB=$tmp/hf-vocab.txt "$tmp/tokenizer.test" -test.run MatchesHFLarge -test.v | grep -E 'identical|differs|FAIL' || true)
done
