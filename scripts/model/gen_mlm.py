#!/usr/bin/python3
"""Golden data for textclf's masked language models (package model).

Run with Debian's python3-torch, from the repository root:

    /usr/bin/python3 scripts/model/gen_mlm.py testdata/model
    /usr/bin/python3 scripts/model/gen_mlm.py --verify testdata/model

It builds reference.py's BertForMaskedLM / RobertaForMaskedLM (written from
transformers' modeling_bert.py and modeling_roberta.py: decoder tied to the
word embeddings, its bias the head's own parameter) with random weights
(gen.py's init), runs a padded batch in which some tokens were replaced as
DataCollatorForLanguageModeling replaces them ([MASK], a random word, or
kept) with labels -100 elsewhere, and writes for each case
testdata/model/<case>/:

  config.json         the HF config (architectures [BertForMaskedLM] ...)
  model.safetensors   the weights as save_pretrained writes them: the
                      state_dict without the tied copies
                      (cls.predictions.decoder.weight/.bias,
                      lm_head.decoder.weight/.bias)
  golden.safetensors  input_ids, attention_mask, token_type_ids, labels (I64
                      [B,T], -100 where not masked), logits (F32 [B,T,V], every
                      position), loss, grad.<param> for every parameter of
                      named_parameters() (the tied weight once, under
                      bert.embeddings.word_embeddings.weight: the sum of the
                      embedding's and the decoder's gradients), and for the
                      fill-mask pipeline topk.ids / topk.scores (I64/F32
                      [M,K]: softmax over the vocabulary at each [MASK]
                      position, torch.topk, K=5) with topk.rows (I64 [M]: the
                      flat b*T+t position of each [MASK]).

and testdata/model/cases-mlm.json listing the cases, the state_dict keys, the
keys save_pretrained writes and the self-checks (float32 vs float64, padding
invariance), which must pass before anything is written.
"""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402
import reference  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

MASK_ID = {"bert": 4, "roberta": 3}  # [MASK] / <mask> in these tiny vocabularies
TOPK = 5


def mlm_config(kind, **kw):
    if kind == "roberta":
        cfg = gen.roberta_config(["LABEL_0", "LABEL_1"], architectures=["RobertaForMaskedLM"])
    else:
        cfg = gen.bert_config(["LABEL_0", "LABEL_1"], architectures=["BertForMaskedLM"])
    cfg.update(kw)
    return cfg


CASES = [
    dict(name="bert-mlm", cfg=mlm_config("bert"), kind="bert", lengths=[11, 7, 4], pairs=[0],
         note="BertForMaskedLM, hidden_act gelu, padded batch, a sentence pair in row 0"),
    dict(name="bert-mlm-gelu-new", cfg=mlm_config("bert", hidden_act="gelu_new"), kind="bert",
         lengths=[6, 11, 9], pairs=[],
         note="BertForMaskedLM with hidden_act gelu_new: the head's transform uses the config's activation"),
    dict(name="roberta-mlm", cfg=mlm_config("roberta"), kind="roberta", lengths=[9, 11, 5], pairs=[1],
         note="RobertaForMaskedLM: lm_head (dense, exact gelu, layer_norm eps 1e-5), pad 1, positions from the padding index"),
]


def mask_batch(kind, g, ids, mask):
    """Chooses about 40% of the real, non-special tokens of each row (at least
    one) as masked positions, and replaces them as the collator does: 80%
    [MASK], 10% a random word (never the pad id, whose embedding row has no
    gradient of its own in transformers), 10% kept. Returns the new ids and
    the labels (-100 elsewhere)."""
    special = {"bert": (0, 2, 3), "roberta": (0, 1, 2)}[kind]
    first_word = 5 if kind == "bert" else 4
    ids = ids.clone()
    labels = torch.full_like(ids, -100)
    for r in range(ids.size(0)):
        cand = [t for t in range(ids.size(1)) if mask[r, t] == 1 and int(ids[r, t]) not in special]
        pick = [t for t in cand if torch.rand((), generator=g).item() < 0.4] or cand[:1]
        for i, t in enumerate(pick):
            labels[r, t] = ids[r, t]
            u = torch.rand((), generator=g).item()
            if i == 0 or u < 0.8:
                ids[r, t] = MASK_ID[kind]  # every row has at least one [MASK]
            elif u < 0.9:
                ids[r, t] = int(torch.randint(first_word, gen.VOCAB, (), generator=g))
    return ids, labels


def run(model, batch, labels):
    model.zero_grad(set_to_none=True)
    ids, mask, types = batch
    logits, loss, hidden = model(ids, mask, types, labels)
    loss.backward()
    grads = collections.OrderedDict((n, p.grad.detach().clone()) for n, p in model.named_parameters())
    return logits.detach(), loss.detach(), hidden.detach(), grads


