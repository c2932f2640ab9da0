"""Helpers shared by the SST-2 accuracy run's PyTorch scripts: a hand-written
safetensors reader/writer (Debian has no python safetensors package) and the
reference model from scripts/model/reference.py."""
import json
import os
import struct
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "model"))
import reference  # noqa: E402,F401  (re-exported)

ST_DTYPE = {torch.float32: "F32", torch.int64: "I64"}
ST_TORCH = {v: k for k, v in ST_DTYPE.items()}


def save_safetensors(tensors, path):
    """Writes F32/I64 tensors as a safetensors file (temp file + rename)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """Reads a safetensors file of F32/I64 tensors into a dict."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        if info["dtype"] not in ST_TORCH:
            raise ValueError("%s: tensor %s: unsupported dtype %s" % (path, name, info["dtype"]))
        b, e = info["data_offsets"]
        raw = bytearray(data[8 + n + b:8 + n + e])
        out[name] = torch.frombuffer(raw, dtype=ST_TORCH[info["dtype"]]).reshape(info["shape"]).clone()
    return out


def write_json(obj, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
