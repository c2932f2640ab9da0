#!/usr/bin/python3
"""Golden data for textclf's training loop (package train).

Run with Debian's python3-torch (PyTorch 1.13), from the repository root:

    /usr/bin/python3 scripts/train/gen.py testdata/train            # (re)write
    /usr/bin/python3 scripts/train/gen.py --verify testdata/train   # regenerate into a temp dir, compare bytes

It fine-tunes the tiny BERT of scripts/model/reference.py (hidden 32, 2 layers,
4 heads, intermediate 37, vocab 99, dropout 0) for a few optimizer steps the
way transformers' Trainer does (4.46, default optim "adamw_torch"):

  - torch.optim.AdamW with two parameter groups: weight decay for every
    parameter except biases and LayerNorm parameters (get_decay_parameter_names:
    parameters outside nn.LayerNorm modules whose name has no "bias"), none for
    those;
  - the LR schedules of transformers/optimization.py (LambdaLR; linear and
    cosine with warmup, constant); warmup_ratio gives ceil(total * ratio)
    warmup steps (TrainingArguments.get_warmup_steps);
  - per micro-batch: loss / gradient_accumulation_steps, backward (BERT's
    forward takes no loss kwargs, so the Trainer divides);
  - per optimizer step: clip_grad_norm_(model.parameters(), max_grad_norm)
    (its return value, the pre-clip global norm, is the logged grad_norm),
    optimizer.step(), lr_scheduler.step(), model.zero_grad();
  - logged loss of a step = the sum of its micro-batches' divided losses
    (the mean micro-batch loss), logged LR = the LR that step used.

Each case directory testdata/train/<case>/ gets config.json, model.safetensors
(initial weights), batches.safetensors, hparams.json and expected.safetensors;
the case "resume" also gets state-step2.safetensors. testdata/train/cases.json
records the self-checks (see check_case): float64 drift, an independent AdamW,
the resume round trip, clipping margins and how much typical mistakes move
the outputs. Nothing is written unless every check passes; files are written
to a temporary name and renamed.
"""
import collections
import copy
import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in scripts/ (the repository does not ignore it)

import torch  # noqa: E402

import importlib.util  # noqa: E402

# scripts/model/gen.py (configs, weight init, encoding) is
# loaded under its own name: this file is also called gen.py.
MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model")
sys.path.insert(0, MODEL_DIR)
_spec = importlib.util.spec_from_file_location("modelgen", os.path.join(MODEL_DIR, "gen.py"))
modelgen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(modelgen)  # also sets deterministic algorithms, 1 thread
import reference  # noqa: E402
from genlib import expect, load_safetensors, main, save_safetensors, write_json  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

BETAS = (0.9, 0.999)
EPS = 1e-8
CLIP_EPS = 1e-6  # clip_grad_norm_: coef = max_norm / (norm + 1e-6)
GO_TOLERANCE = 1e-4  # what the Go test compares the final weights with
CLIP_MARGIN = 0.02  # every pre-clip norm at least 2% away from max_grad_norm


# --- transformers' schedules (optimization.py) ----------------------------------

def lr_lambda(schedule, warmup, total):
    """The multiplier transformers' get_*_schedule* gives LambdaLR."""
    def linear(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))

    def cosine(step, num_cycles=0.5):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))

    def constant(step):
        return 1.0

    def constant_with_warmup(step):
        if step < warmup:
            return float(step) / float(max(1.0, warmup))
        return 1.0

    return {"linear": linear, "cosine": cosine, "constant": constant,
            "constant_with_warmup": constant_with_warmup}[schedule]


def warmup_steps(hp):
    """TrainingArguments.get_warmup_steps."""
    if hp["warmup_steps"] > 0:
        return hp["warmup_steps"]
    return math.ceil(hp["total_steps"] * hp["warmup_ratio"])


