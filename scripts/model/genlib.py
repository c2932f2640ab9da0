"""What textclf's golden-file generators share (scripts/model/gen*.py,
scripts/explain/gen.py, scripts/train/gen.py, scripts/checkpoint/gen.py and
bench/train's PyTorch scripts import it; each puts scripts/model on sys.path):

  - safetensors written and read by hand (Debian has no python safetensors
    package), laid out as the reference implementation lays them out: 8-byte
    little-endian header length, JSON header with "__metadata__" first and
    the tensors by descending dtype rank then name, header padded with spaces
    to a multiple of 8, raw little-endian data;
  - a JSON writer (sorted keys, indent 2, trailing newline);
  - the self-check exception and expect();
  - the command line of a generator: DIR (write) or --verify DIR (regenerate
    into a temporary directory and compare byte for byte).

Every file is written to a temporary name and renamed.
"""
import collections
import filecmp
import json
import os
import struct
import sys
import tempfile

import torch

ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}
ST_TORCH = {v: k for k, v in ST_DTYPE.items()}
# Declaration order of dtypes in the reference implementation; its writer sorts
# by this, descending, then by name.
ST_RANK = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "F64", "I64"]


def tensor_bytes(t):
    """The raw little-endian bytes of t (bfloat16 through an int16 view:
    numpy has no bfloat16)."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors(tensors, path, metadata=None):
    """Writes tensors (name -> torch tensor of a dtype in ST_DTYPE) to path,
    with metadata (default {"format": "pt"}) as "__metadata__"."""
    if metadata is None:
        metadata = {"format": "pt"}
    items = sorted(tensors.items(), key=lambda kv: (-ST_RANK.index(ST_DTYPE[kv[1].dtype]), kv[0]))
    header = collections.OrderedDict()
    header["__metadata__"] = collections.OrderedDict(sorted(metadata.items()))
    blobs, off = [], 0
    for name, t in items:
        b = tensor_bytes(t)
        header[name] = collections.OrderedDict(
            [("dtype", ST_DTYPE[t.dtype]), ("shape", list(t.shape)), ("data_offsets", [off, off + len(b)])])
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """Reads a safetensors file into (name -> tensor, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        if info["dtype"] not in ST_TORCH:
            raise ValueError("%s: tensor %s: unsupported dtype %s" % (path, name, info["dtype"]))
        b, e = info["data_offsets"]
        raw = bytearray(data[8 + n + b:8 + n + e])
        dt = ST_TORCH[info["dtype"]]
        if not raw:
            t = torch.zeros(0, dtype=dt)
        elif dt == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def write_json(obj, path):
    """Writes obj as JSON (sorted keys, indent 2, trailing newline)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


class CheckFailed(Exception):
    """A generator's self-check failed; nothing more is written."""


def expect(ok, what):
    """Raises CheckFailed(what) unless ok."""
    if not ok:
        raise CheckFailed(what)


def verify(committed, generate_fn, complete=False):
    """Regenerates into a temporary directory with generate_fn and compares
    every file it writes with the one under committed, byte for byte; with
    complete, a committed file the generator does not write differs too.
    Returns the exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        generate_fn(tmp)
        bad = []
        for dirpath, _, files in os.walk(tmp):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), tmp)
                other = os.path.join(committed, rel)
                if not os.path.exists(other) or not filecmp.cmp(os.path.join(tmp, rel), other, shallow=False):
                    bad.append(rel)
        if complete:
            for dirpath, _, files in os.walk(committed):
                for f in files:
                    rel = os.path.relpath(os.path.join(dirpath, f), committed)
                    if not os.path.exists(os.path.join(tmp, rel)):
                        bad.append(rel + " (not generated)")
        if bad:
            print("differs from the generator's output: %s" % ", ".join(sorted(bad)), file=sys.stderr)
            return 1
    print("%s matches the generator's output" % committed)
    return 0


def main(argv, generate_fn, doc, complete=False):
    """The command line of a generator: DIR (generate_fn(DIR)), or --verify
    DIR (verify, with complete). Prints doc on a usage error; returns the
    exit status."""
    args = argv[1:]
    check_only = args[:1] == ["--verify"]
    if check_only:
        args = args[1:]
    if len(args) != 1:
        print(doc, file=sys.stderr)
        return 2
    try:
        if check_only:
            return verify(args[0], generate_fn, complete)
        generate_fn(args[0])
    except CheckFailed as e:
        print("self-check failed: %s" % e, file=sys.stderr)
        return 1
    return 0
