"""Reference PyTorch modules for textclf's decoder and ModernBERT golden tests.

Debian has no `transformers` package, so this file re-states, as plain
torch.nn.Modules, what textclf's Go models must match from transformers'
modeling files (eager attention, no cache, no head mask):

- GPT2ForSequenceClassification (models/gpt2/modeling_gpt2.py): wte + wpe
  (position ids 0..T-1, as cache_position, whatever the padding), pre-LN
  blocks ln_1 / attn (Conv1D c_attn: x @ W + b, W [in, 3C], split into q, k,
  v; scores / sqrt(head_dim); causal + padding mask) / c_proj, ln_2 / mlp
  (c_fc, gelu_new, c_proj), ln_f; score (no bias) on every token, then the
  logits of the last non-padding token.
- LlamaForSequenceClassification (models/llama/modeling_llama.py), with
  Qwen2's (models/qwen2/modeling_qwen2.py: q/k/v biases, o_proj without) and
  Mistral's (sliding window) variants: embed_tokens (padding_idx), RMSNorm
  (float32 variance, weight * x * rsqrt(var + eps)), rotary embeddings
  (inv_freq = 1 / theta^(arange(0, d, 2) / d), rope_scaling linear (inv_freq /
  factor) or llama3 (_compute_llama3_parameters)), cos/sin of cat(freqs,
  freqs), q*cos + rotate_half(q)*sin, grouped-query attention (repeat_kv),
  causal + padding (+ sliding window: key > query - sliding_window) mask,
  o_proj, SwiGLU MLP down(silu(gate(x)) * up(x)), final norm, score (no
  bias), last non-padding token.
- ModernBertForSequenceClassification (models/modernbert/modeling_modernbert.py):
  tok_embeddings (padding_idx) -> LayerNorm (bias=norm_bias) -> dropout;
  layers with attn_norm (Identity in layer 0), Wqkv viewed [B, T, 3, H, D],
  RoPE with the layer type's theta (global_rope_theta / local_rope_theta),
  bidirectional attention with the padding mask, or on local layers the
  sliding-window mask |i - j| <= local_attention // 2; Wo; mlp_norm; GeGLU
  MLP Wo(act(input) * gate) with input, gate = Wi(x).chunk(2); final_norm;
  pooling "cls" (token 0) or "mean" (masked mean); head dense -> act ->
  norm; dropout; classifier (with bias).

Masks are additive with finfo(float32).min at masked positions, as
transformers' eager paths build them. The last non-padding token is
transformers' current rule: argmax over positions of position * (id != pad),
which handles left and right padding; without pad_token_id the batch must be
one text and the last position is used. Loss as the models' (problem type
inferred as transformers does). Each model is built from an HF config dict
(the content of config.json) and returns (logits, loss); state_dict() names
are HF's.
"""
import math

import torch
from torch import nn

import reference

F32_MIN = torch.finfo(torch.float32).min


def seq_cls_loss(cfg, num_labels, logits, labels):
    if labels is None:
        return None
    problem = cfg.get("problem_type")
    if problem is None:
        if num_labels == 1:
            problem = "regression"
        elif labels.dtype in (torch.long, torch.int):
            problem = "single_label_classification"
        else:
            problem = "multi_label_classification"
    if problem == "regression":
        if num_labels == 1:
            return nn.functional.mse_loss(logits.squeeze(), labels.squeeze())
        return nn.functional.mse_loss(logits, labels)
    if problem == "single_label_classification":
        return nn.functional.cross_entropy(logits.view(-1, num_labels), labels.view(-1))
    return nn.functional.binary_cross_entropy_with_logits(logits, labels)


def last_token_logits(cfg, ids, logits):
    """Pooled logits of the last non-padding token (transformers' rule)."""
    B = ids.shape[0]
    pad = cfg.get("pad_token_id")
    if pad is None and B != 1:
        raise ValueError("Cannot handle batch sizes > 1 if no padding token is defined.")
    if pad is None:
        last = -1
    else:
        non_pad = (ids != pad).to(torch.int32)
        idx = torch.arange(ids.shape[-1], dtype=torch.int32)
        last = (idx * non_pad).argmax(-1)
    return logits[torch.arange(B), last]


def additive_mask(mask, causal=False, window=None, local=None):
    """[B, 1, T, T] mask: 0 where query i may see key j, min elsewhere.
    window: causal sliding window (key > query - window); local: bidirectional
    |i - j| <= local."""
    B, T = mask.shape
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    ok = mask[:, None, None, :].bool().expand(B, 1, T, T)
    if causal:
        ok = ok & (j <= i)
    if window is not None:
        ok = ok & (j > i - window)
    if local is not None:
        ok = ok & ((i - j).abs() <= local)
    return torch.zeros(B, 1, T, T).masked_fill(~ok, F32_MIN)


