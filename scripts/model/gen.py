#!/usr/bin/python3
"""Golden data for textclf's transformer models (packages nn and model).

Run with Debian's python3-torch (PyTorch 1.13), from the repository root:

    /usr/bin/python3 scripts/model/gen.py testdata/model

For each case it writes testdata/model/<case>/:

  config.json         an HF config as transformers writes it for the architecture
  model.safetensors   the random F32 weights under HF's names
  golden.safetensors  inputs and expected outputs of reference.py in float32:
                      input_ids, attention_mask, token_type_ids (not DistilBERT),
                      labels, logits, loss (scalar), hidden.last (encoder output
                      [B,T,H]) and grad.<name> for every parameter after
                      loss.backward(); the case bert-batch-invariance also has
                      <x>.single.<i> for each row encoded alone (B=1, no padding).

and testdata/model/cases.json listing the cases and the self-check results.
Before writing anything it checks the reference against itself, against an
independent implementation and for sensitivity (see check_case) and exits
non-zero if a check fails. Output is deterministic (every case has its own
seed), so

    /usr/bin/python3 scripts/model/gen.py --verify testdata/model

regenerates into a temporary directory and exits non-zero unless every file
equals the committed one byte for byte.
"""
import collections
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402
# The safetensors and JSON writers, the self-checks and the command line are
# genlib's; other scripts reach them as gen.save_safetensors and so on.
from genlib import CheckFailed, expect, load_safetensors, main, save_safetensors, write_json  # noqa: E402,F401

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

# --- configs as transformers writes them (save_pretrained: sorted keys) -------

TRANSFORMERS_VERSION = "4.46.3"
VOCAB = 99
HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 37
MAX_POS = 40


def labels_map(names):
    return ({str(i): n for i, n in enumerate(names)}, {n: i for i, n in enumerate(names)})


def bert_config(names, **kw):
    id2label, label2id = labels_map(names)
    cfg = {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.0,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": HIDDEN,
        "id2label": id2label,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "label2id": label2id,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": MAX_POS,
        "model_type": "bert",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": VOCAB,
    }
    cfg.update(kw)
    return cfg


def roberta_config(names, xlm=False, **kw):
    cfg = bert_config(names, architectures=["XLMRobertaForSequenceClassification" if xlm
                                            else "RobertaForSequenceClassification"],
                      model_type="xlm-roberta" if xlm else "roberta",
                      bos_token_id=0, pad_token_id=1, eos_token_id=2, layer_norm_eps=1e-5)
    cfg.update(kw)
    return cfg


def distilbert_config(names, **kw):
    id2label, label2id = labels_map(names)
    cfg = {
        "activation": "gelu",
        "architectures": ["DistilBertForSequenceClassification"],
        "attention_dropout": 0.0,
        "dim": HIDDEN,
        "dropout": 0.0,
        "hidden_dim": INTERMEDIATE,
        "id2label": id2label,
        "initializer_range": 0.02,
        "label2id": label2id,
        "max_position_embeddings": MAX_POS,
        "model_type": "distilbert",
        "n_heads": HEADS,
        "n_layers": LAYERS,
        "pad_token_id": 0,
        "qa_dropout": 0.0,
        "seq_classif_dropout": 0.0,
        "sinusoidal_pos_embds": False,
        "tie_weights_": True,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "vocab_size": VOCAB,
    }
    cfg.update(kw)
    return cfg


# --- weights: transformers' _init_weights, then a seeded perturbation ----------

