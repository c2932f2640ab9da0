"""Prints the markdown tables of bench/model/run_reduced.sh (named int8_report.py before bf16).

    reduced_report.py OUT/reduced-results.jsonl OUT/reduced-memory.txt

Each results line is one JSON measurement (impl textclf-f32, textclf-int8,
textclf-bf16, ort, pytorch, pytorch-int8-onednn; config, batch, seq, ms_per_batch, and for
ort and pytorch windows_ms, the windows of that measurement). An
implementation's value on a shape is the median of all its windows over the
repeats; the ratios are of seq/s (higher is faster for the first).
"""
import statistics
import sys
import json

CASES = [("bert-base", 8, 128, "BERT-base 8×128"), ("bert-base", 1, 16, "BERT-base 1×16"),
         ("minilm", 32, 128, "MiniLM 32×128")]
IMPLS = ["textclf-f32", "textclf-int8", "textclf-bf16", "ort", "pytorch-int8-onednn", "pytorch"]


def load(path):
    windows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            key = (r["impl"], r["config"], r["batch"], r["seq"])
            ws = r.get("windows_ms") or [r["ms_per_batch"]]
            windows.setdefault(key, []).extend(ws)
    return windows


def main():
    w = load(sys.argv[1])
    print("| shape | textclf f32 | textclf int8 | textclf bf16 | ORT FP32 | PyTorch int8 (quantize_dynamic, onednn) |"
          " PyTorch FP32 | int8 / ORT FP32 | int8 / PyTorch int8 | int8 / textclf f32 | bf16 / ORT FP32 |"
          " bf16 / textclf f32 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for cfg, b, t, label in CASES:
        sps = {}
        for impl in IMPLS:
            ws = w.get((impl, cfg, b, t))
            sps[impl] = b / (statistics.median(ws) / 1000) if ws else None
        cell = lambda x: "—" if x is None else "%.2f" % x  # noqa: E731
        ratio = lambda a, c: "—" if sps[a] is None or sps[c] is None else "%.2f×" % (sps[a] / sps[c])  # noqa: E731
        print("| %s (seq/s) | %s |" % (label, " | ".join(cell(sps[i]) for i in IMPLS)) +
              " %s | %s | %s | %s | %s |" % (ratio("textclf-int8", "ort"), ratio("textclf-int8", "pytorch-int8-onednn"),
                                             ratio("textclf-int8", "textclf-f32"), ratio("textclf-bf16", "ort"),
                                             ratio("textclf-bf16", "textclf-f32")))
    print()
    print("Windows per implementation and shape: " + ", ".join(
        "%s %s×%d: %d" % (k[0], k[1], k[2], len(v)) for k, v in sorted(w.items())))
    if len(sys.argv) > 2:
        mem, sizes = {}, []
        with open(sys.argv[2]) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 2:
                    continue
                if parts[0].isdigit():  # du -b: SIZE PATH
                    sizes.append((parts[1], int(parts[0])))
                elif parts[1].isdigit():  # NAME KIB
                    mem.setdefault(parts[0], []).append(int(parts[1]))
        print()
        print("| BERT-base process (bench --batch 8 --seq 128, one step) | max RSS (MiB) | vs FP32 |")
        print("|---|---|---|")
        base = min(mem["f32"]) if "f32" in mem else None
        for name, label in [("f32", "FP32 directory"), ("f32-dir-dtype-int8", "FP32 directory, --dtype int8"),
                            ("int8-dir", "int8 directory (textclf quantize)"),
                            ("f32-dir-dtype-bf16", "FP32 directory, --dtype bf16"),
                            ("bf16-dir", "bf16 directory (textclf quantize --dtype bf16), --dtype bf16"),
                            ("bf16-dir-dtype-f32", "bf16 directory, --dtype f32")]:
            if name in mem:
                v = min(mem[name])
                print("| %s | %.0f | %s |" % (label, v / 1024, "%.2f×" % (v / base) if base else "—"))
        for path, n in sizes:
            print()
            print("%s: %.1f MB" % (path.split("/out/")[-1], n / 1e6))


if __name__ == "__main__":
    main()