def decay_parameter_names(model):
    """Trainer.get_decay_parameter_names: parameters not inside an nn.LayerNorm
    (transformers' ALL_LAYERNORM_LAYERS) and without "bias" in their name."""
    def names(module):
        out = []
        for child_name, child in module.named_children():
            if isinstance(child, torch.nn.LayerNorm):
                continue
            out += ["%s.%s" % (child_name, n) for n in names(child)]
        out += list(module._parameters.keys())
        return out
    return [n for n in names(model) if "bias" not in n]


# --- cases -------------------------------------------------------------------

SENTIMENT = ["negative", "neutral", "positive"]
TOPICS = ["sports", "politics", "science", "arts"]

BASE = dict(lr=5e-4, weight_decay=0.01, betas=list(BETAS), eps=EPS, warmup_steps=0, warmup_ratio=0.0,
            max_grad_norm=1.0, grad_accum=1, batch_size=4)

# The classifier as transformers initialises a new head (normal, std
# initializer_range); the rest is modelgen.init_weights' perturbed init. Seeds
# are chosen so that the pre-clip norm is above max_grad_norm on some steps and
# below it on others (both branches of clipping run), never within 2% of it.
NEW_HEAD = {"classifier.weight": 0.02}

CASES = [
    dict(name="linear-warmup", seed=18, weight_std=NEW_HEAD, labels=SENTIMENT, problem_type="single_label_classification",
         hp=dict(BASE, schedule="linear", warmup_steps=2, total_steps=5),
         note="single-label (3 classes), 5 steps of 4, linear schedule with 2 warmup steps (step 1 has LR 0), "
              "weight decay 0.01, clipping at 1.0"),
    dict(name="cosine-accum", seed=1, weight_std=NEW_HEAD, labels=SENTIMENT, problem_type="single_label_classification",
         hp=dict(BASE, schedule="cosine", warmup_ratio=0.2, total_steps=5, grad_accum=2, weight_decay=0.0),
         note="cosine schedule, warmup_ratio 0.2 (ceil(5 * 0.2) = 1 warmup step), gradient accumulation 2: "
              "10 micro-batches of 4, 5 steps; no weight decay"),
    dict(name="multi-label", seed=4, weight_std={"classifier.weight": 0.1}, labels=TOPICS, problem_type="multi_label_classification",
         hp=dict(BASE, schedule="constant", total_steps=3, lr=1e-3, weight_decay=0.1),
         note="multi-label (4 labels, BCEWithLogits, problem_type in the config), constant schedule, 3 steps; "
              "lr 1e-3 and weight decay 0.1 so that decoupled decay moves weights by more than the tolerance; "
              "classifier std 0.1 (0.02 keeps every grad norm below 1)"),
    dict(name="regression", seed=16, weight_std=NEW_HEAD, labels=["LABEL_0"], problem_type="regression",
         hp=dict(BASE, schedule="constant", total_steps=3, lr=1e-3, weight_decay=0.1),
         note="regression (num_labels 1, MSE on squeezed logits), constant schedule, 3 steps, "
              "lr 1e-3, weight decay 0.1"),
    dict(name="resume", seed=18, weight_std=NEW_HEAD, labels=SENTIMENT, problem_type="single_label_classification",
         hp=dict(BASE, schedule="linear", warmup_steps=2, total_steps=5), save_after=2,
         note="linear-warmup again (same seed, weights and data), plus the full training state after step 2 "
              "in state-step2.safetensors; 2 steps + resume + 3 steps must equal 5 straight"),
]


def config_for(case):
    kw = {}
    if case["problem_type"] == "multi_label_classification":
        kw["problem_type"] = "multi_label_classification"
    return modelgen.bert_config(case["labels"], **kw)


