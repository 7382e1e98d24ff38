"""The PyTorch twin of an SlmGen model (written by SlmGen.Interop.PyTorchTwin.Export).

One self-contained module, PyTorch >= 2.1 and nothing else. `SlmGenModel(config)` builds, from the
"architecture" of config.json (the model's resolved plan, as SlmGen's generator emits it), the same layers
in the same order as the generated TorchSharp module, with the same parameter names, so that the same
safetensors file loads into both:

    model = SlmGenModel.from_pretrained("export-dir")        # config.json + model.safetensors
    logits = model(idx)                                     # (B, T, V); (B, V) for flatten models

Every step mirrors a TorchSharp class of SlmGen.Runtime (Layers/*.cs): the token embedding (wte), learned or
sinusoidal positions, rotary embeddings inside attention, dropout, dense layers, a flatten of the last
positions, transformer stacks (pre/post norm, packed or separate q/k/v, grouped-query attention, per-block
shapes, whole-stack and block-wise repeats, per-application LoRA, QK-norm with or without its scale, query
gains, partial RoPE, branch scales, residual mixing, parallel blocks, U-Net skips), the final norm and the head
(full, tied, factorised, grouped; soft-capped or not), with fake-quantised weights where the spec declares
quantisation-aware training.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["SlmGenModel", "load_safetensors"]


# ---------------------------------------------------------------------------------------------- pieces

def activation(name, x):
    if name == "relu":
        return F.relu(x)
    if name == "gelu":
        return F.gelu(x)
    if name == "silu":
        return F.silu(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "identity":
        return x
    if name == "relu2":
        return F.relu(x).square()
    if name == "leaky_relu2":
        return F.leaky_relu(x, 0.5).square()
    raise ValueError(f"unknown activation {name}")


# The precision plan's scale group and grid (the architecture's "artifact"), set by SlmGenModel before it builds layers.
QUANT = {"group": 0, "grid": "symmetric"}


def fake_quant(w, bits):
    """Fake quantisation with a straight-through gradient (SlmGen.Layers.FakeQuant): absmax scales per row or per group of
    columns; the symmetric grid q·s, q in [-(2^(b-1)-1), 2^(b-1)-1], or the stretched grid (q + 1/2)·s, q in
    [-2^(b-1), 2^(b-1)-1]."""
    if not bits:
        return w
    stretched = QUANT["grid"] == "stretched"
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if stretched else (-((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1)
    top = (1 << (bits - 1)) - 0.5 if stretched else (1 << (bits - 1)) - 1
    rows, cols = w.shape
    group = QUANT["group"]
    a = w.detach().abs()
    if group <= 0 or group >= cols:
        absmax = a.amax(dim=1, keepdim=True)
    else:
        groups = -(-cols // group)
        absmax = F.pad(a, (0, groups * group - cols)).reshape(rows, groups, group).amax(dim=2)
        absmax = absmax.repeat_interleave(group, dim=1)[:, :cols]
    scale = absmax.clamp_min(1e-12) / top
    x = w / scale
    level = (x.floor().clamp(lo, hi) + 0.5) if stretched else x.round().clamp(lo, hi)
    return w + (level * scale - w).detach()


class QuantLinear(nn.Module):
    """nn.Linear whose weight is fake-quantised to `bits` in the forward pass (same parameter names)."""

    def __init__(self, n_in, n_out, bias, bits):
        super().__init__()
        init = nn.Linear(n_in, n_out, bias=bias)
        self.weight = init.weight
        self.bias = init.bias
        self.bits = bits
        self.in_features, self.out_features = n_in, n_out

    def forward(self, x):
        return F.linear(x, fake_quant(self.weight, self.bits), self.bias)


def linear(n_in, n_out, bias, bits=0):
    return QuantLinear(n_in, n_out, bias, bits) if bits else nn.Linear(n_in, n_out, bias=bias)


class RmsNorm(nn.Module):
    """RMSNorm with a learned scale, or parameter-free (weight=False: no parameter at all)."""

    def __init__(self, dim, eps=1e-6, weight=True):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim)) if weight else None
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        normed = (xf * (xf.pow(2).mean(-1, keepdim=True) + self.eps).rsqrt()).to(x.dtype)
        return normed if self.weight is None else normed * self.weight


def norm(kind, dim, bias=True):
    if kind == "layernorm":
        return nn.LayerNorm(dim, bias=bias)
    if kind == "rmsnorm":
        return RmsNorm(dim)
    if kind == "rmsnorm_free":
        return RmsNorm(dim, weight=False)
    return nn.Identity()


class SinusoidalPositions(nn.Module):
    def __init__(self, context, dim):
        super().__init__()
        pos = torch.arange(context, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        table = torch.zeros(context, dim)
        table[:, 0::2] = torch.sin(pos * div)
        table[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
        self.register_buffer("table", table, persistent=False)

    def forward(self, x):
        return self.table[: x.shape[1]].to(x.dtype)


class RotaryEmbedding(nn.Module):
    """Rotary embeddings, rotate-half convention (the first and second halves of the rotated dimensions form the
    pairs); with fewer rotary dimensions than the head has (partial RoPE), the first head_dim of them turn and the
    rest pass through."""

    def __init__(self, context, head_dim, base):
        super().__init__()
        inv = 1.0 / torch.pow(base, torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
        angles = torch.outer(torch.arange(context, dtype=torch.float64), inv)
        full = torch.cat([angles, angles], dim=1)
        self.register_buffer("cos_cached", full.cos().float(), persistent=False)
        self.register_buffer("sin_cached", full.sin().float(), persistent=False)

    def forward(self, x):
        rotary = self.cos_cached.shape[1]
        if rotary < x.shape[3]:
            return torch.cat([self.forward(x[..., :rotary]), x[..., rotary:]], dim=3)
        t, half = x.shape[2], x.shape[3] // 2
        cos, sin = self.cos_cached[:t].to(x.dtype), self.sin_cached[:t].to(x.dtype)
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=3)
        return x * cos + rotated * sin


class LoraAdapter(nn.Module):
    def __init__(self, n_in, n_out, rank):
        super().__init__()
        self.A = nn.Linear(n_in, rank, bias=False)
        self.B = nn.Linear(rank, n_out, bias=False)
        nn.init.zeros_(self.B.weight)

    def forward(self, x):
        return self.B(self.A(x))


class LoraSet(nn.Module):
    """One application's adapters, one per adaptable linear layer of the block, in the block's order."""

    def __init__(self, layers, rank):
        super().__init__()
        self.names = [name for name, _, _ in layers]
        self.adapters = nn.ModuleList(LoraAdapter(n_in, n_out, rank) for _, n_in, n_out in layers)

    def adapt(self, name, x, y):
        return y + self.adapters[self.names.index(name)](x) if name in self.names else y


def call(adapters, name, layer, x):
    return layer(x) if adapters is None else adapters.adapt(name, x, layer(x))


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, kv_heads, head_dim, packed, bias, dropout, context, rope, rope_base, bits, qk_norm=False,
                 qk_norm_free=False, query_gain=0.0, rope_dims=0, value_residual=False, mixes_values=False):
        super().__init__()
        self.width, self.heads, self.kv_heads, self.head_dim = width, heads, kv_heads, head_dim
        inner, kv_width = heads * head_dim, kv_heads * head_dim
        self.packed = packed
        if packed:
            self.qkv = linear(width, inner + 2 * kv_width, bias, bits)
        else:
            self.q_proj = linear(width, inner, bias, bits)
            self.k_proj = linear(width, kv_width, bias, bits)
            self.v_proj = linear(width, kv_width, bias, bits)
        self.proj = linear(inner, width, bias, bits)
        self.rope = RotaryEmbedding(context, rope_dims or head_dim, rope_base) if rope else None
        # QK-norm: every query and key head normalised over its head size before RoPE (one scale each for q and k,
        # or none: parameter-free).
        self.q_norm = RmsNorm(head_dim, weight=not qk_norm_free) if qk_norm else None
        self.k_norm = RmsNorm(head_dim, weight=not qk_norm_free) if qk_norm else None
        # A learned gain per query head, after QK-norm and RoPE.
        self.q_gain = nn.Parameter(torch.full((heads,), float(query_gain))) if query_gain > 0 else None
        # Value residual: block 0 hands its values on; every later block mixes them in with a learned lambda.
        self.value_residual = value_residual
        self.value_lambda = nn.Parameter(torch.full((1,), 0.5)) if value_residual and mixes_values else None
        self.dropout = dropout
        self.adapters = None

    def adaptable(self):
        inner, kv_width = self.heads * self.head_dim, self.kv_heads * self.head_dim
        if self.packed:
            yield "attn_qkv", self.width, inner + 2 * kv_width
        else:
            yield "attn_q", self.width, inner
            yield "attn_k", self.width, kv_width
            yield "attn_v", self.width, kv_width
        yield "attn_proj", inner, self.width

    def forward(self, x, values=None):
        b, t, _ = x.shape
        h, kv, hd, a = self.heads, self.kv_heads, self.head_dim, self.adapters
        if self.packed and kv == h:
            q, k, v = call(a, "attn_qkv", self.qkv, x).view(b, t, 3, h, hd).permute(2, 0, 3, 1, 4).unbind(0)
        elif self.packed:
            q, k, v = call(a, "attn_qkv", self.qkv, x).split([h * hd, kv * hd, kv * hd], dim=2)
            q, k, v = q.view(b, t, h, hd).transpose(1, 2), k.view(b, t, kv, hd).transpose(1, 2), v.view(b, t, kv, hd).transpose(1, 2)
        else:
            q = call(a, "attn_q", self.q_proj, x).view(b, t, h, hd).transpose(1, 2)
            k = call(a, "attn_k", self.k_proj, x).view(b, t, kv, hd).transpose(1, 2)
            v = call(a, "attn_v", self.v_proj, x).view(b, t, kv, hd).transpose(1, 2)
        if self.value_residual and values is not None:
            if self.value_lambda is None:
                values.append(v)
            else:
                v = v + self.value_lambda.to(v.dtype) * (values[0] - v)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        if self.rope is not None:
            q, k = self.rope(q), self.rope(k)
        if self.q_gain is not None:
            q = q * self.q_gain.view(1, h, 1, 1).to(q.dtype)
        if kv != h:
            k, v = k.repeat_interleave(h // kv, dim=1), v.repeat_interleave(h // kv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        return call(a, "attn_proj", self.proj, y.transpose(1, 2).reshape(b, t, h * hd))


class FeedForward(nn.Module):
    def __init__(self, width, hidden, act, bias, dropout, bits):
        super().__init__()
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.fc = linear(width, hidden, bias, bits)
        self.gate = linear(width, hidden, bias, bits) if act == "swiglu" else None
        self.proj = linear(hidden, width, bias, bits)
        self.act = act
        self.width, self.hidden = width, hidden
        self.adapters = None

    def adaptable(self):
        yield "mlp_fc", self.width, self.hidden
        if self.gate is not None:
            yield "mlp_gate", self.width, self.hidden
        yield "mlp_proj", self.hidden, self.width

    def forward(self, x):
        a = self.adapters
        if self.gate is None:
            h = activation(self.act, call(a, "mlp_fc", self.fc, x))
        else:
            h = F.silu(call(a, "mlp_gate", self.gate, x)) * call(a, "mlp_fc", self.fc, x)
        return call(a, "mlp_proj", self.proj, h if self.drop is None else self.drop(h))


class TransformerBlock(nn.Module):
    def __init__(self, s, shape, context, depth=0):
        super().__init__()
        heads, kv_heads, head_dim, hidden = shape
        width = s["in"]
        self.ln_1 = norm(s["norm"], width, s["normBias"])
        self.attn = CausalSelfAttention(width, heads, kv_heads, head_dim, s["packedQkv"], s["attentionBias"], s["dropout"], context, s["rope"], s["ropeBase"], s["attentionBits"],
                                        s.get("qkNorm", False), s.get("qkNormFree", False), s.get("queryGain", 0.0), s.get("ropeDims", 0),
                                        s.get("valueResidual", False), depth > 0)
        self.ln_2 = norm(s["norm"], width, s["normBias"])
        self.mlp = FeedForward(width, hidden, s["activation"], s["ffnBias"], s["ffnDropout"], s["mlpBits"])
        self.drop_attn = nn.Dropout(s["dropout"]) if s["dropout"] > 0 else None
        self.drop_mlp = nn.Dropout(s["dropout"]) if s["dropout"] > 0 else None
        self.pre_norm = s["preNorm"]
        self.parallel = s.get("parallel", False)
        # Depth-scaled norms: the pre-norms' outputs of block i times 1/sqrt(i + 1).
        self.norm_scale = 1.0 / math.sqrt(depth + 1) if s.get("depthScaledNorms", False) else 1.0
        # Learned per-channel vectors on the residual stream: branch scales and the mix with the stack's input x0.
        self.attn_scale = nn.Parameter(torch.ones(width)) if s.get("branchScales", False) else None
        self.mlp_scale = nn.Parameter(torch.ones(width)) if s.get("branchScales", False) else None
        self.resid_mix = nn.Parameter(torch.stack([torch.ones(width), torch.zeros(width)])) if s.get("residualMix", False) else None
        applications = s["repeat"] * s["blockRepeat"]
        if s["loraRank"] > 0:
            layers = list(self.attn.adaptable()) + list(self.mlp.adaptable())
            self.lora = nn.ModuleList(LoraSet(layers, s["loraRank"]) for _ in range(applications))
        else:
            self.lora = None

    def use(self, application):
        if self.lora is not None:
            # A plain attribute, not a submodule: the adapters are registered once, under lora.
            object.__setattr__(self.attn, "adapters", self.lora[application])
            object.__setattr__(self.mlp, "adapters", self.lora[application])
        return self

    def forward(self, x, x0=None, values=None):
        def branch(d, scale, y):
            y = y if d is None else d(y)
            return y if scale is None else scale.to(y.dtype) * y

        if self.resid_mix is not None:
            x = self.resid_mix[0].to(x.dtype) * x + self.resid_mix[1].to(x.dtype) * x0
        def pre(ln, y):
            return ln(y) if self.norm_scale == 1.0 else ln(y) * self.norm_scale

        if self.parallel:
            return x + branch(self.drop_attn, self.attn_scale, self.attn(pre(self.ln_1, x), values)) + branch(self.drop_mlp, self.mlp_scale, self.mlp(pre(self.ln_2, x)))
        if self.pre_norm:
            x = x + branch(self.drop_attn, self.attn_scale, self.attn(pre(self.ln_1, x), values))
            return x + branch(self.drop_mlp, self.mlp_scale, self.mlp(pre(self.ln_2, x)))
        x = self.ln_1(x + branch(self.drop_attn, self.attn_scale, self.attn(x, values)))
        return self.ln_2(x + branch(self.drop_mlp, self.mlp_scale, self.mlp(x)))


class Dense(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.fc = linear(s["in"], s["out"], s["bias"], s["bits"])
        self.drop = nn.Dropout(s["dropout"]) if s["dropout"] > 0 else None
        self.act = s["activation"]

    def forward(self, x):
        y = activation(self.act, self.fc(x))
        return y if self.drop is None else self.drop(y)


class ContextFlatten(nn.Module):
    def __init__(self, window):
        super().__init__()
        self.window = window

    def forward(self, x):
        if x.shape[1] < self.window:
            raise ValueError(f"ContextFlatten needs at least {self.window} positions, got {x.shape[1]}")
        return x[:, x.shape[1] - self.window:].reshape(x.shape[0], -1)


class FactorizedHead(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.down = linear(s["in"], s["rank"], False, s["bits"])
        self.out = linear(s["rank"], s["out"], s["bias"], s["bits"])

    def forward(self, x):
        return self.out(self.down(x))


class GroupedHead(nn.Module):
    """Two levels (SlmGen.Layers.GroupedHead): log p(group) + log p(position | group) over runs of consecutive ids;
    slots that hold no real id (past the vocabulary, or padded) are masked out of both softmaxes. Conditioned, the
    positions of group g are scored from x * (1 + gate[g]) (a learned gate per group, starting at 0)."""

    def __init__(self, s, real_vocab):
        super().__init__()
        self.vocab, self.groups = s["out"], s["groups"]
        self.size = -(-self.vocab // self.groups)
        self.real = min(real_vocab, self.vocab)
        self.partial = -1 if self.real % self.size == 0 else self.real // self.size
        self.first_empty = -(-self.real // self.size)
        self.group = linear(s["in"], self.groups, False, s["bits"])
        self.token = linear(s["in"], self.size, False, s["bits"])
        self.gate = nn.Parameter(torch.zeros(self.groups, s["in"])) if s.get("conditioned") else None

    def _group_logits(self, x):
        gl = self.group(x).float()
        if self.first_empty < self.groups:
            gl = gl.masked_fill(torch.arange(self.groups, device=x.device) >= self.first_empty, float("-inf"))
        return gl

    def forward(self, x):
        g = F.log_softmax(self._group_logits(x), dim=-1).unsqueeze(-1)
        if self.gate is None:
            t = self.token(x).float().unsqueeze(-2)
        else:
            t = self.token(x.unsqueeze(-2) * (self.gate.to(x.dtype) + 1)).float()
        rows = g + F.log_softmax(t, dim=-1)
        if self.partial >= 0:
            own = t if self.gate is None else t[..., self.partial : self.partial + 1, :]
            masked = own.masked_fill(torch.arange(self.size, device=x.device) >= self.real - self.partial * self.size, float("-inf"))
            part = g[..., self.partial : self.partial + 1, :] + F.log_softmax(masked, dim=-1)
            rows = torch.cat([rows[..., : self.partial, :], part, rows[..., self.partial + 1 :, :]], dim=-2)
        return rows.flatten(-2)[..., : self.vocab]

    def loss(self, x, targets):
        """SlmGen.Layers.GroupedHead.Loss: the group's cross-entropy plus the position's within the target's group."""
        flat, features = targets.reshape(-1), x.reshape(-1, x.shape[-1])
        groups = torch.div(flat, self.size, rounding_mode="floor")
        gl = self._group_logits(features)
        if self.gate is not None:
            features = features * (self.gate.index_select(0, groups).to(features.dtype) + 1)
        t = self.token(features).float()
        if self.partial >= 0:
            masked = t.masked_fill(torch.arange(self.size, device=x.device) >= self.real - self.partial * self.size, float("-inf"))
            t = torch.where((groups == self.partial).unsqueeze(-1), masked, t)
        return F.cross_entropy(gl, groups) + F.cross_entropy(t, flat.remainder(self.size))