def init_weights(model, cfg, g, weight_std=None):
    """transformers' init (Linear/Embedding normal(0, initializer_range), zero
    biases, LayerNorm 1/0), then noise so that attention is far from uniform,
    biases and LayerNorm affine parameters are not trivial and gradients are
    not tiny: weights + N(0, 0.2), biases and LayerNorm + N(0, 0.1). The
    padding rows of the embeddings are left non-zero on purpose.

    weight_std maps a parameter-name suffix to the std of a plain normal init
    that replaces this, for cases that need a mechanism to show in the outputs
    (small embeddings make layer_norm_eps matter; large FFN weights make the
    GELU variant matter)."""
    std = cfg["initializer_range"]

    def randn(shape):
        return torch.randn(shape, generator=g)

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.copy_(std * randn(m.weight.shape) + 0.2 * randn(m.weight.shape))
                if isinstance(m, nn.Linear):
                    m.bias.copy_(0.1 * randn(m.bias.shape))
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.1 * randn(m.weight.shape))
                m.bias.copy_(0.1 * randn(m.bias.shape))
        for name, p in model.named_parameters():
            for suffix, s in (weight_std or {}).items():
                if name.endswith(suffix):
                    p.copy_(s * randn(p.shape))


# --- inputs -------------------------------------------------------------------

def encode(kind, g, lengths, pair_rows=(), roberta_types=False):
    """Token ids as the model's tokenizer lays them out, right-padded to the
    longest row: BERT [CLS] a [SEP] (b [SEP]) with token types 0/1; RoBERTa
    <s> a </s> (</s> b </s>) with token types 0 (or, with roberta_types, 1 from
    the second </s> on); DistilBERT as BERT without token types. Word ids are
    random, above the special tokens."""
    T = max(lengths)
    if kind == "roberta":
        pad, first_word = 1, 4
    else:
        pad, first_word = 0, 5
    ids = torch.full((len(lengths), T), pad, dtype=torch.long)
    types = torch.zeros((len(lengths), T), dtype=torch.long)
    mask = torch.zeros((len(lengths), T), dtype=torch.long)
    for r, n in enumerate(lengths):
        words = torch.randint(first_word, VOCAB, (n,), generator=g)
        row = words.clone()
        if kind == "roberta":
            row[0], row[n - 1] = 0, 2
        else:
            row[0], row[n - 1] = 2, 3
        if r in pair_rows:
            a = (n - 1) // 2
            if kind == "roberta":
                row[a], row[a + 1] = 2, 2  # <s> a </s></s> b </s>
                if roberta_types:
                    types[r, a + 1:n] = 1
            else:
                row[a] = 3  # [CLS] a [SEP] b [SEP]
                types[r, a + 1:n] = 1
        ids[r, :n] = row
        mask[r, :n] = 1
    return ids, mask, types


def make_labels(problem, g, B, L):
    if problem == "single_label_classification":
        return torch.randint(0, L, (B,), generator=g)
    if problem == "multi_label_classification":
        return torch.randint(0, 2, (B, L), generator=g).float()
    return torch.randn((B,), generator=g)  # regression, num_labels 1


# --- cases --------------------------------------------------------------------

SENTIMENT = ["negative", "neutral", "positive"]
TOPICS = ["sports", "politics", "science", "arts"]

# Embeddings so small that the sum's variance (~3e-5) is comparable with
# layer_norm_eps 1e-5: a wrong eps shows in the logits.
SMALL_EMBEDDINGS = {"embeddings.word_embeddings.weight": 0.003, "embeddings.position_embeddings.weight": 0.003,
                    "embeddings.token_type_embeddings.weight": 0.003}