def make_batches(case, g):
    """Micro-batches of batch_size rows, BERT layout ([CLS] a [SEP] (b [SEP])),
    right-padded to the batch's longest row; every micro-batch has its own
    padded length (all different). Some rows are sentence
    pairs (token types 1 on the second segment)."""
    hp = case["hp"]
    n = hp["total_steps"] * hp["grad_accum"]
    B = hp["batch_size"]
    L = len(case["labels"])
    pool = list(range(6, 19))  # padded lengths, max_position_embeddings is 40
    perm = torch.randperm(len(pool), generator=g).tolist()
    batches = []
    for i in range(n):
        T = pool[perm[i % len(pool)]]
        lengths = [T] + [int(x) for x in torch.randint(3, T + 1, (B - 1,), generator=g)]
        order = torch.randperm(B, generator=g).tolist()  # the longest row is not always row 0
        lengths = [lengths[j] for j in order]
        pairs = [r for r in range(B) if lengths[r] >= 5 and torch.rand((), generator=g).item() < 0.5]
        ids, mask, types = modelgen.encode("bert", g, lengths, pairs)
        labels = modelgen.make_labels(case["problem_type"], g, B, L)
        batches.append((ids, mask, types, labels))
    Ts = [b[0].size(1) for b in batches]
    expect(len(set(Ts)) == min(len(Ts), len(pool)), "%s: padded lengths repeat: %s" % (case["name"], Ts))
    return batches


# --- the Trainer's loop --------------------------------------------------------

def make_optimizer(model, hp, impl="torch", decay_all=False, coupled=False):
    decay = set(decay_parameter_names(model))
    named = list(model.named_parameters())
    if decay_all:
        decay = set(n for n, _ in named)
    groups = [
        {"params": [p for n, p in named if n in decay], "weight_decay": hp["weight_decay"]},
        {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0},
    ]
    if impl == "torch":
        if coupled:  # a mistake variant: Adam with L2 in the gradient instead of decoupled decay
            return torch.optim.Adam(groups, lr=hp["lr"], betas=tuple(hp["betas"]), eps=hp["eps"])
        return torch.optim.AdamW(groups, lr=hp["lr"], betas=tuple(hp["betas"]), eps=hp["eps"], foreach=False)
    return ManualAdamW(groups, hp, **({"bias_correction": False} if impl == "no-bias-correction" else {}))


class ManualAdamW:
    """AdamW written out from Loshchilov & Hutter / torch's documented update,
    independent of torch.optim, to cross-check it (and for mistake variants)."""

    def __init__(self, groups, hp, bias_correction=True):
        self.param_groups = [dict(g, lr=hp["lr"]) for g in groups]
        self.b1, self.b2 = hp["betas"]
        self.eps = hp["eps"]
        self.bias_correction = bias_correction
        self.t = 0
        self.m = {}
        self.v = {}

    def step(self):
        self.t += 1
        with torch.no_grad():
            for grp in self.param_groups:
                lr, wd = grp["lr"], grp["weight_decay"]
                for p in grp["params"]:
                    g = p.grad
                    m = self.m.get(p, torch.zeros_like(p)) * self.b1 + (1 - self.b1) * g
                    v = self.v.get(p, torch.zeros_like(p)) * self.b2 + (1 - self.b2) * g * g
                    self.m[p], self.v[p] = m, v
                    if self.bias_correction:
                        mh, vh = m / (1 - self.b1 ** self.t), v / (1 - self.b2 ** self.t)
                    else:
                        mh, vh = m, v
                    p.copy_(p * (1 - lr * wd) - lr * mh / (vh.sqrt() + self.eps))


