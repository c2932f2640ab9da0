#!/usr/bin/python3
"""Golden data for textclf's decoders (GPT-2, Llama, Qwen2, Mistral) and
ModernBERT, from reference_decoders.py (written from transformers' modeling
files). Run with Debian's python3-torch from the repository root:

    /usr/bin/python3 scripts/model/gen_decoders.py testdata/model
    /usr/bin/python3 scripts/model/gen_decoders.py --verify testdata/model

For each case it writes testdata/model/<case>/ (config.json, model.safetensors,
golden.safetensors with input_ids, attention_mask, labels, logits, loss and
grad.<name> for every parameter) and testdata/model/cases-decoders.json. The
batches are padded on the right or, for decoders, on the left (pad ids at the
start, attention mask 0 there). Before writing it checks the reference: every
row alone gives its batched logits where transformers' models are padding
invariant (right padding; left padding with rotary positions), float32 vs
float64, and that the logits change by more than 2.5e-4 when the thing a case
is about is done wrong. --verify regenerates into a temporary directory and
compares byte for byte.
"""
import collections
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402  (safetensors writer, json writer, label helpers)
import reference_decoders as ref  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

VOCAB, HIDDEN, HEADS, INTER, MAX_POS = 99, 32, 4, 37, 40
SENTIMENT = ["negative", "neutral", "positive"]
TOPICS = ["sports", "politics", "science", "arts"]


def labels_cfg(names):
    return {"id2label": {str(i): n for i, n in enumerate(names)}, "label2id": {n: i for i, n in enumerate(names)}}


def gpt2_config(names, **kw):
    cfg = {"activation_function": "gelu_new", "architectures": ["GPT2ForSequenceClassification"], "attn_pdrop": 0.0,
           "bos_token_id": 98, "embd_pdrop": 0.0, "eos_token_id": 98, "initializer_range": 0.02,
           "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_embd": HIDDEN, "n_head": HEADS, "n_inner": None,
           "n_layer": 2, "n_positions": MAX_POS, "pad_token_id": 0, "reorder_and_upcast_attn": False,
           "resid_pdrop": 0.0, "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
           "torch_dtype": "float32", "transformers_version": gen.TRANSFORMERS_VERSION, "use_cache": True,
           "vocab_size": VOCAB}
    cfg.update(labels_cfg(names))
    cfg.update(kw)
    return {k: v for k, v in cfg.items() if v != "DELETE"}


def llama_config(names, kind="llama", **kw):
    arch = {"llama": "LlamaForSequenceClassification", "qwen2": "Qwen2ForSequenceClassification",
            "mistral": "MistralForSequenceClassification"}[kind]
    cfg = {"architectures": [arch], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
           "hidden_act": "silu", "hidden_size": HIDDEN, "initializer_range": 0.02, "intermediate_size": INTER,
           "max_position_embeddings": MAX_POS, "model_type": kind, "num_attention_heads": HEADS,
           "num_hidden_layers": 2, "num_key_value_heads": 2, "pad_token_id": 0, "rms_norm_eps": 1e-06,
           "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32",
           "transformers_version": gen.TRANSFORMERS_VERSION, "use_cache": True, "vocab_size": VOCAB}
    if kind == "llama":
        cfg.update({"attention_bias": False, "mlp_bias": False, "rope_scaling": None})
    if kind == "qwen2":
        cfg.update({"max_window_layers": 28, "sliding_window": 4096, "use_sliding_window": False})
    if kind == "mistral":
        cfg.update({"sliding_window": 4096, "head_dim": None})
    cfg.update(labels_cfg(names))
    cfg.update(kw)
    return {k: v for k, v in cfg.items() if v != "DELETE"}


def modernbert_config(names, **kw):
    cfg = {"architectures": ["ModernBertForSequenceClassification"], "attention_bias": False,
           "attention_dropout": 0.0, "bos_token_id": 96, "classifier_activation": "gelu",
           "classifier_bias": False, "classifier_dropout": 0.0, "classifier_pooling": "cls", "cls_token_id": 96,
           "decoder_bias": True, "embedding_dropout": 0.0, "eos_token_id": 97, "global_attn_every_n_layers": 2,
           "global_rope_theta": 160000.0, "hidden_activation": "gelu", "hidden_size": HIDDEN,
           "initializer_cutoff_factor": 2.0, "initializer_range": 0.02, "intermediate_size": INTER,
           "local_attention": 4, "local_rope_theta": 10000.0, "max_position_embeddings": MAX_POS,
           "mlp_bias": False, "mlp_dropout": 0.0, "model_type": "modernbert", "norm_bias": False,
           "norm_eps": 1e-05, "num_attention_heads": HEADS, "num_hidden_layers": 3, "pad_token_id": 0,
           "sep_token_id": 97, "torch_dtype": "float32", "transformers_version": gen.TRANSFORMERS_VERSION,
           "vocab_size": VOCAB}
    cfg.update(labels_cfg(names))
    cfg.update(kw)
    return {k: v for k, v in cfg.items() if v != "DELETE"}