CASES = [
    # name; cfg: config.json; kind: tokenizer layout; problem: label kind; lengths: real tokens per row
    # (right-padded to the longest); pairs: rows that are sentence pairs; types: RoBERTa token types 1 on
    # the second segment; weight_std: init overrides; sensitive: mistakes the case must expose (sensitivity);
    # single: also store each row alone; note: what the case is for (copied to cases.json)
    dict(name="bert-single-label", cfg=bert_config(SENTIMENT), kind="bert",
         problem="single_label_classification", lengths=[11, 7, 4], pairs=[0],
         sensitive={"token_types": "zero"},
         note="BERT, 3 labels, problem_type not in config (inferred from int64 labels); row 0 a pair with token types 1"),
    dict(name="bert-multi-label", cfg=bert_config(TOPICS, problem_type="multi_label_classification"), kind="bert",
         problem="multi_label_classification", lengths=[5, 11, 8], pairs=[1, 2],
         note="BERT, 4 labels, problem_type multi_label_classification in config, BCEWithLogits"),
    dict(name="bert-regression", cfg=bert_config(["LABEL_0"]), kind="bert",
         problem="regression", lengths=[9, 11, 3], pairs=[1],
         note="BERT, num_labels 1: regression inferred, MSE on squeezed logits, labels F32 [B]"),
    dict(name="bert-gelu-new", cfg=bert_config(SENTIMENT, hidden_act="gelu_new"), kind="bert",
         problem="single_label_classification", lengths=[11, 10, 6], pairs=[2],
         weight_std={"intermediate.dense.weight": 0.6, "output.dense.weight": 0.5, "classifier.weight": 0.5},
         sensitive={"hidden_act": "gelu"},
         note="BERT with hidden_act gelu_new (tanh approximation); larger FFN and classifier weights so that "
              "exact GELU instead changes the logits by 4.5e-4 (the two functions differ by at most 4.7e-4)"),
    dict(name="roberta-single-label", cfg=roberta_config(SENTIMENT), kind="roberta",
         problem="single_label_classification", lengths=[6, 11, 9], pairs=[1], types=True,
         weight_std=SMALL_EMBEDDINGS, sensitive={"layer_norm_eps": 1e-12, "positions": "bert", "token_types": "zero"},
         note="RoBERTa: pad 1, position ids from the padding index, layer_norm_eps 1e-5 (small embeddings "
              "make eps matter), "
              "type_vocab_size 2 with token types 1 from the second </s> of row 1 on (exercises token_type_embeddings; "
              "real RoBERTa checkpoints have type_vocab_size 1)"),
    dict(name="xlm-roberta-single-label", cfg=roberta_config(["LABEL_0", "LABEL_1"], xlm=True, type_vocab_size=1),
         kind="roberta", problem="single_label_classification", lengths=[11, 4, 8], pairs=[0],
         weight_std=SMALL_EMBEDDINGS, sensitive={"layer_norm_eps": 1e-12, "positions": "bert"},
         note="XLM-RoBERTa (model_type xlm-roberta): type_vocab_size 1 and token types all 0 as in the real models"),
    dict(name="distilbert-single-label", cfg=distilbert_config(SENTIMENT), kind="distilbert",
         problem="single_label_classification", lengths=[11, 3, 7], pairs=[],
         note="DistilBERT, 3 labels, problem_type inferred, no token types"),
    dict(name="distilbert-multi-label", cfg=distilbert_config(TOPICS), kind="distilbert",
         problem="multi_label_classification", lengths=[8, 11, 5], pairs=[],
         note="DistilBERT, 4 labels, problem_type not in config: multi-label inferred from F32 labels"),
    dict(name="bert-batch-invariance", cfg=bert_config(SENTIMENT), kind="bert",
         problem="single_label_classification", lengths=[3, 11, 7], pairs=[1], single=True,
         note="BERT, the batch of 3 plus each text alone (<x>.single.<i>, B=1, no padding): "
              "a text's logits must not depend on its batch"),
]


def run(model, batch, labels, backward=True):
    """Forward (and backward) of the reference; returns logits, loss, hidden and grads."""
    model.zero_grad(set_to_none=True)
    ids, mask, types = batch
    logits, loss, hidden = model(ids, mask, types, labels)
    grads = {}
    if backward:
        loss.backward()
        for n, p in model.named_parameters():
            grads[n] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
    return logits.detach(), loss.detach(), hidden.detach(), grads


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / max(b.double().norm().item(), 1e-30)).item()


