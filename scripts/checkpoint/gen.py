#!/usr/bin/python3
"""Golden checkpoints for textclf's checkpoint and safetensors packages.

Run with Debian's python3-torch (PyTorch 1.13):

    /usr/bin/python3 scripts/checkpoint/gen.py testdata/checkpoint

writes small random-weight BERT / DistilBERT / RoBERTa checkpoints in every form
textclf reads (F32/F16/BF16 safetensors, sharded safetensors, torch zip
pytorch_model.bin, sharded .bin, with and without the base-model prefix, legacy
LayerNorm gamma/beta names) and, next to each, expected.json: every tensor's
dtype in the file, shape, and values after conversion to float32 by torch.

    /usr/bin/python3 scripts/checkpoint/gen.py check EXPECTED.json DIR [EXPECTED.json DIR ...]

is the reverse check: it reads DIR/model.safetensors (written by textclf) with
genlib's reader and torch, and exits non-zero unless every tensor of
EXPECTED.json is there with the same shape and identical float32 values.

Debian has no python safetensors package, so safetensors files are written and
read by hand (scripts/model/genlib.py) following the format (8-byte
little-endian header length, JSON header, raw little-endian data), laid out as
the reference implementation lays them out: "__metadata__" first, tensors by
descending dtype then name, header padded with spaces to a multiple of 8.
"""
import collections
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
from genlib import ST_DTYPE, load_safetensors, save_safetensors  # noqa: E402


# --- state dicts shaped as transformers' module trees -------------------------

def bert_encoder(prefix, cfg, legacy_ln=False):
    h, i, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    w, b = ("gamma", "beta") if legacy_ln else ("weight", "bias")
    sd = collections.OrderedDict()
    sd[prefix + "embeddings.word_embeddings.weight"] = torch.randn(cfg["vocab_size"], h)
    sd[prefix + "embeddings.position_embeddings.weight"] = torch.randn(cfg["max_position_embeddings"], h)
    sd[prefix + "embeddings.token_type_embeddings.weight"] = torch.randn(cfg["type_vocab_size"], h)
    sd[prefix + "embeddings.LayerNorm." + w] = 1 + 0.1 * torch.randn(h)
    sd[prefix + "embeddings.LayerNorm." + b] = 0.1 * torch.randn(h)
    for l in range(L):
        p = prefix + "encoder.layer.%d." % l
        for m in ("query", "key", "value"):
            sd[p + "attention.self.%s.weight" % m] = torch.randn(h, h)
            sd[p + "attention.self.%s.bias" % m] = torch.randn(h)
        sd[p + "attention.output.dense.weight"] = torch.randn(h, h)
        sd[p + "attention.output.dense.bias"] = torch.randn(h)
        sd[p + "attention.output.LayerNorm." + w] = 1 + 0.1 * torch.randn(h)
        sd[p + "attention.output.LayerNorm." + b] = 0.1 * torch.randn(h)
        sd[p + "intermediate.dense.weight"] = torch.randn(i, h)
        sd[p + "intermediate.dense.bias"] = torch.randn(i)
        sd[p + "output.dense.weight"] = torch.randn(h, i)
        sd[p + "output.dense.bias"] = torch.randn(h)
        sd[p + "output.LayerNorm." + w] = 1 + 0.1 * torch.randn(h)
        sd[p + "output.LayerNorm." + b] = 0.1 * torch.randn(h)
    return sd


def bert_config(**kw):
    cfg = collections.OrderedDict([
        ("architectures", ["BertForSequenceClassification"]),
        ("attention_probs_dropout_prob", 0.1),
        ("classifier_dropout", None),
        ("hidden_act", "gelu"),
        ("hidden_dropout_prob", 0.1),
        ("hidden_size", 8),
        ("id2label", {"0": "negative", "1": "neutral", "2": "positive"}),
        ("initializer_range", 0.02),
        ("intermediate_size", 16),
        ("label2id", {"negative": 0, "neutral": 1, "positive": 2}),
        ("layer_norm_eps", 1e-12),
        ("max_position_embeddings", 20),
        ("model_type", "bert"),
        ("num_attention_heads", 2),
        ("num_hidden_layers", 2),
        ("pad_token_id", 0),
        ("position_embedding_type", "absolute"),
        ("problem_type", "single_label_classification"),
        ("torch_dtype", "float32"),
        ("transformers_version", "4.46.3"),
        ("type_vocab_size", 2),
        ("use_cache", True),
        ("vocab_size", 40),
    ])
    cfg.update(kw)
    return cfg


