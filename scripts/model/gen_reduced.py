#!/usr/bin/python3
"""Golden logits of textclf's int8 and bf16 recipes on the BERT-family golden models.

Run with Debian's python3-torch (PyTorch 1.13), from the repository root,
after gen.py:

    /usr/bin/python3 scripts/model/gen_reduced.py testdata/model

The bf16 recipe (package tensor, LinearBF16) rounds the weights and each
input to bfloat16 (torch's .to(torch.bfloat16): to nearest, ties to even)
and sums the products, each exact, in float32: y = bf16(x) bf16(W)^T + b, the
output left in float32. It writes golden-bf16.safetensors with logits.bf16
and err.sigma, the bound below with bfloat16 rounding errors: an element v
rounds with an error uniform on +-ulp(v)/2, ulp(v) = 2^(floor(log2|v|) - 7),
so Var e_l[i][j] = sum_p W[j][p]^2 ulp(x[i][p])^2/12 + x[i][p]^2 ulp(W[j][p])^2/12,
and |e_l[i][j]| <= (2 2^-8 + 2^-16) sum_p |x[i][p]| |W[j][p]| (err.bound).

For each BERT-family case of testdata/model/cases.json it loads the model
that gen.py wrote (reference.py, the case's config.json and model.safetensors),
replaces the forward of every nn.Linear by the dynamic quantization recipe
textclf implements, simulated in float32 ("fake quantization"), runs the
golden inputs and writes testdata/model/<case>/golden-int8.safetensors with

  logits.int8   the logits of the quantized model
  err.bound     per-logit first-order worst-case bound of the quantization error (below)
  err.sigma     per-logit first-order standard deviation of that error (below)

The recipe (package tensor, QuantizeInt8 and QuantizeRowsU8):
  weights   per output row j: s_w = max|W[j]| / 63 (7 bits, ONNX Runtime's
            reduce_range), q = round_half_even(W / s_w), W' = s_w * q
  inputs    per row: lo = min(0, min x), hi = max(0, max x), s_x = (hi-lo)/255,
            zp = clamp(round(-lo/s_x), 0, 255), q = clamp(round(x * (1/s_x)) + zp, 0, 255),
            x' = s_x * (q - zp)   (ONNX DynamicQuantizeLinear)
  y = x' W'^T + b.
Embeddings, LayerNorm, softmax and the attention products stay float32.

err.bound: the int8 model differs from the float32 one by the quantization
error of each Linear, carried to the logits. To first order the logits move by
J_l . e_l for the error e_l of Linear l, with J_l the Jacobian of the logits
with respect to that Linear's output. Each |e_l[i][j]| is at most
B_l[i][j] = sum_p s_x[i]/2 |W[j][p]| + s_w[j]/2 |x[i][p]| + 3/4 s_x[i] s_w[j]
(the bound tensor's tests prove for one product), so
|dlogit| <= sum_l |J_l| . B_l, computed here by back-propagating from each
logit in float64 through the float32 model. This worst case adds every
rounding error with the same sign; it is far above what happens (errors of
either sign cancel), so the tests use the second figure: with each rounding
error independent and uniform on [-s/2, s/2] (variance s^2/12),
Var e_l[i][j] = s_x[i]^2/12 sum_p W[j][p]^2 + s_w[j]^2/12 sum_p x[i][p]^2 and
sigma^2 = sum_l J_l^2 . Var e_l; a logit of the int8 model is then within
6 sigma of the float32 logit (a normal variable leaves 6 sigma with
probability 2e-9). The script checks the fake-quantized logits against both.
"""
import collections
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402
import reference  # noqa: E402

torch.set_num_threads(1)

BERT_FAMILY = ("bert", "roberta", "xlm-roberta", "distilbert")


def quant_weight(w):
    s = w.abs().amax(dim=1, keepdim=True) / 63
    s = torch.where(s == 0, torch.ones_like(s), s)
    return torch.round(w / s) * s, s.squeeze(1)


def quant_rows(x):
    lo = torch.clamp(x.amin(dim=-1, keepdim=True), max=0)
    hi = torch.clamp(x.amax(dim=-1, keepdim=True), min=0)
    s = (hi - lo) / 255
    s = torch.where(s > 0, s, torch.ones_like(s))
    zp = torch.clamp(torch.round(-lo / s), 0, 255)
    q = torch.clamp(torch.round(x * (1 / s)) + zp, 0, 255)
    return (q - zp) * s, s


def bf16(x):
    return x.to(torch.bfloat16).float()


def bf16_ulp2(x):
    """ulp(x)^2 of x's bfloat16 rounding, in float64 (0 for 0)."""
    x = x.double()
    e = torch.floor(torch.log2(x.abs().clamp(min=1e-38)))
    return torch.where(x == 0, torch.zeros_like(x), torch.exp2(2 * (e - 7)))


MODE = {"quant": False, "bounds": None, "recipe": "int8"}