def generate(root):
    index, outputs = [], []
    for ci, case in enumerate(CASES):
        name, cfg, kind = case["name"], case["cfg"], case["kind"]
        g = torch.Generator().manual_seed(5000 + ci)
        model = reference.from_config(cfg)
        gen.init_weights(model, cfg, g)
        model.train()  # dropout probabilities are 0
        ids, mask, types = gen.encode(kind, g, case["lengths"], case["pairs"], kind == "roberta")
        ids, labels = mask_batch(kind, g, ids, mask)
        batch = (ids, mask, types)
        logits, loss, hidden, grads = run(model, batch, labels)
        checks = collections.OrderedDict()

        # The tied decoder: one parameter, whose gradient has both parts.
        base = model.bert if kind == "bert" else model.roberta
        head = model.cls.predictions if kind == "bert" else model.lm_head
        gen.expect(head.decoder.weight is base.embeddings.word_embeddings.weight, "decoder not tied")
        gen.expect(head.decoder.bias is head.bias, "decoder bias not the head's")
        keys = list(model.state_dict().keys())
        saved = [k for k in keys if k not in model.tied_keys]
        gen.expect(all(k in keys for k in model.tied_keys), "%s: tied keys absent from state_dict" % name)
        gen.expect(not any("pooler" in k for k in keys), "%s: a pooler in a masked LM" % name)

        # float32 vs float64.
        m64 = reference.from_config(cfg).double()
        m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        l64, loss64, _, g64 = run(m64, batch, labels)
        checks["f32_vs_f64_logits"] = (logits.double() - l64).abs().max().item()
        checks["f32_vs_f64_loss"] = abs(loss.item() - loss64.item())
        vanishing = sorted(n for n, gr in g64.items() if gr.norm().item() < 1e-10)
        checks["f32_vs_f64_grad_rel_to_norm"] = max(
            ((grads[n].double() - gr).abs().max() / gr.norm()).item() for n, gr in g64.items() if n not in vanishing)
        gen.expect(checks["f32_vs_f64_logits"] < 1e-5 and checks["f32_vs_f64_loss"] < 1e-5
                   and checks["f32_vs_f64_grad_rel_to_norm"] < 1e-5, "%s: f32 vs f64 %r" % (name, checks))
        gen.expect(all(n.endswith("attention.self.key.bias") for n in vanishing), "%s: vanishing %s" % (name, vanishing))

        # Padding: each row alone gives its batched logits.
        worst = 0.0
        for r in range(ids.size(0)):
            n = int(mask[r].sum())
            with torch.no_grad():
                l1, _, _ = model(ids[r:r + 1, :n], mask[r:r + 1, :n], types[r:r + 1, :n], None)
            worst = max(worst, (l1[0] - logits[r, :n]).abs().max().item())
        checks["pad_vs_alone_logits"] = worst
        gen.expect(worst <= 1e-5, "%s: padded rows differ from rows alone by %g" % (name, worst))

        # The loss is the mean cross-entropy over the labelled tokens only.
        sel = labels.view(-1) != -100
        manual = torch.nn.functional.cross_entropy(logits.view(-1, gen.VOCAB)[sel], labels.view(-1)[sel])
        checks["loss_vs_selected_rows"] = abs(manual.item() - loss.item())
        gen.expect(checks["loss_vs_selected_rows"] < 1e-6, "%s: loss" % name)

        # The fill-mask pipeline: softmax over the vocabulary at each [MASK], top k.
        rows = (ids.view(-1) == MASK_ID[kind]).nonzero().view(-1)
        probs = logits.view(-1, gen.VOCAB)[rows].softmax(-1)
        scores, top = probs.topk(TOPK)

        golden = collections.OrderedDict()
        golden["input_ids"] = ids
        golden["attention_mask"] = mask
        golden["token_type_ids"] = types
        golden["labels"] = labels
        golden["logits"] = logits
        golden["loss"] = loss.reshape(())
        for n, gr in grads.items():
            golden["grad." + n] = gr
        golden["topk.rows"] = rows.clone()
        golden["topk.ids"] = top.clone()
        golden["topk.scores"] = scores.detach().clone()
        if kind == "bert":
            # The fill-mask pipeline on two texts of the tiny-bert vocabulary
            # (testdata/tiny-bert/tokenizer.json): "the movie was [MASK] ."
            # and "the [MASK] was [MASK] .", one sequence each, no padding.
            for fi, ids1 in enumerate(([2, 5, 20, 15, 4, 55, 3], [2, 5, 4, 15, 4, 55, 3])):
                x = torch.tensor([ids1])
                with torch.no_grad():
                    l1, _, _ = model(x, torch.ones_like(x), torch.zeros_like(x), None)
                mrows = (x[0] == MASK_ID[kind]).nonzero().view(-1)
                sc, tp = l1[0, mrows].softmax(-1).topk(TOPK)
                golden["fillmask.%d.input_ids" % fi] = x[0].clone()
                golden["fillmask.%d.ids" % fi] = tp.clone()
                golden["fillmask.%d.scores" % fi] = sc.clone()
        weights = collections.OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items() if k in saved)
        index.append(collections.OrderedDict([
            ("name", name), ("model_type", cfg["model_type"]), ("architecture", cfg["architectures"][0]),
            ("batch", list(ids.shape)), ("lengths", case["lengths"]), ("masked", int(sel.sum())),
            ("note", case["note"]), ("state_dict_keys", keys), ("saved_keys", saved),
            ("zero_in_exact_arithmetic", vanishing),
            ("self_checks", collections.OrderedDict((k, float("%.3g" % v)) for k, v in checks.items())),
        ]))
        outputs.append((name, cfg, weights, golden))
        print("%-20s loss %.6f masked %d  %s" % (name, loss.item(), int(sel.sum()),
                                                 "  ".join("%s=%.1e" % (k, v) for k, v in checks.items())))

    for name, cfg, weights, golden in outputs:
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        gen.write_json(cfg, os.path.join(d, "config.json"))
        gen.save_safetensors(weights, os.path.join(d, "model.safetensors"), {"format": "pt"})
        gen.save_safetensors(golden, os.path.join(d, "golden.safetensors"), {"format": "pt", "case": name})
        w2, _ = gen.load_safetensors(os.path.join(d, "model.safetensors"))
        gen.expect(set(w2) == set(weights) and all(torch.equal(w2[k], weights[k]) for k in w2), "read-back")
    gen.write_json({"generator": "scripts/model/gen_mlm.py", "torch": torch.__version__.split("+")[0], "cases": index},
                   os.path.join(root, "cases-mlm.json"))


if __name__ == "__main__":
    sys.exit(gen.main(sys.argv, generate, __doc__))
