"""Golden data for textclf's integrated gradients (package explain).

Captum is not installable here (Debian has no package for it), so this
script re-states, with torch autograd, what Captum's
LayerIntegratedGradients does on a transformer's embeddings module
(captum/attr/_core/layer/layer_integrated_gradients.py, integrated_gradients.py,
_utils/approximation_methods.py, _utils/batching.py, following them line by
line):

- the layer's output is computed, with a forward hook, for the inputs and
  for the baselines (`_forward_layer_eval`);
- the points baseline + alpha * (input - baseline) for every alpha, steps
  outer and examples inner (`torch.cat([...] for alpha in alphas], dim=0)`),
  the additional forward arguments repeated n_steps times the same way
  (`_expand_additional_forward_args`), are put in place of the layer's output
  by a forward hook, and `torch.autograd.grad(torch.unbind(output), inputs)`
  gives the gradients of the target's output;
- with internal_batch_size the steps run internal_batch_size // #examples at
  a time and the partial attributions are added (`_batch_attribution`);
- the gradients are multiplied by the step sizes, summed over the steps and
  multiplied by (layer output of the input - that of the baseline);
- the convergence delta is the sum of the attributions minus
  (F(inputs) - F(baselines)) (`compute_convergence_delta`);
- step sizes and alphas: Gauss-Legendre (numpy's leggauss, mapped to [0, 1])
  or the trapezoid rule on numpy's linspace with steps 1/n halved at both
  ends (`approximation_parameters`).

The forward function is the model followed by the softmax (sigmoid for the
multi-label case, nothing for regression) and the target selects one
output, as in Captum's BERT tutorials. The baseline of an input keeps its
special tokens and replaces every other token by the pad token, with the
input's position ids and token types (the tutorials' ref_input_ids with
position_ids and token_type_ids passed as additional forward arguments).

The models are the tiny random checkpoints of testdata/model (written by
scripts/model/gen.py), run with the reference modules of
scripts/model/reference.py. Each case explains a padded batch of 3 inputs.

Run from the repository root with Debian's python3-torch and python3-numpy:

    /usr/bin/python3 scripts/explain/gen.py testdata/explain            # write
    /usr/bin/python3 scripts/explain/gen.py --verify testdata/explain   # regenerate and compare

Nothing is written unless every self-check passes (see testdata/explain/cases.json).
"""
import collections
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "model"))
import reference  # noqa: E402
from genlib import expect, main  # noqa: E402  (self-checks, command line)


def _load_model_gen():
    """scripts/model/gen.py (safetensors and JSON writers, the batch layout),
    under a name of its own."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("modelgen", os.path.join(HERE, "..", "model", "gen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


modelgen = _load_model_gen()

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

MODELS = os.path.join(HERE, "..", "..", "testdata", "model")


# --- position ids given from outside, as transformers' position_ids argument ---

POSITION_IDS = [None]  # the position ids of the current forward call


def bert_embeddings_forward(self, input_ids, token_type_ids):
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    emb = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
    emb = emb + self.position_embeddings(POSITION_IDS[0])
    return self.dropout(self.LayerNorm(emb))


def distil_embeddings_forward(self, input_ids):
    emb = self.word_embeddings(input_ids) + self.position_embeddings(POSITION_IDS[0])
    return self.dropout(self.LayerNorm(emb))


reference.BertEmbeddings.forward = bert_embeddings_forward
reference.DistilEmbeddings.forward = distil_embeddings_forward


# --- Captum's approximation methods ---------------------------------------------

def approximation_parameters(method, n):
    """(step_sizes, alphas) as Captum's approximation_parameters(method)."""
    if method == "gausslegendre":
        assert n > 0
        x, w = np.polynomial.legendre.leggauss(n)
        return list(0.5 * w), list(0.5 * (1 + x))
    if method == "riemann_trapezoid":
        assert n > 1
        deltas = [1 / n] * n
        deltas[0] /= 2
        deltas[-1] /= 2
        return deltas, list(np.linspace(0, 1, n))
    raise ValueError(method)


# --- the model as Captum sees it ------------------------------------------------

