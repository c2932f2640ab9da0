"""Prints the markdown tables of bench/model/run.sh from its results file.

    report.py OUT/results.jsonl

Each line of the results file is one JSON measurement with impl (textclf,
ort, ort-nospin, pytorch), config, batch, seq, train, seq_per_s and
ms_per_batch. textclf's `bench` prints one line per window (its mean over
the window); the value used is the median window by ms_per_batch. ort and
pytorch lines already hold their median window. The ORT column is the faster
of ORT with the session defaults (threads spin) and ORT with
intra_op.allow_spinning=0; both are listed under the table.
"""
import json
import statistics
import sys

CASES = [
    ("bert-base", 8, 128, False, "BERT-base 8×128"),
    ("bert-base", 1, 16, False, "BERT-base 1×16"),
    ("minilm", 32, 128, False, "MiniLM 32×128"),
    ("bert-base", 8, 128, True, "BERT-base 8×128 training step"),
]


def load(path):
    rows = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit("%s:%d: %s" % (path, n, e))
            key = (r["impl"], r["config"], r["batch"], r["seq"], bool(r["train"]))
            rows.setdefault(key, []).append(r)
    return rows


def pick(rows, impl, case):
    """The median window (by ms_per_batch) of an implementation on a case, or None."""
    rs = rows.get((impl,) + case)
    if not rs:
        return None
    ms = statistics.median_low(r["ms_per_batch"] for r in rs)
    return next(r for r in rs if r["ms_per_batch"] == ms)


def fmt(x, digits=2):
    return "—" if x is None else ("%.*f" % (digits, x))


def ratio(a, b):
    return "—" if a is None or b is None else "%.2f×" % (a / b)


def main():
    rows = load(sys.argv[1])
    print("| shape | textclf seq/s | ORT seq/s | PyTorch seq/s | textclf/ORT | textclf/PyTorch |")
    print("|---|---|---|---|---|---|")
    notes = []
    lat = None
    for name, b, t, train, label in CASES:
        case = (name, b, t, train)
        tc = pick(rows, "textclf", case)
        o1, o2 = pick(rows, "ort", case), pick(rows, "ort-nospin", case)
        ort = max([o for o in (o1, o2) if o], key=lambda r: r["seq_per_s"], default=None)
        pt = pick(rows, "pytorch", case)
        v = [r["seq_per_s"] if r else None for r in (tc, ort, pt)]
        print("| %s | %s | %s | %s | %s | %s |" % (label, fmt(v[0]), fmt(v[1]), fmt(v[2]), ratio(v[0], v[1]),
                                                 ratio(v[0], v[2])))
        if o1 or o2:
            notes.append("%s: ORT spinning %s, allow_spinning=0 %s seq/s" % (
                label, fmt(o1 and o1["seq_per_s"]), fmt(o2 and o2["seq_per_s"])))
        if (b, t) == (1, 16):
            lat = (label, tc, ort, pt)
        if train:
            notes.append("%s: textclf %s ms/step, PyTorch %s ms/step, textclf/PyTorch %s" % (
                label, fmt(tc and tc["ms_per_batch"], 0), fmt(pt and pt["ms_per_batch"], 0), ratio(
                    pt and pt["ms_per_batch"], tc and tc["ms_per_batch"])))
    if lat:
        label, tc, ort, pt = lat
        print()
        print("| latency, %s | textclf | ORT | PyTorch |" % label)
        print("|---|---|---|---|")
        print("| ms per batch | %s | %s | %s |" % tuple(fmt(r and r["ms_per_batch"], 1) for r in (tc, ort, pt)))
    print()
    for n in notes:
        print("- " + n)
    # Every window, for the record.
    print()
    for key in sorted(rows):
        ms = sorted(round(r["ms_per_batch"], 1) for r in rows[key]) if key[0] == "textclf" else \
            rows[key][0].get("windows_ms")
        print("- windows (ms per batch) %s %s %d×%d%s: %s" % (key[0], key[1], key[2], key[3],
              " train" if key[4] else "", ms))


if __name__ == "__main__":
    main()