def train(model, batches, hp, steps=None, start=0, opt=None, impl="torch", mistake=None):
    """Runs optimizer steps start+1 .. start+steps (global step numbers) the
    way the Trainer does. Returns (log, opt): log[k] = (loss, lr, grad_norm,
    clipped) for global step k."""
    total = hp["total_steps"]
    steps = total - start if steps is None else steps
    ga = hp["grad_accum"]
    if opt is None:
        opt = make_optimizer(model, hp, impl=impl, decay_all=(mistake == "decay-all"),
                             coupled=(mistake == "coupled-l2"))
        if mistake == "no-weight-decay":
            for grp in opt.param_groups:
                grp["weight_decay"] = 0.0
    lam = lr_lambda(hp["schedule"], warmup_steps(hp), total)
    base = hp["lr"]
    log = collections.OrderedDict()
    model.zero_grad(set_to_none=True)
    for k in range(start + 1, start + steps + 1):
        sched_step = k - 1  # LambdaLR's last_epoch when step k runs
        if mistake == "lr-after-step":
            sched_step = k  # the LR the Trainer logs after stepping, used one step early
        lr = base * lam(sched_step)
        for grp in opt.param_groups:
            grp["lr"] = lr
        tr_loss = None
        for j in range(ga):
            ids, mask, types, labels = batches[(k - 1) * ga + j]
            _, loss, _ = model(ids, mask, types, labels.to(next(model.parameters()).dtype)
                               if labels.is_floating_point() else labels)
            if mistake != "accum-sum":
                loss = loss / ga
            loss.backward()
            tr_loss = loss.detach() if tr_loss is None else tr_loss + loss.detach()
        if mistake == "no-clipping":
            norm = torch.norm(torch.stack([torch.norm(p.grad.detach(), 2.0) for p in model.parameters()]), 2.0)
        else:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), hp["max_grad_norm"])
        opt.step()
        model.zero_grad(set_to_none=False)
        log[k] = (tr_loss.reshape(()), lr, norm.detach().reshape(()), norm.item() > hp["max_grad_norm"])
    return log, opt


def build(case, dtype=torch.float32):
    cfg = config_for(case)
    g = torch.Generator().manual_seed(case["seed"])
    model = reference.from_config(cfg)
    modelgen.init_weights(model, cfg, g, case.get("weight_std"))
    batches = make_batches(case, g)
    model.train()  # every dropout probability is 0
    if dtype != torch.float32:
        model.to(dtype)
    return cfg, model, batches


def params_of(model):
    return collections.OrderedDict((n, p.detach().clone()) for n, p in model.named_parameters())


def key_bias_names(model):
    """Parameters whose gradient is 0 in exact arithmetic (softmax ignores a
    per-query constant added to every score) but float noise in practice;
    Adam normalises that noise into LR-sized steps of random sign."""
    return [n for n, _ in model.named_parameters() if n.endswith("attention.self.key.bias")]


def max_abs_diff(a, b, skip=()):
    return max(((a[n].double() - b[n].double()).abs().max().item() for n in a if n not in skip), default=0.0)


# --- state save / resume -------------------------------------------------------

def training_state(model, opt, step):
    """The tensors a checkpoint needs to continue exactly: weights, AdamW
    moments and step count, scheduler step (= optimizer steps taken)."""
    st = collections.OrderedDict()
    idx = {id(p): n for n, p in model.named_parameters()}
    for n, p in model.named_parameters():
        st["weight." + n] = p.detach().clone()
    for grp in opt.param_groups:
        for p in grp["params"]:
            s = opt.state[p]
            n = idx[id(p)]
            st["exp_avg." + n] = s["exp_avg"].clone()
            st["exp_avg_sq." + n] = s["exp_avg_sq"].clone()
            expect(int(s["step"].item()) == step, "optimizer step of %s" % n)
    st["optimizer_step"] = torch.tensor(step, dtype=torch.int64)
    st["scheduler_step"] = torch.tensor(step, dtype=torch.int64)
    return st


def resume_from(case, state, hp):
    """A fresh model and optimizer built only from what state holds."""
    cfg = config_for(case)
    model = reference.from_config(cfg)
    model.train()
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(state["weight." + n])
    opt = make_optimizer(model, hp)
    step = int(state["optimizer_step"].item())
    for n, p in model.named_parameters():
        opt.state[p] = {"step": torch.tensor(float(step)), "exp_avg": state["exp_avg." + n].clone(),
                        "exp_avg_sq": state["exp_avg_sq." + n].clone()}
    return model, opt, int(state["scheduler_step"].item())


# --- checks --------------------------------------------------------------------

MISTAKES = ["no-weight-decay", "decay-all", "coupled-l2", "no-clipping", "lr-after-step", "no-bias-correction",
            "accum-sum"]


