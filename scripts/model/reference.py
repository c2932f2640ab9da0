"""Reference PyTorch modules for textclf's golden model tests.

Debian has no `transformers` package, so this file re-states, as plain
torch.nn.Modules, the parts of transformers' modeling files that textclf's Go
models must match (models/bert/modeling_bert.py, models/roberta/modeling_roberta.py,
models/distilbert/modeling_distilbert.py; eager attention, absolute position
embeddings, no cache, no head mask):

- BertForSequenceClassification (also Chinese / multilingual BERT: only the
  config and vocabulary differ),
- RobertaForSequenceClassification (also XLM-RoBERTa: transformers'
  XLMRobertaForSequenceClassification is the same code with the same
  `roberta.` prefix),
- DistilBertForSequenceClassification.

The module tree mirrors transformers' so that `state_dict()` names are exactly
HF's (`bert.encoder.layer.0.attention.self.query.weight`, `classifier.out_proj.bias`,
`distilbert.transformer.layer.1.ffn.lin2.weight`, ...). Each model is built from
an HF-style config dict (the content of config.json) and returns
(logits, loss, last_hidden_state).

Math kept exactly as transformers has it:
- BERT/RoBERTa: extended mask `(1 - mask) * finfo(float32).min` added to the
  scores `q k^T / sqrt(head_dim)`; softmax; post-LN residual blocks; embeddings
  `(word + token_type) + position`, LayerNorm(eps = layer_norm_eps).
- RoBERTa: position ids from the padding index
  (`create_position_ids_from_input_ids`: cumsum of the non-pad mask, times the
  mask, plus padding_idx); position embeddings have padding_idx = pad_token_id.
- DistilBERT: no token types; q divided by sqrt(head_dim) before the product;
  scores masked_fill(mask == 0, finfo.min); all LayerNorms eps 1e-12.
- nn.Embedding(padding_idx=pad_token_id) for word embeddings (and RoBERTa's
  position embeddings) as in transformers: the gradient of that row is always 0.
- Heads: BERT pooler (dense + tanh on token 0) -> dropout -> classifier;
  RobertaClassificationHead (token 0 -> dropout -> dense -> tanh -> dropout ->
  out_proj); DistilBERT token 0 -> pre_classifier -> ReLU -> dropout -> classifier.
- Loss as transformers infers `problem_type` when the config has none:
  num_labels == 1 -> regression (MSE on squeezed logits/labels); labels long or
  int -> single_label_classification (cross-entropy); else
  multi_label_classification (BCEWithLogits).
"""
import math
from types import SimpleNamespace

import torch
from torch import nn

F32_MIN = torch.finfo(torch.float32).min


# --- activations (transformers' ACT2FN names used by these models) -----------

class NewGELU(nn.Module):
    """transformers' NewGELUActivation (the tanh approximation, "gelu_new")."""

    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class PytorchTanhGELU(nn.Module):
    """transformers' PytorchGELUTanh ("gelu_pytorch_tanh")."""

    def forward(self, x):
        return nn.functional.gelu(x, approximate="tanh")


class ExactGELU(nn.Module):
    """transformers' GELUActivation ("gelu"): the erf form."""

    def forward(self, x):
        return nn.functional.gelu(x)


def activation(name):
    if name == "gelu":
        return ExactGELU()
    if name == "gelu_new":
        return NewGELU()
    if name == "gelu_pytorch_tanh":
        return PytorchTanhGELU()
    if name == "relu":
        return nn.ReLU()
    raise ValueError("unsupported activation %r" % name)


def cfg_ns(cfg):
    return SimpleNamespace(**cfg)


def num_labels(cfg):
    return len(cfg["id2label"])


# --- loss as transformers' *ForSequenceClassification.forward ------------------

def problem_type(cfg, labels):
    """The problem_type transformers uses: the config's, else inferred."""
    pt = cfg.get("problem_type")
    if pt is not None:
        return pt
    n = num_labels(cfg)
    if n == 1:
        return "regression"
    if labels.dtype in (torch.long, torch.int):
        return "single_label_classification"
    return "multi_label_classification"


