"""Helpers shared by the SST-2 accuracy run's PyTorch scripts: the
safetensors reader/writer and JSON writer of scripts/model/genlib.py (Debian
has no python safetensors package) and the reference model from
scripts/model/reference.py."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "model"))
import genlib  # noqa: E402
import reference  # noqa: E402,F401  (re-exported)
from genlib import save_safetensors, write_json  # noqa: E402,F401  (re-exported)


def load_safetensors(path):
    """Reads a safetensors file into a dict of tensors."""
    return genlib.load_safetensors(path)[0]