def check_case(case, cfg, model0, batches, final, log):
    hp = case["hp"]
    res = collections.OrderedDict()
    kb = key_bias_names(model0)
    total = hp["total_steps"]

    # Groups as the Trainer makes them.
    decay = set(decay_parameter_names(model0))
    for n, _ in model0.named_parameters():
        want = not (n.endswith("bias") or "LayerNorm" in n)
        expect((n in decay) == want, "decay group of %s" % n)

    # The schedule against values worked out by hand.
    lrs = [log[k][1] for k in log]
    want = {"linear-warmup": [0, 2.5e-4, 5e-4, 5e-4 * 2 / 3, 5e-4 / 3],
            "resume": [0, 2.5e-4, 5e-4, 5e-4 * 2 / 3, 5e-4 / 3],
            "cosine-accum": [0] + [5e-4 * 0.5 * (1 + math.cos(math.pi * i / 4)) for i in range(4)],
            "multi-label": [1e-3] * 3, "regression": [1e-3] * 3}[case["name"]]
    expect(all(abs(a - b) <= 1e-15 for a, b in zip(lrs, want)) and len(lrs) == len(want),
           "%s: LRs %s, want %s" % (case["name"], lrs, want))

    # The same LRs from torch's LambdaLR driven as the Trainer drives it.
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=hp["lr"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(hp["schedule"], warmup_steps(hp), total))
    for k in log:
        expect(opt.param_groups[0]["lr"] == log[k][1], "%s: LambdaLR gives another LR at step %d" % (case["name"], k))
        opt.step()
        sched.step()

    # Clipping: triggers at least once, and no norm so close to max_grad_norm
    # that float noise could flip the decision.
    norms = [log[k][2].item() for k in log]
    clipped = [log[k][3] for k in log]
    expect(any(clipped) and not all(clipped), "%s: clipping should trigger on some steps only: %s"
           % (case["name"], norms))
    margin = min(abs(x - hp["max_grad_norm"]) / hp["max_grad_norm"] for x in norms)
    expect(margin >= CLIP_MARGIN, "%s: a grad norm is within %.3g of max_grad_norm" % (case["name"], margin))
    res["clipped_steps"] = [k for k in log if log[k][3]]
    res["clip_margin"] = margin

    # float64: the same training, same initial weights and data.
    _, m64, _ = build(case, torch.float64)
    with torch.no_grad():
        for (n, p), (_, p0) in zip(m64.named_parameters(), model0.named_parameters()):
            p.copy_(p0.double())
    log64, _ = train(m64, batches, hp)
    f64 = params_of(m64)
    res["f64_final_max_abs"] = max_abs_diff(final, f64, skip=kb)
    res["f64_key_bias_max_abs"] = max_abs_diff({n: final[n] for n in kb}, f64)
    res["f64_loss_max_rel"] = max(abs(log[k][0].item() - log64[k][0].item()) / abs(log64[k][0].item()) for k in log)
    res["f64_grad_norm_max_rel"] = max(abs(log[k][2].item() - log64[k][2].item()) / log64[k][2].item()
                                       for k in log)
    expect([log64[k][3] for k in log64] == clipped, "%s: float64 clips on other steps" % case["name"])
    expect(res["f64_final_max_abs"] <= GO_TOLERANCE / 10,
           "%s: float32 drifts %.3g from float64" % (case["name"], res["f64_final_max_abs"]))
    lr_sum = sum(lrs)
    res["lr_sum"] = lr_sum
    init = params_of(model0)
    kb_move = max_abs_diff({n: final[n] for n in kb}, init)
    res["key_bias_float32_move"] = kb_move
    expect(kb_move <= lr_sum * 1.05, "%s: key bias moved %.3g > sum of LRs" % (case["name"], kb_move))
    kb_move64 = max_abs_diff({n: f64[n] for n in kb}, {n: init[n].double() for n in kb})
    expect(kb_move64 <= 1e-9, "%s: key bias moved %.3g in float64" % (case["name"], kb_move64))

    # An independent AdamW (float64, written out here) against torch's, in float64.
    _, mm, _ = build(case, torch.float64)
    with torch.no_grad():
        for (n, p), (_, p0) in zip(mm.named_parameters(), model0.named_parameters()):
            p.copy_(p0.double())
    logm, _ = train(mm, batches, hp, impl="manual")
    res["manual_adamw_vs_torch_f64_max_abs"] = max_abs_diff(params_of(mm), f64, skip=kb)
    expect(res["manual_adamw_vs_torch_f64_max_abs"] <= 1e-10, "%s: manual AdamW differs from torch's by %.3g"
           % (case["name"], res["manual_adamw_vs_torch_f64_max_abs"]))

    # Mistakes a Go loop could make, in float64 against the float64 run:
    # max |final weight difference| (key biases left out) and the largest change
    # of a logged loss / grad_norm.
    sens = collections.OrderedDict()
    for mistake in MISTAKES:
        if mistake == "accum-sum" and hp["grad_accum"] == 1:
            continue
        if mistake in ("no-weight-decay", "decay-all", "coupled-l2") and hp["weight_decay"] == 0:
            continue
        if mistake == "lr-after-step" and hp["schedule"] == "constant":
            continue
        _, mx, _ = build(case, torch.float64)
        with torch.no_grad():
            for (n, p), (_, p0) in zip(mx.named_parameters(), model0.named_parameters()):
                p.copy_(p0.double())
        if mistake == "no-bias-correction":
            logx, _ = train(mx, batches, hp, impl="no-bias-correction")
        else:
            logx, _ = train(mx, batches, hp, mistake=mistake)
        d = max_abs_diff(params_of(mx), f64, skip=kb)
        sens[mistake] = collections.OrderedDict([
            ("final_max_abs", d), ("exceeds_go_tolerance", d > GO_TOLERANCE),
            ("loss_max_abs", max(abs(logx[k][0].item() - log64[k][0].item()) for k in log)),
            ("grad_norm_max_abs", max(abs(logx[k][2].item() - log64[k][2].item()) for k in log)),
        ])
    res["mistakes"] = sens
    return res