def torch_encoder_crosscheck(model, case, batch):
    """Runs the encoder layers through torch.nn.TransformerEncoderLayer (an
    independent implementation of the same post-LN block: torch's
    MultiheadAttention with key_padding_mask) with our weights copied in, then
    our head, and returns max |logits diff| and max |hidden diff|."""
    cfg = case["cfg"]
    ids, mask, types = batch
    kind = case["kind"]
    with torch.no_grad():
        if kind == "distilbert":
            base = model.distilbert
            h = base.embeddings(ids)
            blocks = base.transformer.layer
            act = base.transformer.layer[0].ffn.activation
            eps, ffn = reference.DISTIL_LN_EPS, cfg["hidden_dim"]
        else:
            base = model.bert if kind == "bert" else model.roberta
            h = base.embeddings(ids, types)
            blocks = base.encoder.layer
            act = blocks[0].intermediate.intermediate_act_fn
            eps, ffn = cfg["layer_norm_eps"], cfg["intermediate_size"]
        for blk in blocks:
            tl = nn.TransformerEncoderLayer(HIDDEN, HEADS, dim_feedforward=ffn, dropout=0.0, activation=act,
                                            layer_norm_eps=eps, batch_first=True, norm_first=False)
            if kind == "distilbert":
                a = blk.attention
                q, k, v, o = a.q_lin, a.k_lin, a.v_lin, a.out_lin
                n1, n2, l1, l2 = blk.sa_layer_norm, blk.output_layer_norm, blk.ffn.lin1, blk.ffn.lin2
            else:
                s = blk.attention.self
                q, k, v, o = s.query, s.key, s.value, blk.attention.output.dense
                n1, n2 = blk.attention.output.LayerNorm, blk.output.LayerNorm
                l1, l2 = blk.intermediate.dense, blk.output.dense
            tl.self_attn.in_proj_weight.copy_(torch.cat([q.weight, k.weight, v.weight]))
            tl.self_attn.in_proj_bias.copy_(torch.cat([q.bias, k.bias, v.bias]))
            tl.self_attn.out_proj.weight.copy_(o.weight)
            tl.self_attn.out_proj.bias.copy_(o.bias)
            for dst, src in ((tl.linear1, l1), (tl.linear2, l2), (tl.norm1, n1), (tl.norm2, n2)):
                dst.weight.copy_(src.weight)
                dst.bias.copy_(src.bias)
            tl.eval()
            h = tl(h, src_key_padding_mask=(mask == 0))
        if kind == "distilbert":
            logits = model.classifier(nn.ReLU()(model.pre_classifier(h[:, 0])))
        elif kind == "bert":
            logits = model.classifier(model.bert.pooler(h))
        else:
            logits = model.classifier(h)
        ours_logits, _, ours_hidden = model(ids, mask, types, None)
    real = mask.bool()
    return ((logits - ours_logits).abs().max().item(),
            (h[real] - ours_hidden[real]).abs().max().item())


def sensitivity(case, model, batch, logits):
    """Max |logits change| when one thing the case is about is done wrong:
    a config key overridden, ("positions": "bert") RoBERTa position ids taken
    as 0..T-1, or ("token_types": "zero") token_type_ids ignored. Each must exceed 2.5e-4, 2.5 times the Go test's 1e-4
    tolerance on logits, so the Go test can see the mistake."""
    res = {}
    for key, val in case.get("sensitive", {}).items():
        cfg = dict(case["cfg"])
        b = batch
        if key == "token_types":
            b = (batch[0], batch[1], torch.zeros_like(batch[2]))
        elif key != "positions":
            cfg[key] = val
        m = reference.from_config(cfg)
        m.load_state_dict(model.state_dict())
        if key == "positions":
            m.roberta.embeddings.roberta = False
        with torch.no_grad():
            l2, _, _ = m(*b, None)
        res["sensitivity_%s" % key] = (l2 - logits).abs().max().item()
        expect(res["sensitivity_%s" % key] > 2.5e-4, "%s: %s=%s changes the logits by only %g"
               % (case["name"], key, val, res["sensitivity_%s" % key]))
    return res