class TiedHead(nn.Module):
    """The head that reuses the token embedding's weight (it holds no parameter of its own)."""

    def __init__(self, bits):
        super().__init__()
        self.bits = bits


# ---------------------------------------------------------------------------------------------- model

class BigramHash(nn.Module):
    """Hashed bigram embeddings: position t looks up bucket ((36313 * x_t) XOR (27191 * x_(t-1))) mod (buckets - 1),
    the window's first position bucket buckets - 1; rows narrower than the model are projected (no bias)."""

    def __init__(self, buckets, dim, width):
        super().__init__()
        self.buckets = buckets
        self.embed = nn.Embedding(buckets, dim)
        self.proj = nn.Linear(dim, width, bias=False) if dim != width else None

    def hash(self, idx):
        first = torch.full_like(idx[:, :1], self.buckets - 1)
        mixed = torch.bitwise_xor(idx[:, 1:] * 36313, idx[:, :-1] * 27191) % (self.buckets - 1)
        return torch.cat([first, mixed], dim=1)

    def forward(self, idx):
        rows = self.embed(self.hash(idx))
        return rows if self.proj is None else self.proj(rows)


class SlmGenModel(nn.Module):
    """The model an SlmGen architecture describes, step by step, as the generated TorchSharp module runs it."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.context = config["context"]
        self.vocab = config["vocab"]
        self.steps = [(s["kind"], s["field"], s) for s in config["architecture"]]
        artifact = config.get("artifact") or {}
        QUANT.update(group=artifact.get("group", 0), grid=artifact.get("grid", "symmetric"))
        for kind, field, s in self.steps:
            if kind == "embedding":
                setattr(self, field, nn.Embedding(s["vocab"], s["out"]))
                self.embedding_field = field
            elif kind == "positions" and s["type"] == "learned":
                setattr(self, field, nn.Embedding(s["rows"], s["out"]))
            elif kind == "positions":
                setattr(self, field, SinusoidalPositions(s["rows"], s["out"]))
            elif kind == "bigram":
                setattr(self, field, BigramHash(s["buckets"], s["dim"], s["out"]))
            elif kind == "dropout":
                setattr(self, field, nn.Dropout(s["p"]))
            elif kind == "flatten":
                setattr(self, field, ContextFlatten(s["window"]))
            elif kind == "dense":
                setattr(self, field, Dense(s))
            elif kind == "transformer":
                setattr(self, field, nn.ModuleList(TransformerBlock(s, shape, self.context, depth) for depth, shape in enumerate(s["shapes"])))
                if s.get("unetSkips", False) and len(s["shapes"]) >= 2:
                    setattr(self, field + "_skip_weights", nn.Parameter(torch.ones(len(s["shapes"]) // 2, s["in"])))
            elif kind == "final_norm":
                setattr(self, field, norm(s["norm"], s["in"], s["bias"]))
            elif kind == "head" and s["type"] == "tied":
                setattr(self, field, TiedHead(s["bits"]))
            elif kind == "head" and s["type"] == "factorised":
                setattr(self, field, FactorizedHead(s))
            elif kind == "head" and s["type"] == "grouped":
                setattr(self, field, GroupedHead(s, config.get("declaredVocab", s["out"])))
            elif kind == "head":
                setattr(self, field, linear(s["in"], s["out"], s["bias"], s["bits"]))
            elif kind != "rope":
                raise ValueError(f"unknown step kind {kind}")

    @property
    def predicts_every_position(self):
        return self.config.get("predictsEveryPosition", True)

    def forward(self, idx, features_only=False):
        x = None
        embedding_bits = 0
        for kind, field, s in self.steps:
            module = getattr(self, field, None) if field else None
            if kind == "head" and features_only:
                return x
            if kind == "embedding":
                embedding_bits = s["bits"]
                table = fake_quant(module.weight, s["bits"])
                x = table.index_select(0, idx.reshape(-1)).reshape(*idx.shape, table.shape[1]) if s["bits"] else module(idx)
            elif kind == "positions" and s["type"] == "learned":
                x = x + module(torch.arange(idx.shape[1], device=idx.device))
            elif kind == "positions":
                x = x + module(x)
            elif kind == "bigram":
                x = x + module(idx)
            elif kind in ("dropout", "flatten", "dense", "final_norm"):
                x = module(x)
            elif kind == "transformer" and s.get("unetSkips", False):
                # U-Net: blocks 0 .. k-1 keep their outputs; blocks k .. 2k-1 add them back, last in first out.
                x0, skips, weights, values = x, [], getattr(self, field + "_skip_weights"), []
                k = len(module) // 2
                for i, block in enumerate(module):
                    if k <= i < 2 * k:
                        x = x + weights[i - k] * skips.pop()
                    x = block(x, x0, values)
                    if i < k:
                        skips.append(x)
            elif kind == "transformer":
                again, x0, values = s["blockRepeat"], x, []
                for p in range(s["repeat"]):
                    for block in module:
                        for k in range(again):
                            x = block.use(p * again + k)(x, x0, values)
            elif kind == "head" and s["type"] == "tied":
                x = F.linear(x, fake_quant(getattr(self, self.embedding_field).weight, s["bits"]))
            elif kind == "head":
                x = module(x)
            if kind == "head" and s.get("softcap", 0) > 0:
                x = torch.tanh(x / s["softcap"]) * s["softcap"]
        return x

    def loss(self, idx, targets):
        """SlmGen's training loss (SlmModel.Loss): the mean cross-entropy of every position's next token over the declared
        vocabulary (a padded vocabulary's extra ids take no probability; a flatten model: the window's last target). A
        grouped head's is its two softmaxes — the target's group, then its position in the group — with no
        vocabulary-sized tensor, as SlmGen trains it."""
        grouped = next((field for kind, field, s in self.steps if kind == "head" and s["type"] == "grouped"), None)
        if grouped is not None:
            # A flatten model (one prediction per window) trains on the window's last target, as below.
            features = self(idx, features_only=True)
            return getattr(self, grouped).loss(features, targets if features.dim() == 3 else targets[:, -1])
        logits = self(idx)
        declared = self.config.get("declaredVocab", logits.shape[-1])
        if declared < logits.shape[-1]:
            logits = logits[..., :declared]
        if logits.dim() == 3:
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
        return F.cross_entropy(logits.float(), targets[:, -1])

    @classmethod
    def from_pretrained(cls, directory, device="cpu"):
        with open(os.path.join(directory, "config.json")) as f:
            model = cls(json.load(f))
        model.load_state_dict(load_safetensors(os.path.join(directory, "model.safetensors")), strict=True)
        return model.to(device).eval()


def load_safetensors(path):
    """A state_dict from a safetensors file — an export's model.safetensors, weights trained in PyTorch, or an
    SlmGen checkpoint (its AdamW moments and best weights, named _adamw.* and _best.*, are left out). Uses
    the safetensors package when it is installed, else reads the format directly (a JSON header and raw
    little-endian tensors), so that the twin needs nothing but PyTorch."""
    try:
        from safetensors.torch import load_file

        tensors = load_file(path)
    except ImportError:
        tensors = _read_safetensors(path)
    return {k: v for k, v in tensors.items() if not k.startswith("_")}


_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
           "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def _read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    result = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        result[name] = flat.reshape(entry["shape"])
    return result