def bert_cls(cfg):
    sd = bert_encoder("bert.", cfg)
    h = cfg["hidden_size"]
    sd["bert.pooler.dense.weight"] = torch.randn(h, h)
    sd["bert.pooler.dense.bias"] = torch.randn(h)
    sd["classifier.weight"] = torch.randn(len(cfg["id2label"]), h)
    sd["classifier.bias"] = torch.randn(len(cfg["id2label"]))
    return sd


def bert_pretraining_legacy(cfg):
    """Like Google's original bert-base-uncased pytorch_model.bin: bert. prefix,
    LayerNorm gamma/beta, cls.* pre-training heads and the position_ids buffer."""
    sd = bert_encoder("bert.", cfg, legacy_ln=True)
    h, v = cfg["hidden_size"], cfg["vocab_size"]
    sd["bert.embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"]).expand((1, -1))
    sd["bert.pooler.dense.weight"] = torch.randn(h, h)
    sd["bert.pooler.dense.bias"] = torch.randn(h)
    sd["cls.predictions.bias"] = torch.randn(v)
    sd["cls.predictions.transform.dense.weight"] = torch.randn(h, h)
    sd["cls.predictions.transform.dense.bias"] = torch.randn(h)
    sd["cls.predictions.transform.LayerNorm.gamma"] = 1 + 0.1 * torch.randn(h)
    sd["cls.predictions.transform.LayerNorm.beta"] = 0.1 * torch.randn(h)
    # Tied to the word embeddings: the same storage, as torch saves it.
    sd["cls.predictions.decoder.weight"] = sd["bert.embeddings.word_embeddings.weight"]
    sd["cls.seq_relationship.weight"] = torch.randn(2, h)
    sd["cls.seq_relationship.bias"] = torch.randn(2)
    return sd


def bert_model(cfg):
    sd = bert_encoder("", cfg)
    h = cfg["hidden_size"]
    sd["pooler.dense.weight"] = torch.randn(h, h)
    sd["pooler.dense.bias"] = torch.randn(h)
    return sd


def roberta_config():
    cfg = bert_config(architectures=["RobertaForSequenceClassification"], model_type="roberta",
                      pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-05,
                      max_position_embeddings=22, type_vocab_size=1,
                      id2label={"0": "LABEL_0", "1": "LABEL_1"}, label2id={"LABEL_0": 0, "LABEL_1": 1})
    del cfg["problem_type"]
    return cfg


def roberta_cls(cfg):
    sd = bert_encoder("roberta.", cfg)
    h, n = cfg["hidden_size"], len(cfg["id2label"])
    sd["classifier.dense.weight"] = torch.randn(h, h)
    sd["classifier.dense.bias"] = torch.randn(h)
    sd["classifier.out_proj.weight"] = torch.randn(n, h)
    sd["classifier.out_proj.bias"] = torch.randn(n)
    return sd


def distilbert_config():
    return collections.OrderedDict([
        ("activation", "gelu"),
        ("architectures", ["DistilBertForSequenceClassification"]),
        ("attention_dropout", 0.1),
        ("dim", 8),
        ("dropout", 0.1),
        ("hidden_dim", 16),
        ("id2label", {"0": "ham", "1": "spam"}),
        ("initializer_range", 0.02),
        ("label2id", {"ham": 0, "spam": 1}),
        ("max_position_embeddings", 20),
        ("model_type", "distilbert"),
        ("n_heads", 2),
        ("n_layers", 2),
        ("pad_token_id", 0),
        ("problem_type", "multi_label_classification"),
        ("qa_dropout", 0.1),
        ("seq_classif_dropout", 0.2),
        ("sinusoidal_pos_embds", False),
        ("tie_weights_", True),
        ("torch_dtype", "float32"),
        ("transformers_version", "4.46.3"),
        ("vocab_size", 40),
    ])


