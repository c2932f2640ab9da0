#!/usr/bin/python3
"""Builds the random initial checkpoint of the SST-2 accuracy run.

    /usr/bin/python3 bench/train/init.py OUT_DIR TOKENIZER_JSON [--seed S] [--dropout P]
        [--layers 4] [--hidden 256] [--heads 4] [--intermediate 1024] [--max-positions 128]

writes OUT_DIR/{config.json, model.safetensors, tokenizer.json}: a
BertForSequenceClassification (scripts/model/reference.py, HF names) with
labels "0","1", initialised as transformers' BertPreTrainedModel._init_weights
does it (Linear and Embedding weights normal(0, initializer_range), biases 0,
the padding row of the word embeddings 0, LayerNorm 1/0), from torch.manual_seed(S).
"""
import argparse
import json
import os
import shutil

import torch
from torch import nn

from common import reference, save_safetensors, write_json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("tokenizer")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--max-positions", type=int, default=128)
    a = ap.parse_args()

    with open(a.tokenizer) as f:
        vocab = len(json.load(f)["model"]["vocab"])
    labels = ["0", "1"]
    cfg = {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": a.dropout,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": a.dropout,
        "hidden_size": a.hidden,
        "id2label": {str(i): n for i, n in enumerate(labels)},
        "initializer_range": 0.02,
        "intermediate_size": a.intermediate,
        "label2id": {n: i for i, n in enumerate(labels)},
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": a.max_positions,
        "model_type": "bert",
        "num_attention_heads": a.heads,
        "num_hidden_layers": a.layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": vocab,
    }
    torch.manual_seed(a.seed)
    model = reference.BertForSequenceClassification(cfg)
    std = cfg["initializer_range"]
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, std)
                m.bias.zero_()
            elif isinstance(m, nn.Embedding):
                m.weight.normal_(0.0, std)
                if m.padding_idx is not None:
                    m.weight[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                m.weight.fill_(1.0)
                m.bias.zero_()
    os.makedirs(a.out, exist_ok=True)
    save_safetensors(dict(model.state_dict()), os.path.join(a.out, "model.safetensors"))
    write_json(cfg, os.path.join(a.out, "config.json"))
    shutil.copyfile(a.tokenizer, os.path.join(a.out, "tokenizer.json"))
    n = sum(p.numel() for p in model.parameters())
    print("init: %d parameters (%d layers x %d hidden, %d heads, %d intermediate, vocab %d), seed %d -> %s"
          % (n, a.layers, a.hidden, a.heads, a.intermediate, vocab, a.seed, a.out))


if __name__ == "__main__":
    main()