def classification_loss(cfg, logits, labels):
    pt = problem_type(cfg, labels)
    n = num_labels(cfg)
    if pt == "regression":
        if n == 1:
            return nn.MSELoss()(logits.squeeze(), labels.squeeze())
        return nn.MSELoss()(logits, labels)
    if pt == "single_label_classification":
        return nn.CrossEntropyLoss()(logits.view(-1, n), labels.view(-1))
    if pt == "multi_label_classification":
        return nn.BCEWithLogitsLoss()(logits, labels)
    raise ValueError("unknown problem_type %r" % pt)


# --- BERT / RoBERTa encoder ---------------------------------------------------

def create_position_ids_from_input_ids(input_ids, padding_idx):
    """RoBERTa's position ids: padding_idx+1, padding_idx+2, ... for real
    tokens, padding_idx for pad tokens."""
    mask = input_ids.ne(padding_idx).int()
    incremental = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental.long() + padding_idx


class BertEmbeddings(nn.Module):
    def __init__(self, c, roberta=False):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.roberta = roberta
        if roberta:
            self.padding_idx = c.pad_token_id
            self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size,
                                                    padding_idx=self.padding_idx)
        else:
            self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.register_buffer("position_ids", torch.arange(c.max_position_embeddings).expand((1, -1)),
                             persistent=False)

    def forward(self, input_ids, token_type_ids):
        T = input_ids.size(1)
        if self.roberta:
            position_ids = create_position_ids_from_input_ids(input_ids, self.padding_idx)
        else:
            position_ids = self.position_ids[:, :T]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        emb = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        emb = emb + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(emb))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_heads = c.num_attention_heads
        self.head_size = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def heads(self, x):
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.head_size).permute(0, 2, 1, 3)

    def forward(self, h, ext_mask):
        q, k, v = self.heads(self.query(h)), self.heads(self.key(h)), self.heads(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size)
        scores = scores + ext_mask  # [B,1,1,T]: 0 for tokens, finfo.min for padding
        probs = self.dropout(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size(0), ctx.size(1), -1)


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, inp):
        return self.LayerNorm(self.dropout(self.dense(h)) + inp)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, h, ext_mask):
        return self.output(self.self(h, ext_mask), h)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.intermediate_act_fn = activation(c.hidden_act)

    def forward(self, h):
        return self.intermediate_act_fn(self.dense(h))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, inp):
        return self.LayerNorm(self.dropout(self.dense(h)) + inp)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, h, ext_mask):
        a = self.attention(h, ext_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, h, ext_mask):
        for layer in self.layer:
            h = layer(h, ext_mask)
        return h


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, h):
        return self.activation(self.dense(h[:, 0]))


def extended_attention_mask(attention_mask, dtype=torch.float32):
    """transformers' get_extended_attention_mask for an encoder: [B,T] ->
    [B,1,1,T], (1 - mask) * finfo(dtype).min."""
    ext = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - ext) * torch.finfo(dtype).min


class BertModel(nn.Module):
    def __init__(self, c, add_pooling_layer=True, roberta=False):
        super().__init__()
        self.embeddings = BertEmbeddings(c, roberta=roberta)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        h = self.embeddings(input_ids, token_type_ids)
        ext = extended_attention_mask(attention_mask, h.dtype)
        seq = self.encoder(h, ext)
        pooled = self.pooler(seq) if self.pooler is not None else None
        return seq, pooled


class BertForSequenceClassification(nn.Module):
    base_prefix = "bert"

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c = cfg_ns(cfg)
        self.bert = BertModel(c)
        p = cfg.get("classifier_dropout")
        self.dropout = nn.Dropout(p if p is not None else c.hidden_dropout_prob)
        self.classifier = nn.Linear(c.hidden_size, num_labels(cfg))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        seq, pooled = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(pooled))
        loss = classification_loss(self.cfg, logits, labels) if labels is not None else None
        return logits, loss, seq