def check_resume(case, batches, final, log, state):
    """2 steps, state through a safetensors file, fresh objects, 3 steps:
    must equal the straight run bit for bit."""
    import tempfile
    hp = case["hp"]
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "s.safetensors")
        save_safetensors(state, p, {"format": "pt"})
        back, _ = load_safetensors(p)
    model, opt, sched_step = resume_from(case, back, hp)
    expect(sched_step == case["save_after"], "scheduler step")
    log2, _ = train(model, batches, hp, start=sched_step, opt=opt)
    got = params_of(model)
    expect(all(torch.equal(got[n], final[n]) for n in final), "resume: 2 + 3 steps differ from 5 straight")
    for k in log2:
        expect(torch.equal(log2[k][0], log[k][0]) and log2[k][1] == log[k][1] and torch.equal(log2[k][2], log[k][2]),
               "resume: logged values of step %d differ" % k)
    return "bitwise equal"


# --- generation ----------------------------------------------------------------

def run_case(case):
    cfg, model, batches = build(case)
    init = copy.deepcopy(model)
    weights0 = collections.OrderedDict((n, t.detach().clone()) for n, t in model.state_dict().items())
    hp = case["hp"]
    state = None
    if case.get("save_after"):
        log_a, opt = train(model, batches, hp, steps=case["save_after"])
        state = training_state(model, opt, case["save_after"])
        log_b, _ = train(model, batches, hp, start=case["save_after"], opt=opt)
        log = collections.OrderedDict(list(log_a.items()) + list(log_b.items()))
    else:
        log, _ = train(model, batches, hp)
    final = params_of(model)
    expect(list(final) == list(weights0), "%s: parameters and state_dict differ" % case["name"])
    res = check_case(case, cfg, init, batches, final, log)
    if state is not None:
        res["resume"] = check_resume(case, batches, final, log, state)

    bt = collections.OrderedDict()
    for i, (ids, mask, types, labels) in enumerate(batches):
        bt["input_ids.%d" % i] = ids
        bt["attention_mask.%d" % i] = mask
        bt["token_type_ids.%d" % i] = types
        bt["labels.%d" % i] = labels
    exp = collections.OrderedDict()
    for n, t in final.items():
        exp["final." + n] = t
    for k, (loss, lr, norm, _) in log.items():
        exp["loss.%d" % k] = loss.float()
        exp["lr.%d" % k] = torch.tensor(lr, dtype=torch.float64)
        exp["grad_norm.%d" % k] = norm.float()
    hparams = collections.OrderedDict(sorted(hp.items()))
    hparams["warmup_steps"] = warmup_steps(hp)
    hparams["problem_type"] = case["problem_type"]
    hparams["micro_batches"] = len(batches)
    return cfg, weights0, bt, hparams, exp, state, res, log


