#!/usr/bin/env bash
# int8 or bf16 against float32 on a fine-tuned model: accuracy of each on a labelled file and how often
# they predict the same label.
#
#   [DTYPE=int8|bf16] bench/train/dtype_agreement.sh MODEL_DIR DATA.tsv [TEXTCLF_BINARY]
#
# Runs `textclf eval` and `textclf predict --format jsonl` on DATA with --dtype f32 and --dtype $DTYPE
# (default int8), and `textclf quantize --dtype $DTYPE` + eval on the written directory (with --dtype
# $DTYPE: an int8 directory runs in int8 anyway, a bf16 one holds bfloat16 weights read as float32),
# whose accuracy must be --dtype $DTYPE's; prints one JSON object: accuracies, the accuracy delta in
# points, the label agreement, the largest |logit difference|. See BENCHMARKS.md, "int8 inference" and
# "bf16 inference".
set -euo pipefail
model=$1 data=$2
bin=${3:-}
dtype=${DTYPE:-int8}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$bin" ]; then
	(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/textclf" ./cmd/textclf)
	bin=$tmp/textclf
fi
for d in f32 "$dtype"; do
	"$bin" eval --model "$model" --data "$data" --dtype "$d" --threads 2 --format json >"$tmp/eval-$d.json"
	"$bin" predict --model "$model" --data "$data" --dtype "$d" --threads 2 --format jsonl >"$tmp/pred-$d.jsonl"
done
"$bin" quantize --model "$model" --dtype "$dtype" --output "$tmp/dir" 2>/dev/null
"$bin" eval --model "$tmp/dir" --dtype "$dtype" --data "$data" --threads 2 --format json >"$tmp/eval-dir.json"
/usr/bin/python3 - "$tmp" "$dtype" <<'PY'
import json, sys
t, d = sys.argv[1], sys.argv[2]
acc = {k: json.load(open("%s/eval-%s.json" % (t, k)))["accuracy"] for k in ("f32", d, "dir")}
p = {k: [json.loads(l) for l in open("%s/pred-%s.jsonl" % (t, k))] for k in ("f32", d)}
same = sum(a["label"] == b["label"] for a, b in zip(p["f32"], p[d]))
dl = max(abs(x - y) for a, b in zip(p["f32"], p[d]) for x, y in zip(a["logits"], b["logits"]))
print(json.dumps({"n": len(p["f32"]), "dtype": d, "accuracy_f32": acc["f32"], "accuracy_" + d: acc[d],
                  "accuracy_%s_dir" % d: acc["dir"], "delta_points": round(100 * (acc[d] - acc["f32"]), 3),
                  "label_agreement": same / len(p["f32"]), "max_abs_logit_diff": dl}))
PY