class RobertaClassificationHead(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        p = getattr(c, "classifier_dropout", None)
        self.dropout = nn.Dropout(p if p is not None else c.hidden_dropout_prob)
        self.out_proj = nn.Linear(c.hidden_size, n)

    def forward(self, features):
        x = self.dropout(features[:, 0, :])  # <s>
        x = torch.tanh(self.dense(x))
        return self.out_proj(self.dropout(x))


class RobertaForSequenceClassification(nn.Module):
    """Also XLMRobertaForSequenceClassification (same code, same names)."""
    base_prefix = "roberta"

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c = cfg_ns(cfg)
        self.roberta = BertModel(c, add_pooling_layer=False, roberta=True)
        self.classifier = RobertaClassificationHead(c, num_labels(cfg))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        seq, _ = self.roberta(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(seq)
        loss = classification_loss(self.cfg, logits, labels) if labels is not None else None
        return logits, loss, seq


# --- DistilBERT ---------------------------------------------------------------

DISTIL_LN_EPS = 1e-12  # hard-coded in modeling_distilbert.py


class DistilEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.sinusoidal_pos_embds:
            raise ValueError("sinusoidal_pos_embds is not covered by these goldens")
        self.word_embeddings = nn.Embedding(c.vocab_size, c.dim, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.dim)
        self.LayerNorm = nn.LayerNorm(c.dim, eps=DISTIL_LN_EPS)
        self.dropout = nn.Dropout(c.dropout)
        self.register_buffer("position_ids", torch.arange(c.max_position_embeddings).expand((1, -1)),
                             persistent=False)

    def forward(self, input_ids):
        pos = self.position_ids[:, :input_ids.size(1)]
        emb = self.word_embeddings(input_ids) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(emb))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_heads = c.n_heads
        self.dim = c.dim
        self.dropout = nn.Dropout(c.attention_dropout)
        self.q_lin = nn.Linear(c.dim, c.dim)
        self.k_lin = nn.Linear(c.dim, c.dim)
        self.v_lin = nn.Linear(c.dim, c.dim)
        self.out_lin = nn.Linear(c.dim, c.dim)

    def forward(self, x, mask):
        B, T, _ = x.shape
        d = self.dim // self.n_heads

        def shape(t):
            return t.view(B, -1, self.n_heads, d).transpose(1, 2)

        q, k, v = shape(self.q_lin(x)), shape(self.k_lin(x)), shape(self.v_lin(x))
        q = q / math.sqrt(d)
        scores = torch.matmul(q, k.transpose(2, 3))
        m = (mask == 0).view(B, 1, 1, T).expand_as(scores)
        scores = scores.masked_fill(m, torch.tensor(torch.finfo(scores.dtype).min))
        w = self.dropout(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(w, v).transpose(1, 2).contiguous().view(B, -1, self.n_heads * d)
        return self.out_lin(ctx)


class FFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dropout = nn.Dropout(c.dropout)
        self.lin1 = nn.Linear(c.dim, c.hidden_dim)
        self.lin2 = nn.Linear(c.hidden_dim, c.dim)
        self.activation = activation(c.activation)

    def forward(self, x):
        return self.dropout(self.lin2(self.activation(self.lin1(x))))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = MultiHeadSelfAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c.dim, eps=DISTIL_LN_EPS)
        self.ffn = FFN(c)
        self.output_layer_norm = nn.LayerNorm(c.dim, eps=DISTIL_LN_EPS)

    def forward(self, x, mask):
        sa = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(sa) + sa)


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([TransformerBlock(c) for _ in range(c.n_layers)])

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class DistilBertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = DistilEmbeddings(c)
        self.transformer = Transformer(c)

    def forward(self, input_ids, attention_mask):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self.transformer(self.embeddings(input_ids), attention_mask)