def check_case(case, model, batch, labels, out):
    """The reference checked against itself and against torch's own layers.
    Returns a dict of the measured differences; raises CheckFailed."""
    ids, mask, types = batch
    logits, loss, hidden, grads = out
    res = {}

    # 1. Padding: every row alone (unpadded, B=1) gives the same logits and
    #    hidden states as in the padded batch.
    worst_l, worst_h = 0.0, 0.0
    for r in range(ids.size(0)):
        n = int(mask[r].sum())
        single = (ids[r:r + 1, :n], mask[r:r + 1, :n], None if types is None else types[r:r + 1, :n])
        with torch.no_grad():
            l1, _, h1 = model(*single, None)
        worst_l = max(worst_l, (l1[0] - logits[r]).abs().max().item())
        worst_h = max(worst_h, (h1[0] - hidden[r, :n]).abs().max().item())
    res["pad_vs_alone_logits"] = worst_l
    res["pad_vs_alone_hidden"] = worst_h
    expect(worst_l <= 1e-5 and worst_h <= 1e-5, "%s: padded row differs from the row alone: logits %g hidden %g"
           % (case["name"], worst_l, worst_h))

    # 2. Independent implementation of the encoder block.
    dl, dh = torch_encoder_crosscheck(model, case, batch)
    res["vs_torch_TransformerEncoderLayer_logits"] = dl
    res["vs_torch_TransformerEncoderLayer_hidden"] = dh
    expect(dl <= 1e-5 and dh <= 1e-4, "%s: differs from torch.nn.TransformerEncoderLayer: logits %g hidden %g"
           % (case["name"], dl, dh))

    # 3. float32 golden vs the same model in float64: the golden's own rounding
    #    must be far below the Go test's 1e-4 tolerance.
    m64 = reference.from_config(case["cfg"]).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    lab64 = labels.double() if labels.is_floating_point() else labels
    l64, loss64, _, g64 = run(m64, batch, lab64)
    res["f32_vs_f64_logits"] = (logits.double() - l64).abs().max().item()
    res["f32_vs_f64_loss"] = abs(loss.item() - loss64.item())
    # Gradients that are zero in exact arithmetic (the key bias: softmax does not
    # change when a constant is added to all scores of a query) hold float32
    # rounding noise only; they are listed, and measured absolutely.
    vanishing = sorted(n for n, g in g64.items() if g.norm().item() < 1e-10)
    res["f32_vs_f64_grad_rel_to_norm"] = max(
        ((grads[n].double() - g).abs().max() / g.norm()).item()
        for n, g in g64.items() if n not in vanishing)
    res["f32_vs_f64_vanishing_grad_abs"] = max(
        [grads[n].abs().max().item() for n in vanishing] + [0.0])
    res["vanishing"] = vanishing
    expect(res["f32_vs_f64_logits"] < 1e-5 and res["f32_vs_f64_loss"] < 1e-5
           and res["f32_vs_f64_grad_rel_to_norm"] < 1e-5 and res["f32_vs_f64_vanishing_grad_abs"] < 1e-6,
           "%s: float32 vs float64: %r" % (case["name"], res))
    expect(all(n.endswith(("attention.self.key.bias", "attention.k_lin.bias")) for n in vanishing),
           "%s: unexpected vanishing gradients %s" % (case["name"], vanishing))

    # 4. Structural facts the Go side relies on.
    pad = case["cfg"]["pad_token_id"]
    wname = [n for n in grads if n.endswith("embeddings.word_embeddings.weight")][0]
    expect(grads[wname][pad].abs().max().item() == 0, "pad row of word embeddings has a gradient")
    zero = [n for n, g in grads.items() if g.abs().max().item() == 0]
    expect(not zero, "%s: parameters with an all-zero gradient: %s" % (case["name"], zero))
    if case["kind"] == "roberta":
        pos = reference.create_position_ids_from_input_ids(ids, pad)
        for r in range(ids.size(0)):
            n = int(mask[r].sum())
            want = list(range(pad + 1, pad + 1 + n)) + [pad] * (ids.size(1) - n)
            expect(pos[r].tolist() == want, "roberta position ids %s != %s" % (pos[r].tolist(), want))
    res.update(sensitivity(case, model, batch, logits))
    return res