def fmt(x):
    if isinstance(x, float):
        return float("%.3g" % x)
    if isinstance(x, dict):
        return collections.OrderedDict((k, fmt(v)) for k, v in x.items())
    if isinstance(x, list):
        return [fmt(v) for v in x]
    return x


def generate(root):
    outputs, index, results = [], [], []
    for case in CASES:
        cfg, weights0, bt, hparams, exp, state, res, log = run_case(case)
        results.append(res)
        outputs.append((case, cfg, weights0, bt, hparams, exp, state))
        index.append(collections.OrderedDict([
            ("name", case["name"]), ("note", case["note"]),
            ("steps", [collections.OrderedDict([("step", k), ("loss", round(v[0].item(), 6)), ("lr", v[1]),
                                                ("grad_norm", round(v[2].item(), 6)), ("clipped", v[3])])
                       for k, v in log.items()]),
            ("noise_driven", key_bias_names(reference.from_config(cfg))),
            ("self_checks", fmt(res)),
        ]))
        print("%-14s loss %s  grad_norm %s  f32-f64 %.1e  key-bias move %.1e" % (
            case["name"], " ".join("%.4f" % v[0].item() for v in log.values()),
            " ".join("%.3f" % v[2].item() for v in log.values()), res["f64_final_max_abs"],
            res["key_bias_float32_move"]))
        print("%-14s mistakes: %s" % ("", "  ".join("%s=%.1e/%.1e/%.1e" % (m, v["final_max_abs"], v["loss_max_abs"],
                                                                         v["grad_norm_max_abs"])
                                                   for m, v in res["mistakes"].items())))

    # Every mistake must move some case's final weights by more than the Go
    # test's tolerance (the logged loss / grad_norm catch more).
    for mistake in MISTAKES:
        worst = max(r["mistakes"][mistake]["final_max_abs"] for r in results if mistake in r["mistakes"])
        expect(worst > 1.2 * GO_TOLERANCE, "mistake %s moves the final weights by only %.3g" % (mistake, worst))

    # Same seed, same training: resume's 5-step reference is linear-warmup's.
    by = {o[0]["name"]: o for o in outputs}
    a, b = by["linear-warmup"][5], by["resume"][5]
    expect(set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a), "resume differs from linear-warmup")

    for case, cfg, weights0, bt, hparams, exp, state in outputs:
        d = os.path.join(root, case["name"])
        os.makedirs(d, exist_ok=True)
        meta = {"format": "pt"}
        write_json(cfg, os.path.join(d, "config.json"))
        write_json(hparams, os.path.join(d, "hparams.json"))
        files = [("model.safetensors", weights0, meta),
                 ("batches.safetensors", bt, {"format": "pt", "case": case["name"]}),
                 ("expected.safetensors", exp, {"format": "pt", "case": case["name"]})]
        if state is not None:
            files.append(("state-step2.safetensors", state, {"format": "pt", "case": case["name"]}))
        for fname, tensors, md in files:
            p = os.path.join(d, fname)
            save_safetensors(tensors, p, md)
            back, _ = load_safetensors(p)
            expect(set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors),
                   "%s/%s: read-back differs" % (case["name"], fname))
    write_json(collections.OrderedDict([("generator", "scripts/train/gen.py"),
                                        ("torch", torch.__version__.split("+")[0]), ("cases", index)]),
               os.path.join(root, "cases.json"))


if __name__ == "__main__":
    sys.exit(main(sys.argv, generate, __doc__, complete=True))