class DistilBertForSequenceClassification(nn.Module):
    base_prefix = "distilbert"

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c = cfg_ns(cfg)
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c.dim, c.dim)
        self.classifier = nn.Linear(c.dim, num_labels(cfg))
        self.dropout = nn.Dropout(c.seq_classif_dropout)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        if token_type_ids is not None:
            raise ValueError("DistilBERT has no token types")
        seq = self.distilbert(input_ids, attention_mask)
        pooled = nn.ReLU()(self.pre_classifier(seq[:, 0]))
        logits = self.classifier(self.dropout(pooled))
        loss = classification_loss(self.cfg, logits, labels) if labels is not None else None
        return logits, loss, seq


# --- masked language models (BertForMaskedLM, RobertaForMaskedLM) -------------
#
# modeling_bert.py: BertForMaskedLM = BertModel(add_pooling_layer=False) + cls
# (BertOnlyMLMHead -> predictions: BertLMPredictionHead = transform
# (BertPredictionHeadTransform: dense, ACT2FN[hidden_act], LayerNorm) then
# decoder Linear(hidden, vocab, bias=False) whose bias is the head's own
# `bias` parameter and whose weight is tied to bert.embeddings.word_embeddings
# (tie_weights)). modeling_roberta.py: RobertaForMaskedLM = roberta + lm_head
# (RobertaLMHead: dense, gelu, layer_norm, decoder tied the same way, bias).
# The loss is CrossEntropyLoss() (ignore_index -100, mean over the rest) of
# logits.view(-1, vocab) against labels.view(-1).

class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.transform_act_fn = activation(c.hidden_act)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, h):
        return self.LayerNorm(self.transform_act_fn(self.dense(h)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, h):
        return self.decoder(self.transform(h))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)

    def forward(self, h):
        return self.predictions(h)


def mlm_loss(logits, labels, vocab):
    return nn.CrossEntropyLoss()(logits.view(-1, vocab), labels.view(-1))


class BertForMaskedLM(nn.Module):
    base_prefix = "bert"
    # save_pretrained drops these copies of tied weights from the file
    tied_keys = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c = cfg_ns(cfg)
        self.bert = BertModel(c, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(c)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        seq, _ = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.cls(seq)
        loss = mlm_loss(logits, labels, self.cfg["vocab_size"]) if labels is not None else None
        return logits, loss, seq


class RobertaLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.layer_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.decoder = nn.Linear(c.hidden_size, c.vocab_size)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, features):
        x = nn.functional.gelu(self.dense(features))  # transformers.activations.gelu: the exact GELU
        return self.decoder(self.layer_norm(x))


class RobertaForMaskedLM(nn.Module):
    """Also XLMRobertaForMaskedLM (same code, same names)."""
    base_prefix = "roberta"
    tied_keys = ("lm_head.decoder.weight", "lm_head.decoder.bias")

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c = cfg_ns(cfg)
        self.roberta = BertModel(c, add_pooling_layer=False, roberta=True)
        self.lm_head = RobertaLMHead(c)
        self.lm_head.decoder.weight = self.roberta.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        seq, _ = self.roberta(input_ids, attention_mask, token_type_ids)
        logits = self.lm_head(seq)
        loss = mlm_loss(logits, labels, self.cfg["vocab_size"]) if labels is not None else None
        return logits, loss, seq


ARCHITECTURES = {
    "BertForMaskedLM": BertForMaskedLM,
    "RobertaForMaskedLM": RobertaForMaskedLM,
    "XLMRobertaForMaskedLM": RobertaForMaskedLM,
    "BertForSequenceClassification": BertForSequenceClassification,
    "RobertaForSequenceClassification": RobertaForSequenceClassification,
    "XLMRobertaForSequenceClassification": RobertaForSequenceClassification,
    "DistilBertForSequenceClassification": DistilBertForSequenceClassification,
}


def from_config(cfg):
    """Builds the model named by cfg["architectures"][0]."""
    return ARCHITECTURES[cfg["architectures"][0]](cfg)