def linear_forward(self, x):
    if not MODE["quant"] and MODE["recipe"] == "bf16":
        out = nn.functional.linear(x, self.weight, self.bias)
        if MODE["bounds"] is not None:
            w, xd = self.weight.detach().double(), x.detach().double()
            b = (2.0 ** -7 + 2.0 ** -16) * (xd.abs() @ w.abs().t())
            v = (bf16_ulp2(xd) @ (w ** 2).t() + (xd ** 2) @ bf16_ulp2(w).t()) / 12
            out.retain_grad()
            MODE["bounds"].append((out, b, v))
        return out
    if MODE["quant"] and MODE["recipe"] == "bf16":
        return nn.functional.linear(bf16(x), bf16(self.weight), self.bias)
    if not MODE["quant"]:
        out = nn.functional.linear(x, self.weight, self.bias)
        if MODE["bounds"] is not None:
            # Record the bound B_l of this product and keep its output for
            # the Jacobian.
            w = self.weight.detach()
            _, sw = quant_weight(w)
            xd = x.detach()
            _, sx = quant_rows(xd)
            # B[i][j] = s_x[i]/2 * sum_p |W[j][p]| + s_w[j]/2 * sum_p |x[i][p]| + 3/4 k s_x[i] s_w[j]
            k = w.shape[1]
            b = (sx / 2) * w.abs().sum(1) + (sw / 2) * xd.abs().sum(-1, keepdim=True) + 0.75 * k * sx * sw
            # The variance of e_l[i][j] when the rounding errors are
            # independent and uniform on [-s/2, s/2] (variance s^2/12).
            v = (sx.double() ** 2 / 12) * (w.double() ** 2).sum(1) + (sw.double() ** 2 / 12) * (xd.double() ** 2).sum(-1, keepdim=True)
            out.retain_grad()
            MODE["bounds"].append((out, b.double(), v))
        return out
    wq, _ = quant_weight(self.weight)
    xq, _ = quant_rows(x)
    return nn.functional.linear(xq, wq, self.bias)


nn.Linear.forward = linear_forward


def main(root):
    for recipe in ("int8", "bf16"):
        MODE["recipe"] = recipe
        run(root, recipe)


def run(root, recipe):
    cases = json.load(open(os.path.join(root, "cases.json")))["cases"]
    for case in cases:
        if case["model_type"] not in BERT_FAMILY:
            continue
        name = case["name"]
        d = os.path.join(root, name)
        cfg = json.load(open(os.path.join(d, "config.json")))
        weights, _ = gen.load_safetensors(os.path.join(d, "model.safetensors"))
        golden, _ = gen.load_safetensors(os.path.join(d, "golden.safetensors"))
        model = reference.from_config(cfg)
        missing, unexpected = model.load_state_dict(weights, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids")]
        if missing or unexpected:
            sys.exit("%s: missing %s unexpected %s" % (name, missing, unexpected))
        model.eval()
        ids, mask = golden["input_ids"], golden["attention_mask"]
        types = golden.get("token_type_ids")
        with torch.no_grad():
            MODE["quant"] = True
            logits_q = model(ids, mask, types, None)[0]
            MODE["quant"] = False
            logits_f = model(ids, mask, types, None)[0]
        # The first-order bound, logit by logit.
        bound = torch.zeros(logits_f.shape, dtype=torch.float64)
        sigma = torch.zeros(logits_f.shape, dtype=torch.float64)
        for r in range(logits_f.shape[0]):
            for c in range(logits_f.shape[1]):
                MODE["bounds"] = []
                model.zero_grad(set_to_none=True)
                out = model(ids, mask, types, None)[0]
                out[r, c].backward()
                tot, var = 0.0, 0.0
                for o, b, v in MODE["bounds"]:
                    if o.grad is not None:
                        tot += (o.grad.double().abs() * b).sum().item()
                        var += (o.grad.double() ** 2 * v).sum().item()
                bound[r, c] = tot
                sigma[r, c] = var ** 0.5
                MODE["bounds"] = None
        diff = (logits_q - logits_f).abs().double()
        if (diff > 2 * bound).any() or (diff > 6 * sigma).any():
            sys.exit("%s %s: fake-quantized logits beyond twice the first-order bound or 6 sigma: %s vs %s, %s" % (name, recipe, diff, bound, sigma))
        out = collections.OrderedDict()
        out["logits." + recipe] = logits_q.float().contiguous()
        out["err.bound"] = bound.float().contiguous()
        out["err.sigma"] = sigma.float().contiguous()
        path = os.path.join(d, "golden-%s.safetensors" % recipe)
        gen.save_safetensors(out, path + ".tmp", {"format": "pt"})
        os.replace(path + ".tmp", path)
        print("%s %s: max |q - f32| %.3g, max bound %.3g, max |q - f32|/sigma %.3g" % (name, recipe, diff.max().item(), bound.max().item(), (diff / sigma).max().item()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/model")