CASES = [
    dict(name="gpt2-right-pad", cfg=gpt2_config(SENTIMENT), problem="single_label_classification",
         lengths=[11, 7, 4], side="right", sensitive=["causal"],
         note="GPT-2, 3 labels, right padding with pad_token_id 0: last-token pooling, Conv1D weights [in, out]"),
    dict(name="gpt2-left-pad", cfg=gpt2_config(TOPICS, problem_type="multi_label_classification",
                                               scale_attn_by_inverse_layer_idx=True),
         problem="multi_label_classification", lengths=[5, 11, 8], side="left", sensitive=["causal"],
         note="GPT-2, multi-label, left padding (positions 0..T-1 as transformers: not padding-invariant), "
              "scale_attn_by_inverse_layer_idx"),
    dict(name="gpt2-no-pad-token", cfg=gpt2_config(["LABEL_0"], pad_token_id="DELETE"), problem="regression",
         lengths=[9], side="right",
         note="GPT-2 without pad_token_id, one text: the last position is pooled; regression"),
    dict(name="llama-left-pad", cfg=llama_config(SENTIMENT, rope_scaling={"factor": 2.0, "rope_type": "linear"}),
         problem="single_label_classification", lengths=[6, 11, 9], side="left", sensitive=["rope_scaling"],
         note="Llama, grouped-query attention (4 heads, 2 key/value heads), rope_scaling linear 2, left padding"),
    dict(name="llama3-rope-bias", cfg=llama_config(
        SENTIMENT, attention_bias=True, mlp_bias=True, rope_theta="DELETE", rope_scaling="DELETE",
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
         problem="single_label_classification", lengths=[11, 3, 8], side="right", sensitive=["rope_parameters"],
         note="Llama with attention_bias and mlp_bias, rope_parameters (the new config form) of type llama3"),
    dict(name="qwen2-right-pad", cfg=llama_config(TOPICS, kind="qwen2", num_key_value_heads=1,
                                                  tie_word_embeddings=True),
         problem="multi_label_classification", lengths=[8, 11, 2], side="right",
         note="Qwen2: q/k/v biases, o_proj without, 4 heads sharing 1 key/value head, right padding; "
              "multi-label inferred from float labels"),
    dict(name="mistral-sliding-left-pad", cfg=llama_config(SENTIMENT, kind="mistral", sliding_window=3),
         problem="single_label_classification", lengths=[11, 7, 10], side="left", sensitive=["sliding_window"],
         note="Mistral with sliding_window 3 (a token sees itself and 2 before), left padding"),
    dict(name="modernbert-cls", cfg=modernbert_config(SENTIMENT), problem="single_label_classification",
         lengths=[11, 6, 9], side="right", sensitive=["local_attention", "global_rope_theta"],
         note="ModernBERT, 3 layers, global_attn_every_n_layers 2 (layer 1 local), local_attention 4 "
              "(2 tokens each side), global/local rope theta, cls pooling, no biases"),
    dict(name="modernbert-mean-new-config", cfg=modernbert_config(
        TOPICS, global_attn_every_n_layers="DELETE", global_rope_theta="DELETE", local_rope_theta="DELETE",
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        rope_parameters={"full_attention": {"rope_theta": 160000.0, "rope_type": "default"},
                         "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}},
        classifier_pooling="mean", norm_bias=True, classifier_bias=True, attention_bias=True, mlp_bias=True,
        classifier_activation="gelu_new"),
         problem="multi_label_classification", lengths=[7, 11, 4], side="right", sensitive=["local_attention"],
         note="ModernBERT in the new config form (layer_types, rope_parameters), local layers 0 and 2, mean "
              "pooling, every bias on, classifier_activation gelu_new; multi-label inferred from float labels"),
]


def init_weights(model, cfg, g):
    """Random weights far from transformers' init so that every mechanism
    shows: weights N(0, 0.02) + N(0, 0.2), biases N(0, 0.1), norm weights
    1 + N(0, 0.1), norm biases N(0, 0.1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if p.dim() >= 2:
                p.copy_(0.02 * torch.randn(p.shape, generator=g) + 0.2 * r)
            elif "norm" in name or "ln_" in name:
                p.copy_((1 if name.endswith("weight") else 0) + 0.1 * r)
            else:
                p.copy_(0.1 * r)


def encode(g, lengths, side, pad):
    T = max(lengths)
    ids = torch.full((len(lengths), T), pad, dtype=torch.long)
    mask = torch.zeros((len(lengths), T), dtype=torch.long)
    for r, n in enumerate(lengths):
        words = torch.randint(3, VOCAB - 3, (n,), generator=g)
        if side == "right":
            ids[r, :n], mask[r, :n] = words, 1
        else:
            ids[r, T - n:], mask[r, T - n:] = words, 1
    return ids, mask


def run(model, ids, mask, labels):
    model.zero_grad(set_to_none=True)
    logits, loss = model(ids, mask, labels)
    loss.backward()
    grads = collections.OrderedDict()
    for n, p in model.named_parameters():
        grads[n] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
    return logits.detach(), loss.detach(), grads


def sensitivity(case, model, ids, mask, logits):
    res = {}
    for key in case.get("sensitive", []):
        cfg = dict(case["cfg"])
        if key == "causal":
            m = ref.build(cfg)
            m.load_state_dict(model.state_dict())
            orig = ref.additive_mask
            ref.additive_mask = lambda mk, causal=False, window=None, local=None: orig(mk, False, window, local)
            try:
                with torch.no_grad():
                    l2, _ = m(ids, mask)
            finally:
                ref.additive_mask = orig
        else:
            if key == "local_attention":
                cfg[key] = 1000
            elif key == "sliding_window":
                cfg[key] = None
            elif key == "global_rope_theta":
                cfg[key] = 10000.0
            else:
                cfg.pop(key)
            m = ref.build(cfg)
            m.load_state_dict(model.state_dict())
            with torch.no_grad():
                l2, _ = m(ids, mask)
        res["sensitivity_" + key] = (l2 - logits).abs().max().item()
        gen.expect(res["sensitivity_" + key] > 2.5e-4, "%s: %s changes the logits by only %g"
                   % (case["name"], key, res["sensitivity_" + key]))
    return res


def check_case(case, model, ids, mask, labels, logits, loss, grads):
    res = {}
    cfg = case["cfg"]
    # Padding invariance where transformers has it: right padding, and left
    # padding with rotary (relative) positions.
    if case["side"] == "right" or cfg["model_type"] != "gpt2":
        worst = 0.0
        for r in range(ids.size(0)):
            keep = mask[r].bool()
            with torch.no_grad():
                l1, _ = model(ids[r:r + 1, keep], mask[r:r + 1, keep])
            worst = max(worst, (l1[0] - logits[r]).abs().max().item())
        res["pad_vs_alone_logits"] = worst
        gen.expect(worst <= 2e-5, "%s: padded row differs from the row alone by %g" % (case["name"], worst))
    m64 = ref.build(cfg).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    lab64 = labels.double() if labels.is_floating_point() else labels
    l64, loss64, g64 = run(m64, ids, mask, lab64)
    res["f32_vs_f64_logits"] = (logits.double() - l64).abs().max().item()
    res["f32_vs_f64_loss"] = abs(loss.item() - loss64.item())
    res["f32_vs_f64_grad_rel_to_norm"] = max(
        ((grads[n].double() - g).abs().max() / max(g.norm().item(), 1e-2)).item() for n, g in g64.items())
    gen.expect(res["f32_vs_f64_logits"] < 1e-5 and res["f32_vs_f64_loss"] < 1e-5
               and res["f32_vs_f64_grad_rel_to_norm"] < 1e-5, "%s: float32 vs float64: %r" % (case["name"], res))
    res.update(sensitivity(case, model, ids, mask, logits))
    return res


def generate(root):
    index, outputs = [], []
    for ci, case in enumerate(CASES):
        name, cfg = case["name"], case["cfg"]
        g = torch.Generator().manual_seed(5000 + ci)
        model = ref.build(cfg)
        init_weights(model, cfg, g)
        model.train()  # every dropout probability is 0
        ids, mask = encode(g, case["lengths"], case["side"], cfg.get("pad_token_id", 0) or 0)
        L = len(cfg["id2label"])
        labels = gen.make_labels(case["problem"], g, ids.size(0), L)
        logits, loss, grads = run(model, ids, mask, labels)
        checks = check_case(case, model, ids, mask, labels, logits, loss, grads)
        golden = collections.OrderedDict([("input_ids", ids), ("attention_mask", mask), ("labels", labels),
                                          ("logits", logits), ("loss", loss.reshape(()))])
        for n, gr in grads.items():
            golden["grad." + n] = gr
        weights = collections.OrderedDict((n, p.detach().clone()) for n, p in model.state_dict().items())
        index.append(collections.OrderedDict([
            ("name", name), ("model_type", cfg["model_type"]), ("architecture", cfg["architectures"][0]),
            ("problem_type", case["problem"]), ("num_labels", L), ("batch", list(ids.shape)),
            ("lengths", case["lengths"]), ("padding", case["side"]), ("note", case["note"]),
            ("self_checks", collections.OrderedDict((k, float("%.3g" % v)) for k, v in checks.items())),
        ]))
        outputs.append((name, cfg, weights, golden, case["problem"]))
        print("%-28s loss %.6f  %s" % (name, loss.item(), "  ".join("%s=%.1e" % kv for kv in checks.items())))
    for name, cfg, weights, golden, problem in outputs:
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        gen.write_json(cfg, os.path.join(d, "config.json"))
        gen.save_safetensors(weights, os.path.join(d, "model.safetensors"), {"format": "pt"})
        gen.save_safetensors(golden, os.path.join(d, "golden.safetensors"),
                             {"format": "pt", "problem_type": problem, "case": name})
    gen.write_json({"generator": "scripts/model/gen_decoders.py", "cases": index},
                   os.path.join(root, "cases-decoders.json"))


if __name__ == "__main__":
    sys.exit(gen.main(sys.argv, generate, __doc__))
