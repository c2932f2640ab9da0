#!/usr/bin/env python3
"""Golden file of textclf's distillation losses, computed by PyTorch.

    /usr/bin/python3 scripts/distill/golden.py nn/testdata/distill/losses.json

For random student logits s, teacher logits t and hard labels y (several
label counts, temperatures, alphas), writes each case's loss and its gradient
with respect to s, from autograd on a batch:
  kl:  alpha * F.kl_div(F.log_softmax(s/T), F.softmax(t/T), reduction="batchmean") * T*T
       + (1-alpha) * F.cross_entropy(s, y)             (Hinton et al.; DistilBERT's loss_ce)
  mse: alpha * F.mse_loss(s, t) per example (mean over labels), batch mean
       + (1-alpha) * F.cross_entropy(s, y)             (Tang et al. 2019)
The loss of a case is the batch mean; textclf's per-example losses average to
it and its per-example gradients, divided by the batch size, equal autograd's.
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(0)
cases = []
for loss in ("kl", "mse"):
    for k, temp, alpha, scale in ((2, 2.0, 0.5, 1.0), (3, 1.0, 0.9, 3.0), (5, 4.0, 0.3, 5.0), (10, 2.0, 1.0, 2.0), (4, 0.5, 0.0, 8.0)):
        n = 4
        s = (torch.randn(n, k) * scale).double().requires_grad_(True)  # float32 values, float64 sums
        t = (torch.randn(n, k) * scale).double()
        y = torch.randint(0, k, (n,))
        hard = F.cross_entropy(s, y)
        if loss == "kl":
            soft = F.kl_div(F.log_softmax(s / temp, dim=-1), F.softmax(t / temp, dim=-1), reduction="batchmean") * temp * temp
        else:
            soft = F.mse_loss(s, t)  # mean over n*k elements = mean over examples of the per-example mean
        total = alpha * soft + (1 - alpha) * hard
        total.backward()
        cases.append({
            "loss_type": loss, "temperature": temp, "alpha": alpha,
            "student": s.detach().float().tolist(), "teacher": t.float().tolist(), "labels": y.tolist(),
            "loss": total.item(), "grad": s.grad.tolist(),
        })
with open(sys.argv[1], "w") as f:
    json.dump({"generator": "scripts/distill/golden.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