def distilbert_cls(cfg):
    h, i, n = cfg["dim"], cfg["hidden_dim"], len(cfg["id2label"])
    sd = collections.OrderedDict()
    p = "distilbert."
    sd[p + "embeddings.word_embeddings.weight"] = torch.randn(cfg["vocab_size"], h)
    sd[p + "embeddings.position_embeddings.weight"] = torch.randn(cfg["max_position_embeddings"], h)
    sd[p + "embeddings.LayerNorm.weight"] = 1 + 0.1 * torch.randn(h)
    sd[p + "embeddings.LayerNorm.bias"] = 0.1 * torch.randn(h)
    for l in range(cfg["n_layers"]):
        q = p + "transformer.layer.%d." % l
        for m in ("q_lin", "k_lin", "v_lin", "out_lin"):
            sd[q + "attention.%s.weight" % m] = torch.randn(h, h)
            sd[q + "attention.%s.bias" % m] = torch.randn(h)
        sd[q + "sa_layer_norm.weight"] = 1 + 0.1 * torch.randn(h)
        sd[q + "sa_layer_norm.bias"] = 0.1 * torch.randn(h)
        sd[q + "ffn.lin1.weight"] = torch.randn(i, h)
        sd[q + "ffn.lin1.bias"] = torch.randn(i)
        sd[q + "ffn.lin2.weight"] = torch.randn(h, i)
        sd[q + "ffn.lin2.bias"] = torch.randn(h)
        sd[q + "output_layer_norm.weight"] = 1 + 0.1 * torch.randn(h)
        sd[q + "output_layer_norm.bias"] = 0.1 * torch.randn(h)
    sd["pre_classifier.weight"] = torch.randn(h, h)
    sd["pre_classifier.bias"] = torch.randn(h)
    sd["classifier.weight"] = torch.randn(n, h)
    sd["classifier.bias"] = torch.randn(n)
    return sd


# --- writers -----------------------------------------------------------------

def shard(sd, n):
    names = list(sd)
    per = (len(names) + n - 1) // n
    return [collections.OrderedDict((k, sd[k]) for k in names[j * per:(j + 1) * per]) for j in range(n)]


def total_size(sd):
    seen, total = set(), 0
    for t in sd.values():
        total += t.numel() * t.element_size()
    return total


def write_index(path, sd, files):
    weight_map = collections.OrderedDict()
    for fname, part in files:
        for k in part:
            weight_map[k] = fname
    with open(path, "w") as f:
        json.dump({"metadata": {"total_size": total_size(sd)},
                   "weight_map": collections.OrderedDict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")


def write_expected(d, sd):
    out = collections.OrderedDict()
    for name in sorted(sd):
        t = sd[name]
        ft = t.to(torch.float32)
        out[name] = collections.OrderedDict([
            ("dtype", ST_DTYPE[t.dtype]),
            ("shape", list(t.shape)),
            ("sum", ft.double().sum().item()),
            ("values", ft.flatten().tolist()),
        ])
    # Parameters as model.num_parameters() counts them: floating-point tensors,
    # tied tensors (one storage) once.
    seen, params = set(), 0
    for t in sd.values():
        if t.is_floating_point() and t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            params += t.numel()
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"parameters": params, "tensors": out}, f, separators=(",", ":"))
        f.write("\n")


def write_config(d, cfg):
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def torch_save(sd, path):
    sd = collections.OrderedDict(sd)
    sd._metadata = collections.OrderedDict()  # as module.state_dict() carries
    torch.save(sd, path)


