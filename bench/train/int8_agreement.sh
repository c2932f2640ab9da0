#!/usr/bin/env bash
# int8 against float32 on a fine-tuned model: accuracy of each on a labelled file and how often they
# predict the same label.
#
#   bench/train/int8_agreement.sh MODEL_DIR DATA.tsv [TEXTCLF_BINARY]
#
# Runs `textclf eval` and `textclf predict --format jsonl` on DATA with --dtype f32 and --dtype int8, and
# `textclf quantize` + eval on the int8 directory (whose accuracy must be --dtype int8's); prints one JSON
# object: accuracies, the accuracy delta in points, the label agreement, the largest |logit difference|.
# See BENCHMARKS.md, "int8 inference".
set -euo pipefail
model=$1 data=$2
bin=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$bin" ]; then
	(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/textclf" ./cmd/textclf)
	bin=$tmp/textclf
fi
for d in f32 int8; do
	"$bin" eval --model "$model" --data "$data" --dtype "$d" --threads 2 --format json >"$tmp/eval-$d.json"
	"$bin" predict --model "$model" --data "$data" --dtype "$d" --threads 2 --format jsonl >"$tmp/pred-$d.jsonl"
done
"$bin" quantize --model "$model" --output "$tmp/int8-dir" 2>/dev/null
"$bin" eval --model "$tmp/int8-dir" --data "$data" --threads 2 --format json >"$tmp/eval-dir.json"
/usr/bin/python3 - "$tmp" <<'EOF'
import json, sys
t = sys.argv[1]
acc = {k: json.load(open("%s/eval-%s.json" % (t, k)))["accuracy"] for k in ("f32", "int8", "dir")}
p = {k: [json.loads(l) for l in open("%s/pred-%s.jsonl" % (t, k))] for k in ("f32", "int8")}
same = sum(a["label"] == b["label"] for a, b in zip(p["f32"], p["int8"]))
dl = max(abs(x - y) for a, b in zip(p["f32"], p["int8"]) for x, y in zip(a["logits"], b["logits"]))
print(json.dumps({"n": len(p["f32"]), "accuracy_f32": acc["f32"], "accuracy_int8": acc["int8"],
                  "accuracy_int8_dir": acc["dir"], "delta_points": round(100 * (acc["int8"] - acc["f32"]), 3),
                  "label_agreement": same / len(p["f32"]), "max_abs_logit_diff": dl}))
EOF