def eager_attention(q, k, v, mask4, scaling, dropout, training):
    """q [B, H, T, D], k, v [B, KVH, T, D] (repeat_kv for grouped queries)."""
    groups = q.shape[1] // k.shape[1]
    if groups > 1:  # repeat_kv: expand and reshape (exports to ONNX)
        B, KV, T, D = k.shape
        k = k[:, :, None].expand(B, KV, groups, T, D).reshape(B, KV * groups, T, D)
        v = v[:, :, None].expand(B, KV, groups, T, D).reshape(B, KV * groups, T, D)
    w = torch.matmul(q, k.transpose(2, 3)) * scaling + mask4
    w = nn.functional.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
    w = nn.functional.dropout(w, p=dropout, training=training)
    return torch.matmul(w, v)


# --- GPT-2 ---------------------------------------------------------------------

class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        self.embed_dim = cfg["n_embd"]
        self.num_heads = cfg["n_head"]
        self.head_dim = self.embed_dim // self.num_heads
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = cfg["attn_pdrop"]
        self.resid_dropout = nn.Dropout(cfg["resid_pdrop"])
        self.scaling = self.head_dim ** -0.5 if cfg.get("scale_attn_weights", True) else 1.0
        if cfg.get("scale_attn_by_inverse_layer_idx", False):
            self.scaling /= float(layer_idx + 1)

    def forward(self, x, mask4):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.embed_dim, dim=2)
        shape = (B, T, self.num_heads, self.head_dim)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        o = eager_attention(q, k, v, mask4, self.scaling, self.attn_dropout, self.training)
        o = o.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(o))


class GPT2MLP(nn.Module):
    def __init__(self, inner, cfg):
        super().__init__()
        self.c_fc = Conv1D(inner, cfg["n_embd"])
        self.c_proj = Conv1D(cfg["n_embd"], inner)
        self.act = reference.activation(cfg.get("activation_function", "gelu_new"))
        self.dropout = nn.Dropout(cfg["resid_pdrop"])

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        C, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        inner = cfg.get("n_inner") or 4 * C
        self.ln_1 = nn.LayerNorm(C, eps=eps)
        self.attn = GPT2Attention(cfg, i)
        self.ln_2 = nn.LayerNorm(C, eps=eps)
        self.mlp = GPT2MLP(inner, cfg)

    def forward(self, x, mask4):
        x = x + self.attn(self.ln_1(x), mask4)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["n_embd"]
        self.wte = nn.Embedding(cfg["vocab_size"], C)
        self.wpe = nn.Embedding(cfg["n_positions"], C)
        self.drop = nn.Dropout(cfg["embd_pdrop"])
        self.h = nn.ModuleList([GPT2Block(cfg, i) for i in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(C, eps=cfg["layer_norm_epsilon"])

    def forward(self, ids, mask):
        T = ids.shape[1]
        pos = torch.arange(T).unsqueeze(0)
        x = self.drop(self.wte(ids) + self.wpe(pos))
        mask4 = additive_mask(mask, causal=True)
        for blk in self.h:
            x = blk(x, mask4)
        return self.ln_f(x)


class GPT2ForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.num_labels = len(cfg["id2label"])
        self.transformer = GPT2Model(cfg)
        self.score = nn.Linear(cfg["n_embd"], self.num_labels, bias=False)

    def forward(self, ids, mask, labels=None):
        logits = last_token_logits(self.cfg, ids, self.score(self.transformer(ids, mask)))
        return logits, seq_cls_loss(self.cfg, self.num_labels, logits, labels)


# --- Llama, Qwen2, Mistral -------------------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.eps)
        return self.weight * x.to(dtype)


def rope_inv_freq(theta, dim, scaling=None):
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if not scaling:
        return inv
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind in (None, "default"):
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wave, high_wave = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wave, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wave) * ~(wavelen > low_wave)
        return torch.where(medium, smoothed, inv_l)
    raise ValueError(kind)


def rope_cos_sin(inv_freq, T):
    pos = torch.arange(T).float()
    freqs = pos[:, None] * inv_freq.float()[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(q, k, cos, sin):
    cos, sin = cos[None, None], sin[None, None]
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class LlamaAttention(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        C, H = cfg["hidden_size"], cfg["num_attention_heads"]
        self.H, self.KV = H, cfg.get("num_key_value_heads") or H
        self.D = cfg.get("head_dim") or C // H
        qkv_bias = o_bias = cfg.get("attention_bias", False)
        if kind == "qwen2":
            qkv_bias, o_bias = True, False
        self.q_proj = nn.Linear(C, self.H * self.D, bias=qkv_bias)
        self.k_proj = nn.Linear(C, self.KV * self.D, bias=qkv_bias)
        self.v_proj = nn.Linear(C, self.KV * self.D, bias=qkv_bias)
        self.o_proj = nn.Linear(self.H * self.D, C, bias=o_bias)
        self.dropout = cfg.get("attention_dropout", 0.0)

    def forward(self, x, cos, sin, mask4):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.D).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.KV, self.D).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.KV, self.D).transpose(1, 2)
        q, k = apply_rope(q, k, cos, sin)
        o = eager_attention(q, k, v, mask4, self.D ** -0.5, self.dropout, self.training)
        return self.o_proj(o.transpose(1, 2).reshape(B, T, self.H * self.D))


class LlamaMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, I, bias = cfg["hidden_size"], cfg["intermediate_size"], cfg.get("mlp_bias", False)
        self.gate_proj = nn.Linear(C, I, bias=bias)
        self.up_proj = nn.Linear(C, I, bias=bias)
        self.down_proj = nn.Linear(I, C, bias=bias)

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        C, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        self.self_attn = LlamaAttention(cfg, kind)
        self.mlp = LlamaMLP(cfg)
        self.input_layernorm = RMSNorm(C, eps)
        self.post_attention_layernorm = RMSNorm(C, eps)

    def forward(self, x, cos, sin, mask4):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask4)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        self.cfg, self.kind = cfg, kind
        C = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], C, cfg.get("pad_token_id"))
        self.layers = nn.ModuleList([LlamaDecoderLayer(cfg, kind) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(C, cfg["rms_norm_eps"])
        D = cfg.get("head_dim") or C // cfg["num_attention_heads"]
        params = cfg.get("rope_parameters") or {}
        theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
        self.inv_freq = rope_inv_freq(theta, D, cfg.get("rope_scaling") or params)

    def layer_windows(self):
        cfg, kind = self.cfg, self.kind
        n = cfg["num_hidden_layers"]
        if kind == "mistral":
            return [cfg.get("sliding_window")] * n
        if kind == "qwen2":
            w = cfg.get("sliding_window") if cfg.get("use_sliding_window") else None
            types = cfg.get("layer_types") or [
                "sliding_attention" if w is not None and i >= cfg.get("max_window_layers", 28) else "full_attention"
                for i in range(n)]
            return [w if t == "sliding_attention" else None for t in types]
        return [None] * n

    def forward(self, ids, mask):
        T = ids.shape[1]
        x = self.embed_tokens(ids)
        cos, sin = rope_cos_sin(self.inv_freq, T)
        for layer, w in zip(self.layers, self.layer_windows()):
            x = layer(x, cos, sin, additive_mask(mask, causal=True, window=w))
        return self.norm(x)


class LlamaForSequenceClassification(nn.Module):
    """Also Qwen2ForSequenceClassification (kind "qwen2") and
    MistralForSequenceClassification (kind "mistral")."""

    def __init__(self, cfg, kind="llama"):
        super().__init__()
        self.cfg = cfg
        self.num_labels = len(cfg["id2label"])
        self.model = LlamaModel(cfg, kind)
        self.score = nn.Linear(cfg["hidden_size"], self.num_labels, bias=False)

    def forward(self, ids, mask, labels=None):
        logits = last_token_logits(self.cfg, ids, self.score(self.model(ids, mask)))
        return logits, seq_cls_loss(self.cfg, self.num_labels, logits, labels)


# --- ModernBERT -------------------------------------------------------------------

def modernbert_layer_types(cfg):
    n = cfg["num_hidden_layers"]
    every = cfg.get("global_attn_every_n_layers", 3)
    return cfg.get("layer_types") or ["sliding_attention" if i % every else "full_attention" for i in range(n)]


def modernbert_thetas(cfg):
    params = cfg.get("rope_parameters")
    if params:
        return params["full_attention"]["rope_theta"], params["sliding_attention"]["rope_theta"]
    return cfg.get("global_rope_theta", 160000.0), cfg.get("local_rope_theta", 10000.0)


class ModernBertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["hidden_size"]
        self.tok_embeddings = nn.Embedding(cfg["vocab_size"], C, padding_idx=cfg["pad_token_id"])
        self.norm = nn.LayerNorm(C, eps=cfg["norm_eps"], elementwise_affine=True)
        if not cfg["norm_bias"]:
            self.norm.bias = None
        self.drop = nn.Dropout(cfg.get("embedding_dropout", 0.0))

    def forward(self, ids):
        return self.drop(self.norm(self.tok_embeddings(ids)))


def layer_norm(C, cfg):
    ln = nn.LayerNorm(C, eps=cfg["norm_eps"])
    if not cfg["norm_bias"]:
        ln.bias = None
    return ln


class ModernBertAttention(nn.Module):
    def __init__(self, cfg, layer_id, local):
        super().__init__()
        C, H = cfg["hidden_size"], cfg["num_attention_heads"]
        self.H, self.D = H, C // H
        self.Wqkv = nn.Linear(C, 3 * C, bias=cfg["attention_bias"])
        self.Wo = nn.Linear(C, C, bias=cfg["attention_bias"])
        self.local = cfg["local_attention"] // 2 if local else None
        self.dropout = cfg.get("attention_dropout", 0.0)
        self.out_drop = nn.Dropout(self.dropout)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        qkv = self.Wqkv(x).view(B, T, 3, self.H, self.D)
        q, k, v = qkv.transpose(3, 1).unbind(dim=2)
        q, k = apply_rope(q, k, cos, sin)
        mask4 = additive_mask(mask, local=self.local)
        o = eager_attention(q, k, v, mask4, self.D ** -0.5, self.dropout, self.training)
        return self.out_drop(self.Wo(o.transpose(1, 2).reshape(B, T, C)))


class ModernBertMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.Wi = nn.Linear(C, 2 * I, bias=cfg["mlp_bias"])
        self.act = reference.activation(cfg["hidden_activation"])
        self.drop = nn.Dropout(cfg.get("mlp_dropout", 0.0))
        self.Wo = nn.Linear(I, C, bias=cfg["mlp_bias"])

    def forward(self, x):
        inp, gate = self.Wi(x).chunk(2, dim=-1)
        return self.Wo(self.drop(self.act(inp) * gate))


class ModernBertEncoderLayer(nn.Module):
    def __init__(self, cfg, layer_id, local):
        super().__init__()
        C = cfg["hidden_size"]
        self.attn_norm = nn.Identity() if layer_id == 0 else layer_norm(C, cfg)
        self.attn = ModernBertAttention(cfg, layer_id, local)
        self.mlp_norm = layer_norm(C, cfg)
        self.mlp = ModernBertMLP(cfg)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask)
        return x + self.mlp(self.mlp_norm(x))


class ModernBertModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.types = modernbert_layer_types(cfg)
        self.embeddings = ModernBertEmbeddings(cfg)
        self.layers = nn.ModuleList([ModernBertEncoderLayer(cfg, i, t == "sliding_attention")
                                     for i, t in enumerate(self.types)])
        self.final_norm = layer_norm(cfg["hidden_size"], cfg)
        D = cfg["hidden_size"] // cfg["num_attention_heads"]
        g, l = modernbert_thetas(cfg)
        self.inv = {"full_attention": rope_inv_freq(g, D), "sliding_attention": rope_inv_freq(l, D)}

    def forward(self, ids, mask):
        T = ids.shape[1]
        x = self.embeddings(ids)
        for layer, t in zip(self.layers, self.types):
            cos, sin = rope_cos_sin(self.inv[t], T)
            x = layer(x, cos, sin, mask)
        return self.final_norm(x)


class ModernBertPredictionHead(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["hidden_size"]
        self.dense = nn.Linear(C, C, cfg["classifier_bias"])
        self.act = reference.activation(cfg["classifier_activation"])
        self.norm = layer_norm(C, cfg)

    def forward(self, x):
        return self.norm(self.act(self.dense(x)))


class ModernBertForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.num_labels = len(cfg["id2label"])
        self.model = ModernBertModel(cfg)
        self.head = ModernBertPredictionHead(cfg)
        self.drop = nn.Dropout(cfg.get("classifier_dropout", 0.0))
        self.classifier = nn.Linear(cfg["hidden_size"], self.num_labels)

    def forward(self, ids, mask, labels=None):
        h = self.model(ids, mask)
        if self.cfg.get("classifier_pooling", "cls") == "cls":
            h = h[:, 0]
        else:
            h = (h * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
        logits = self.classifier(self.drop(self.head(h)))
        return logits, seq_cls_loss(self.cfg, self.num_labels, logits, labels)


def build(cfg):
    kind = cfg["model_type"]
    if kind == "gpt2":
        return GPT2ForSequenceClassification(cfg)
    if kind == "modernbert":
        return ModernBertForSequenceClassification(cfg)
    return LlamaForSequenceClassification(cfg, kind)
