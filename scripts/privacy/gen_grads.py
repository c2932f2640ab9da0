"""Golden per-example gradients for DP-SGD's per-sample clipping.

For some of the model cases of scripts/model/gen.py (testdata/model/<case>:
config.json, model.safetensors, and the batch in golden.safetensors), this
runs the PyTorch reference (scripts/model/reference.py) and takes one
backward pass per example of the padded batch, each of that example's own
loss (cross-entropy; the mean over labels of BCE with logits; squared
error): the per-example gradients Opacus' GradSampleModule gives. It writes
testdata/privacy/<case>.safetensors:

  norms          [B] each example's gradient norm over all parameters
  max_grad_norm  [] the clipping norm C used below (the median of the norms,
                    so that some examples are clipped and some are not)
  clipped.<name> Σ_i min(1, C / (norm_i + 1e-6)) · grad_i, Opacus' flat
                 clipping (DPOptimizer.clip_and_accumulate), per parameter

Run with Debian's python3-torch from the repository root:

    /usr/bin/python3 scripts/privacy/gen_grads.py testdata/model testdata/privacy
"""
import collections
import json
import os
import sys

import torch
from torch import nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "model"))
import gen  # noqa: E402  (its safetensors reader and writer)
import reference  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

CASES = ["bert-single-label", "bert-multi-label", "bert-regression", "roberta-single-label",
         "distilbert-single-label"]


def example_losses(cfg, logits, labels):
    """Each example's own loss, whose mean is the batch loss."""
    pt = reference.problem_type(cfg, labels)
    if pt == "single_label_classification":
        return nn.CrossEntropyLoss(reduction="none")(logits, labels)
    if pt == "multi_label_classification":
        return nn.BCEWithLogitsLoss(reduction="none")(logits, labels).mean(dim=1)
    return (logits.squeeze(-1) - labels.view(-1)) ** 2


def main(models, out):
    os.makedirs(out, exist_ok=True)
    for case in CASES:
        d = os.path.join(models, case)
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        weights, _ = gen.load_safetensors(os.path.join(d, "model.safetensors"))
        golden, _ = gen.load_safetensors(os.path.join(d, "golden.safetensors"))
        model = reference.from_config(cfg)
        model.load_state_dict(weights)
        model.train()  # every dropout probability of the cases is 0
        ids, mask = golden["input_ids"], golden["attention_mask"]
        types, labels = golden.get("token_type_ids"), golden["labels"]
        params = collections.OrderedDict(model.named_parameters())
        grads, norms = [], []
        for i in range(ids.size(0)):
            model.zero_grad(set_to_none=True)
            logits, _, _ = model(ids, mask, types, None)
            example_losses(cfg, logits, labels)[i].backward()
            g = collections.OrderedDict((n, p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
                                        for n, p in params.items())
            grads.append(g)
            norms.append(torch.sqrt(sum((v.double() ** 2).sum() for v in g.values())).item())
        c = sorted(norms)[len(norms) // 2]
        result = collections.OrderedDict()
        result["norms"] = torch.tensor(norms, dtype=torch.float32)
        result["max_grad_norm"] = torch.tensor(c, dtype=torch.float32)
        for n in params:
            result["clipped." + n] = sum(min(1.0, c / (norms[i] + 1e-6)) * grads[i][n].double()
                                         for i in range(len(grads))).float()
        gen.save_safetensors(result, os.path.join(out, case + ".safetensors"), {"case": case})
        print("%-24s norms %s  C %.4g" % (case, " ".join("%.4g" % v for v in norms), c))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