def generate(root):
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)

    def mk(name):
        d = os.path.join(root, name)
        os.makedirs(d)
        return d

    torch.manual_seed(20261129)
    cfg = bert_config()
    sd = bert_cls(cfg)

    d = mk("bert_f32")
    write_config(d, cfg)
    save_safetensors(sd, os.path.join(d, "model.safetensors"))
    write_expected(d, sd)

    for dt, name in ((torch.float16, "bert_f16"), (torch.bfloat16, "bert_bf16")):
        d = mk(name)
        half = collections.OrderedDict((k, v.to(dt)) for k, v in sd.items())
        write_config(d, bert_config(torch_dtype=str(dt).replace("torch.", "")))
        save_safetensors(half, os.path.join(d, "model.safetensors"))
        write_expected(d, half)

    d = mk("bert_sharded")
    write_config(d, cfg)
    parts = shard(sd, 2)
    files = []
    for j, part in enumerate(parts):
        fname = "model-%05d-of-%05d.safetensors" % (j + 1, len(parts))
        save_safetensors(part, os.path.join(d, fname))
        files.append((fname, part))
    write_index(os.path.join(d, "model.safetensors.index.json"), sd, files)
    write_expected(d, sd)

    d = mk("bert_bin")
    write_config(d, cfg)
    torch_save(sd, os.path.join(d, "pytorch_model.bin"))
    write_expected(d, sd)

    d = mk("bert_bin_sharded")
    write_config(d, cfg)
    files = []
    for j, part in enumerate(parts):
        fname = "pytorch_model-%05d-of-%05d.bin" % (j + 1, len(parts))
        torch_save(part, os.path.join(d, fname))
        files.append((fname, part))
    write_index(os.path.join(d, "pytorch_model.bin.index.json"), sd, files)
    write_expected(d, sd)

    # Both formats present: safetensors must win (the .bin holds other values).
    d = mk("bert_both")
    write_config(d, cfg)
    save_safetensors(sd, os.path.join(d, "model.safetensors"))
    torch_save(collections.OrderedDict((k, torch.zeros_like(v)) for k, v in sd.items()),
               os.path.join(d, "pytorch_model.bin"))
    write_expected(d, sd)

    # A bare encoder (BertModel): no "bert." prefix, no classifier.
    d = mk("bert_base_model")
    bm = bert_model(cfg)
    bcfg = bert_config(architectures=["BertModel"])
    for k in ("id2label", "label2id", "problem_type"):
        del bcfg[k]
    write_config(d, bcfg)
    save_safetensors(bm, os.path.join(d, "model.safetensors"))
    write_expected(d, bm)

    # Google's original layout: gamma/beta, cls.* heads, int64 position_ids, tied decoder.
    d = mk("bert_pretraining_legacy")
    pt = bert_pretraining_legacy(cfg)
    pcfg = bert_config(architectures=["BertForPreTraining"])
    for k in ("id2label", "label2id", "problem_type"):
        del pcfg[k]
    write_config(d, pcfg)
    torch_save(pt, os.path.join(d, "pytorch_model.bin"))
    write_expected(d, pt)

    d = mk("distilbert_f32")
    dcfg = distilbert_config()
    dsd = distilbert_cls(dcfg)
    write_config(d, dcfg)
    save_safetensors(dsd, os.path.join(d, "model.safetensors"))
    write_expected(d, dsd)

    # RoBERTa in F16 inside a torch .bin, with a non-contiguous (transposed) tensor.
    d = mk("roberta_bin_f16")
    rcfg = roberta_config()
    rsd = roberta_cls(rcfg)
    rsd = collections.OrderedDict((k, v.to(torch.float16)) for k, v in rsd.items())
    rsd["classifier.dense.weight"] = torch.randn(rcfg["hidden_size"], rcfg["hidden_size"]).to(torch.float16).t()
    assert not rsd["classifier.dense.weight"].is_contiguous()
    write_config(d, rcfg)
    torch_save(rsd, os.path.join(d, "pytorch_model.bin"))
    write_expected(d, rsd)

    # A .bin whose pickle calls os.system: loading must fail without running it.
    d = mk("malicious_bin")
    write_config(d, cfg)
    evil = collections.OrderedDict([("classifier.bias", torch.zeros(3)), ("classifier.weight", Evil())])
    torch.save(evil, os.path.join(d, "pytorch_model.bin"))


class Evil:
    """Unpickling this runs a shell command: textclf must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo textclf-must-not-run-this",))


def check(expected_path, d):
    with open(expected_path) as f:
        expected = json.load(f)["tensors"]
    got, _ = load_safetensors(os.path.join(d, "model.safetensors"))
    bad = 0
    for name, e in expected.items():
        if name not in got:
            print("missing tensor", name)
            bad += 1
            continue
        t = got[name].to(torch.float32)
        want = torch.tensor(e["values"], dtype=torch.float32).reshape(e["shape"])
        if list(t.shape) != e["shape"] or not torch.equal(t, want):
            print("tensor differs:", name)
            bad += 1
    for name in got:
        if name not in expected:
            print("unexpected tensor", name)
            bad += 1
    if bad:
        sys.exit(1)
    print("ok: %d tensors identical" % len(expected))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and len(sys.argv) % 2 == 0 and sys.argv[1] == "check":
        for i in range(2, len(sys.argv), 2):
            check(sys.argv[i], sys.argv[i + 1])
    elif len(sys.argv) == 2:
        generate(sys.argv[1])
    else:
        sys.exit(__doc__)