class Explained:
    """forward_func(input_ids, token_type_ids, position_ids, attention_mask)
    -> the explained outputs [N, L]; layer is the embeddings module."""

    def __init__(self, model, kind, function):
        self.model, self.kind, self.function = model, kind, function
        self.layer = getattr(model, model.base_prefix).embeddings

    def __call__(self, ids, types, pos, mask):
        POSITION_IDS[0] = pos
        logits, _, _ = self.model(ids, mask, None if self.kind == "distilbert" else types)
        if self.function == "softmax":
            return torch.softmax(logits, dim=-1)
        if self.function == "sigmoid":
            return torch.sigmoid(logits)
        return logits


def layer_eval(f, ids, args):
    """_forward_layer_eval: the layer's output on ids."""
    out = []
    h = f.layer.register_forward_hook(lambda m, i, o: out.append(o.detach()))
    try:
        with torch.no_grad():
            f(ids, *args)
    finally:
        h.remove()
    return out[0]


def ig_chunk(f, ids, args, inputs_layer, baselines_layer, target, step_sizes, alphas):
    """IntegratedGradients._attribute with step_sizes_and_alphas, its
    gradient_func being LayerIntegratedGradients'."""
    n = len(alphas)
    scaled = torch.cat([baselines_layer + a * (inputs_layer - baselines_layer) for a in alphas], dim=0).requires_grad_()
    expanded = [torch.cat([a] * n, dim=0) for a in (ids,) + tuple(args)]
    expanded_target = target * n  # _expand_target for a list
    h = f.layer.register_forward_hook(lambda m, i, o: scaled)
    try:
        with torch.autograd.set_grad_enabled(True):
            out = f(*expanded)
            out = out[torch.arange(out.size(0)), torch.tensor(expanded_target)]  # _select_targets
            grads = torch.autograd.grad(torch.unbind(out), scaled)
    finally:
        h.remove()
    grad = grads[0]
    scaled_grads = grad.contiguous().view(n, -1) * torch.tensor(step_sizes).view(n, 1).to(grad.device)
    # _reshape_and_sum(scaled_grad, n_steps, num_examples, shape)
    total = torch.sum(scaled_grads.reshape((n, grad.shape[0] // n) + tuple(grad.shape[1:])), dim=0)
    return total * (inputs_layer - baselines_layer)


def layer_integrated_gradients(f, ids, base_ids, args, target, n_steps, method, internal_batch_size):
    inputs_layer = layer_eval(f, ids, args)
    baselines_layer = layer_eval(f, base_ids, args)
    step_sizes, alphas = approximation_parameters(method, n_steps)
    num_examples = ids.size(0)
    step_count = max(internal_batch_size, num_examples) // num_examples
    total, done = None, 0
    while done < n_steps:  # _batch_attribution
        end = min(done + step_count, n_steps)
        part = ig_chunk(f, ids, args, inputs_layer, baselines_layer, target, step_sizes[done:end], alphas[done:end])
        total = part if total is None else total + part
        done = end
    with torch.no_grad():  # compute_convergence_delta
        rows = torch.arange(num_examples)
        start = f(base_ids, *args)[rows, torch.tensor(target)]
        finish = f(ids, *args)[rows, torch.tensor(target)]
    delta = total.reshape(num_examples, -1).sum(dim=1) - (finish - start)
    return total, delta, finish, start


# --- cases ----------------------------------------------------------------------

SPECIAL = {"bert": (2, 3), "distilbert": (2, 3), "roberta": (0, 2)}

CASES = [
    # name, model directory, kind, function, lengths, pair rows, RoBERTa types, seed
    ("bert", "bert-single-label", "bert", "softmax", [11, 7, 4], [0], False, 1),
    ("roberta", "roberta-single-label", "roberta", "softmax", [11, 8, 5], [1], True, 2),
    ("distilbert", "distilbert-single-label", "distilbert", "softmax", [10, 6, 3], [], False, 3),
    ("bert-multi-label", "bert-multi-label", "bert", "sigmoid", [9, 5, 11], [], False, 4),
    ("bert-regression", "bert-regression", "bert", "none", [6, 11, 4], [2], False, 5),
]

# (method, n_steps, internal_batch_size as given to Captum)
RUNS = [("gausslegendre", 50, 48), ("riemann_trapezoid", 50, 150), ("gausslegendre", 7, 6)]


def load_model(dirname):
    d = os.path.join(MODELS, dirname)
    import json
    with open(os.path.join(d, "config.json")) as fh:
        cfg = json.load(fh)
    model = reference.from_config(cfg)
    weights, _ = modelgen.load_safetensors(os.path.join(d, "model.safetensors"))
    model.load_state_dict(weights)
    model.eval()
    return cfg, model


def positions(kind, ids, pad):
    if kind == "roberta":
        return reference.create_position_ids_from_input_ids(ids, pad)
    return torch.arange(ids.size(1)).expand(ids.size(0), -1).clone()


def baseline_ids(kind, ids, mask, pad):
    special = torch.zeros_like(ids, dtype=torch.bool)
    for s in SPECIAL[kind]:
        special |= ids == s
    special &= mask.bool()
    base = torch.where(special, ids, torch.full_like(ids, pad))
    return base, special


def run_case(case, dtype=torch.float32):
    name, dirname, kind, function, lengths, pairs, rtypes, seed = case
    cfg, model = load_model(dirname)
    model = model.to(dtype)
    g = torch.Generator().manual_seed(seed)
    ids, mask, types = modelgen.encode(kind, g, lengths, pairs, rtypes)
    pad = cfg.get("pad_token_id", 0)
    base, special = baseline_ids(kind, ids, mask, pad)
    pos = positions(kind, ids, pad)
    f = Explained(model, kind, function)
    args = (types, pos, mask)
    with torch.no_grad():
        pred = f(ids, *args).argmax(dim=-1).tolist()
    L = len(cfg["id2label"])
    # Row 0 explains its prediction, the others a given label.
    target = [pred[0]] + [(pred[r] + r) % L for r in range(1, len(lengths))]
    results = []
    for method, n, ibs in RUNS:
        attr, delta, fin, fbase = layer_integrated_gradients(f, ids, base, args, target, n, method, ibs)
        results.append((method, n, ibs, attr, delta, fin, fbase))
    return dict(ids=ids, mask=mask, types=types, special=special, pos=pos, base=base, target=target, pred=pred,
                results=results, model=model, f=f, kind=kind, function=function, pad=pad)


def generate(root):
    index, outputs = [], []
    for case in CASES:
        name = case[0]
        r32 = run_case(case)
        r64 = run_case(case, torch.float64)
        golden = collections.OrderedDict()
        golden["input_ids"] = r32["ids"]
        golden["attention_mask"] = r32["mask"]
        golden["token_type_ids"] = r32["types"]
        golden["special_tokens_mask"] = r32["special"].long()
        golden["baseline_ids"] = r32["base"]
        golden["position_ids"] = r32["pos"]
        golden["targets"] = torch.tensor(r32["target"])
        checks = collections.OrderedDict()
        runs = []
        for (method, n, ibs, attr, delta, fin, fbase), (_, _, _, a64, d64, fin64, fb64) in zip(r32["results"], r64["results"]):
            key = "%s.%d" % (method, n)
            tok = attr.sum(dim=-1)  # per token: the sum over the hidden dimension
            tok64 = a64.sum(dim=-1)
            # With Gauss-Legendre, Captum's step sizes are numpy float64
            # scalars, so torch promotes the sums to float64; stored as F32.
            golden["attributions." + key] = tok.float()
            golden["delta." + key] = delta.float()
            golden["output." + key] = fin.float()
            golden["baseline_output." + key] = fbase.float()
            # Self-checks: float32 against float64 (relative to the largest
            # |attribution| of each row), and completeness.
            worst = 0.0
            for b in range(tok.size(0)):
                scale = tok64[b].abs().max().item()
                worst = max(worst, (tok[b].double() - tok64[b]).abs().max().item() / scale)
            checks["f32_vs_f64_" + key] = worst
            expect(worst < 1e-5, "%s %s: float32 reference off float64 by %.2e" % (name, key, worst))
            rel = (d64.abs() / (fin64 - fb64).abs()).max().item()
            checks["completeness_f64_" + key] = rel
            # Completeness within 1 % at 50 Gauss-Legendre steps holds where
            # the path integrand is smooth. DistilBERT's head has a ReLU
            # (pre_classifier): its kinks on the path slow the quadrature's
            # convergence (one row of this case is at 1.3 %; at 100 steps
            # all are under 1 %), so there the delta is recorded, not bounded.
            if method == "gausslegendre" and n == 50 and r32["kind"] != "distilbert":
                expect(rel <= 0.01, "%s %s: |delta| is %.2e of |F(x)-F(baseline)|" % (name, key, rel))
            expect(tok[r32["mask"] == 0].abs().max().item() == 0 if (r32["mask"] == 0).any() else True,
                   "%s: padding has attributions" % name)
            runs.append(collections.OrderedDict([("method", method), ("steps", n), ("captum_internal_batch_size", ibs)]))
        # Each row explained alone (no padding) equals its row of the batch.
        worst = 0.0
        for b in range(r32["ids"].size(0)):
            n = int(r32["mask"][b].sum())
            ids1, types1, pos1, mask1 = (t[b:b + 1, :n] for t in (r32["ids"], r32["types"], r32["pos"], r32["mask"]))
            base1 = r32["base"][b:b + 1, :n]
            method, steps, ibs = RUNS[0]
            attr1, _, _, _ = layer_integrated_gradients(r32["f"], ids1, base1, (types1, pos1, mask1), [r32["target"][b]],
                                                         steps, method, steps)
            tok1 = attr1.sum(dim=-1)[0]
            full = golden["attributions.%s.%d" % (method, steps)][b, :n]
            worst = max(worst, ((tok1 - full).abs().max() / full.abs().max()).item())
        checks["alone_vs_padded"] = worst
        expect(worst < 1e-5, "%s: a row alone differs from the padded batch by %.2e" % (name, worst))
        # The explained output moves from baseline to input by enough that
        # completeness means something.
        gl = golden["output.gausslegendre.50"] - golden["baseline_output.gausslegendre.50"]
        checks["min_abs_output_change"] = gl.abs().min().item()
        expect(gl.abs().min().item() > 1e-3, "%s: F(x) - F(baseline) is tiny (%.2e)" % (name, gl.abs().min().item()))
        index.append(collections.OrderedDict([
            ("name", name), ("model", "testdata/model/" + case[1]), ("kind", case[2]), ("function", case[3]),
            ("lengths", case[4]), ("predicted", r32["pred"]), ("targets", r32["target"]), ("runs", runs),
            ("self_checks", collections.OrderedDict((k, float("%.3g" % v)) for k, v in checks.items())),
        ]))
        outputs.append((name, golden))
        print("%-18s %s" % (name, "  ".join("%s=%.2g" % (k, v) for k, v in checks.items())))

    quad = collections.OrderedDict()
    for method, ns in (("gausslegendre", [1, 2, 3, 4, 7, 16, 50, 64, 100, 257]), ("riemann_trapezoid", [2, 3, 7, 50, 100])):
        for n in ns:
            steps, alphas = approximation_parameters(method, n)
            quad["%s.%d" % (method, n)] = collections.OrderedDict(
                [("alphas", [float(a) for a in alphas]), ("step_sizes", [float(s) for s in steps])])

    os.makedirs(root, exist_ok=True)
    for name, golden in outputs:
        modelgen.save_safetensors(golden, os.path.join(root, name + ".safetensors"), {"case": name})
    modelgen.write_json(quad, os.path.join(root, "quadrature.json"))
    modelgen.write_json({"generator": "scripts/explain/gen.py", "torch": torch.__version__.split("+")[0],
                         "numpy": np.__version__, "runs": [list(r) for r in RUNS], "cases": index},
                        os.path.join(root, "cases.json"))


if __name__ == "__main__":
    sys.exit(main(sys.argv, generate, __doc__))