def generate(root):
    index, outputs = [], []
    for ci, case in enumerate(CASES):
        name, cfg = case["name"], case["cfg"]
        g = torch.Generator().manual_seed(1000 + ci)
        model = reference.from_config(cfg)
        init_weights(model, cfg, g, case.get("weight_std"))
        model.train()  # as in fine-tuning; every dropout probability is 0
        kind = case["kind"]
        ids, mask, types = encode(kind, g, case["lengths"], case["pairs"], case.get("types", False))
        if kind == "distilbert":
            types = None
        batch = (ids, mask, types)
        L = len(cfg["id2label"])
        labels = make_labels(case["problem"], g, ids.size(0), L)
        expect(reference.problem_type(cfg, labels) == case["problem"], "%s: problem_type" % name)

        out = run(model, batch, labels)
        logits, loss, hidden, grads = out
        checks = check_case(case, model, batch, labels, out)

        golden = collections.OrderedDict()
        golden["input_ids"] = ids
        golden["attention_mask"] = mask
        if types is not None:
            golden["token_type_ids"] = types
        golden["labels"] = labels
        golden["logits"] = logits
        golden["loss"] = loss.reshape(())
        golden["hidden.last"] = hidden
        for n, gr in grads.items():
            golden["grad." + n] = gr
        if case.get("single"):
            for r in range(ids.size(0)):
                n = int(mask[r].sum())
                sb = (ids[r:r + 1, :n], mask[r:r + 1, :n], None if types is None else types[r:r + 1, :n])
                with torch.no_grad():
                    l1, _, h1 = model(*sb, None)
                golden["input_ids.single.%d" % r] = sb[0].clone()
                golden["attention_mask.single.%d" % r] = sb[1].clone()
                if types is not None:
                    golden["token_type_ids.single.%d" % r] = sb[2].clone()
                golden["logits.single.%d" % r] = l1
                golden["hidden.last.single.%d" % r] = h1

        weights = collections.OrderedDict((n, p.detach().clone()) for n, p in model.state_dict().items())
        expect(set(weights) == set(grads), "%s: state_dict and parameters differ" % name)
        problem = case["problem"]
        vanishing = checks.pop("vanishing")
        index.append(collections.OrderedDict([
            ("name", name), ("model_type", cfg["model_type"]), ("architecture", cfg["architectures"][0]),
            ("problem_type", problem), ("num_labels", L), ("batch", list(ids.shape)),
            ("lengths", case["lengths"]), ("note", case["note"]),
            ("zero_in_exact_arithmetic", vanishing),
            ("self_checks", collections.OrderedDict((k, float("%.3g" % v)) for k, v in checks.items())),
        ]))
        outputs.append((name, cfg, weights, golden, problem))
        print("%-26s loss %.6f  %s" % (name, loss.item(),
                                        "  ".join("%s=%.1e" % (k, v) for k, v in checks.items())))

    # Nothing is written unless every case passed its checks.
    for name, cfg, weights, golden, problem in outputs:
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        write_json(cfg, os.path.join(d, "config.json"))
        save_safetensors(weights, os.path.join(d, "model.safetensors"), {"format": "pt"})
        save_safetensors(golden, os.path.join(d, "golden.safetensors"),
                         {"format": "pt", "problem_type": problem, "case": name})
        # Read back what was written.
        w2, _ = load_safetensors(os.path.join(d, "model.safetensors"))
        g2, meta = load_safetensors(os.path.join(d, "golden.safetensors"))
        for src, back in ((weights, w2), (golden, g2)):
            expect(set(src) == set(back) and all(torch.equal(src[k], back[k]) for k in src),
                   "%s: safetensors read-back differs" % name)
        expect(meta["problem_type"] == problem, "metadata")
    write_json({"generator": "scripts/model/gen.py", "torch": torch.__version__.split("+")[0], "cases": index},
               os.path.join(root, "cases.json"))


if __name__ == "__main__":
    sys.exit(main(sys.argv, generate, __doc__))
