"""Prints the tables of bench/model/run_arch.sh from its results file.

    arch_report.py OUT/arch-results.jsonl

Per shape: the median over rounds of textclf's and ORT's seq/s (ORT: the faster
of spinning and allow_spinning=0 in each round) and the median of the per-round
ratios textclf/ORT with their range; then the 8,192-token memory line.
"""
import json
import statistics
import sys

LABELS = {("gpt2", 8, 128): "GPT-2 small 8×128", ("modernbert-base", 1, 2048): "ModernBERT-base 1×2048",
          ("qwen2-0.5b", 1, 256): "Qwen2-0.5B-shaped 1×256"}


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    by, rss = {}, {}
    for r in rows:
        if r["impl"] == "textclf-memory":
            continue
        key = (r["config"], r["batch"], r["seq"])
        by.setdefault(key, {}).setdefault(r["round"], {})[r["impl"]] = r["seq_per_s"]
        if "max_rss_kb" in r:
            rss.setdefault(key, {}).setdefault(r["impl"].replace("-nospin", ""), []).append(r["max_rss_kb"])
    print("| shape | textclf seq/s | ORT seq/s | textclf/ORT (median of rounds) | range of the rounds |")
    print("|---|---|---|---|---|")
    notes = []
    for key, rounds in by.items():
        tc, ort, ratios = [], [], []
        for rnd in sorted(rounds):
            v = rounds[rnd]
            o = max(v.get("ort", 0), v.get("ort-nospin", 0))
            if "textclf" in v and o > 0:
                tc.append(v["textclf"])
                ort.append(o)
                ratios.append(v["textclf"] / o)
        if not ratios:
            continue
        label = LABELS.get(key, "%s %d×%d" % key)
        print("| %s | %.3g | %.3g | %.2f× | %.2f–%.2f× |" % (label, statistics.median(tc), statistics.median(ort),
                                                             statistics.median(ratios), min(ratios), max(ratios)))
        notes.append("%s, per round (textclf / ORT seq/s): %s" % (label, ", ".join(
            "%.3g/%.3g" % (a, b) for a, b in zip(tc, ort))))
        m = rss.get(key, {})
        if "textclf" in m and "ort" in m:
            notes.append("%s, peak resident memory of the process (median): textclf %.2f GiB, ORT %.2f GiB" % (
                label, statistics.median(m["textclf"]) / 2**20, statistics.median(m["ort"]) / 2**20))
    print()
    for n in notes:
        print("- " + n)
    for r in rows:
        if r["impl"] == "textclf-memory":
            heads, t = 12, r["seq"]
            scores = 4 * heads * t * t
            print("- ModernBERT-base 1×%d: textclf peak resident memory %.2f GiB (%.1f s for the forward pass); "
                  "the scores of one full-attention layer alone (4 B × %d heads × %d²) are %.2f GiB" % (
                      t, r["max_rss_kb"] / 2**20, r["bench"]["ms_per_batch"] / 1000, heads, t, scores / 2**30))


if __name__ == "__main__":
    main()
