using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// Causal multi-head self-attention through <c>scaled_dot_product_attention</c> (flash / memory-efficient
/// kernels where the device has them). q/k/v come from one packed projection (as nn.MultiheadAttention's
/// in_proj) or three separate ones; RoPE, when given, rotates q and k. With fewer key/value heads than query
/// heads (grouped-query attention; one = multi-query) the k and v projections are narrower, and each k/v head
/// is repeated for its group before SDPA (TorchSharp's SDPA has no <c>enable_gqa</c>); the head size may be
/// set apart from the width (then the attention's inner width is heads × head size).
/// </summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, LoraSet?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor>? qkv;
    private readonly nn.Module<Tensor, Tensor>? q_proj;
    private readonly nn.Module<Tensor, Tensor>? k_proj;
    private readonly nn.Module<Tensor, Tensor>? v_proj;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly RotaryEmbedding? rope;
    private readonly RmsNorm? q_norm;
    private readonly RmsNorm? k_norm;
    private readonly Parameter? q_gain;
    private readonly Parameter? value_lambda;
    private readonly double attentionDropout;

    /// <summary>
    /// Creates the attention layer of a <paramref name="width"/>-wide residual stream; <paramref name="mixesValues"/>
    /// for a block after the first of a value-residual stack (<see cref="BlockConfig.MixesValues"/>: it has a λ).
    /// </summary>
    public CausalSelfAttention(long width, AttentionConfig config, bool mixesValues = false)
        : base(nameof(CausalSelfAttention))
    {
        if (config.Heads <= 0 || config.HeadDim <= 0)
        {
            throw new ArgumentException($"{config.Heads} heads of size {config.HeadDim}: both must be positive.", nameof(config));
        }

        if (config.KvHeads <= 0 || config.Heads % config.KvHeads != 0)
        {
            throw new ArgumentException($"{config.KvHeads} key/value heads do not divide {config.Heads} query heads.", nameof(config));
        }

        Config = config;
        DModel = width;
        Heads = config.Heads;
        KvHeads = config.KvHeads;
        HeadDim = config.HeadDim;
        if (config.PackedQkv)
        {
            qkv = Linears.Create(width, InnerWidth + (2 * KvWidth), config.Bias, config.WeightBits);
        }
        else
        {
            q_proj = Linears.Create(width, InnerWidth, config.Bias, config.WeightBits);
            k_proj = Linears.Create(width, KvWidth, config.Bias, config.WeightBits);
            v_proj = Linears.Create(width, KvWidth, config.Bias, config.WeightBits);
        }

        proj = Linears.Create(InnerWidth, width, config.Bias, config.WeightBits);
        q_norm = config.QkNorm ? new RmsNorm(HeadDim, learnedScale: !config.QkNormFree) : null;
        k_norm = config.QkNorm ? new RmsNorm(HeadDim, learnedScale: !config.QkNormFree) : null;
        using var gain = config.QueryGain.ToScalar();
        using var half = 0.5.ToScalar();
        q_gain = config.QueryGain > 0 ? nn.Parameter(full(Heads, gain)) : null;
        value_lambda = mixesValues && config.ValueResidual ? nn.Parameter(full(1, half)) : null;
        rope = config.Rope is { } r ? new RotaryEmbedding(config.Context, config.RotaryDims, r.Base) : null;
        attentionDropout = config.Dropout;
        RegisterComponents();
    }

    /// <summary>What the layer was built from.</summary>
    public AttentionConfig Config { get; }

    /// <summary>The rotary embedding (null without RoPE).</summary>
    public RotaryEmbedding? Rope => rope;

    /// <summary>
    /// In a value-residual stack, the current pass's first-block values (set by the block around each call): the
    /// first block records its values there, a later block mixes them into its own.
    /// </summary>
    public ValueResidual? Values { get; set; }

    /// <summary>The KV cache of incremental decoding, set explicitly on the whole model (<see cref="SlmModel.SetKvCache"/>), or null: full windows.</summary>
    public Generation.KvCache? KvCache { get; set; }

    /// <summary>Model width.</summary>
    public long DModel { get; }

    /// <summary>Query heads.</summary>
    public int Heads { get; }

    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; }

    /// <summary>Size of one head.</summary>
    public long HeadDim { get; }

    /// <summary>Width of q and of the attention output: heads × head size.</summary>
    public long InnerWidth => Heads * HeadDim;

    /// <summary>Width of k and of v: key/value heads × head size.</summary>
    public long KvWidth => KvHeads * HeadDim;

    /// <summary>True when q, k and v come from one projection.</summary>
    public bool PackedQkv => qkv is not null;

    /// <summary>The linear layers, by the names their adapters use: (name, in, out).</summary>
    public IEnumerable<(string Name, long In, long Out)> AdaptableLayers()
    {
        if (qkv is not null)
        {
            yield return ("attn_qkv", DModel, InnerWidth + (2 * KvWidth));
        }
        else
        {
            yield return ("attn_q", DModel, InnerWidth);
            yield return ("attn_k", DModel, KvWidth);
            yield return ("attn_v", DModel, KvWidth);
        }

        yield return ("attn_proj", InnerWidth, DModel);
    }

    /// <summary>The output projection (GPT-2 init scales it).</summary>
    public Tensor OutputProjectionWeight => Linears.WeightOf(proj);

    /// <summary>The layer without adapters.</summary>
    public Tensor call(Tensor x) => call(x, null);

    /// <summary>Attention with <paramref name="adapters"/> (one application's LoRA set of a shared block) added to its projections, or none.</summary>
    public override Tensor forward(Tensor x, LoraSet? adapters)
    {
        var values = Values;
        // Tensors made here belong to the caller's dispose scope (the generated Logits opens one per pass).
        long b = x.shape[0], t = x.shape[1];
        Tensor q, k, v;
        if (qkv is not null && KvHeads == Heads)
        {
            // One view (B, T, 3, H, hd), unbound along the 3: q, k and v as views, then (B, H, T, hd) by a transpose.
            // Unbinding there (not after a permute to (3, B, H, T, hd)) makes backward's stack write the gradient
            // straight into (B, T, 3·width) — one copy; the permuted form took a stack and then a second, strided copy
            // (60 µs a block at baby GPT's shape on an H100: results/fused/README.md). The same values and strides forward.
            var parts = Linear("attn_qkv", qkv, x, adapters).view(b, t, 3, Heads, HeadDim).unbind(2);
            (q, k, v) = (parts[0].transpose(1, 2), parts[1].transpose(1, 2), parts[2].transpose(1, 2));
        }
        else if (qkv is not null)
        {
            var parts = Linear("attn_qkv", qkv, x, adapters).split(new[] { InnerWidth, KvWidth, KvWidth }, 2);
            q = parts[0].view(b, t, Heads, HeadDim).transpose(1, 2);
            k = parts[1].view(b, t, KvHeads, HeadDim).transpose(1, 2);
            v = parts[2].view(b, t, KvHeads, HeadDim).transpose(1, 2);
        }
        else
        {
            q = Linear("attn_q", q_proj!, x, adapters).view(b, t, Heads, HeadDim).transpose(1, 2); // (B, H, T, hd)
            k = Linear("attn_k", k_proj!, x, adapters).view(b, t, KvHeads, HeadDim).transpose(1, 2);
            v = Linear("attn_v", v_proj!, x, adapters).view(b, t, KvHeads, HeadDim).transpose(1, 2);
        }

        if (Config.ValueResidual)
        {
            // Value residual: per position and k/v channel, before the cache and the repeat for grouped heads.
            if (value_lambda is null)
            {
                values?.Record(v);
            }
            else
            {
                var first = values?.First ?? throw new ArgumentException("This block mixes the first block's values into its own (value_residual): pass the stack's ValueResidual, which block 0 fills.", nameof(values));
                v = v.Plus(value_lambda.to(v.dtype) * (first - v));
            }
        }

        if (q_norm is not null && k_norm is not null)
        {
            // QK-norm: every query and key head normalised over its head size (before RoPE), one scale per q and k.
            q = q_norm.call(q);
            k = k_norm.call(k);
        }

        // Incremental decoding: the new tokens start at the cached length; their keys and values join this call's
        // cache slot, and the new queries attend to everything cached (one new query sees every key; a chunk after
        // a prefix needs an explicit mask).
        var cache = KvCache;
        if (rope is not null)
        {
            var start = cache?.Length ?? 0;
            q = rope.Rotate(q, start);
            k = rope.Rotate(k, start);
        }

        if (q_gain is not null)
        {
            // One learned gain per query head (after QK-norm and RoPE): it sets each head's attention temperature.
            q = q * q_gain.view(1, Heads, 1, 1).to(q.dtype);
        }

        Tensor? mask = null;
        var causal = true;
        if (cache is not null)
        {
            mask = cache.Mask(t, x.device);
            causal = cache.Length == 0;
            (k, v) = cache.Append(k, v);
        }

        if (KvHeads != Heads)
        {
            // Each k/v head serves Heads / KvHeads query heads: repeat it for its group (no FLOPs).
            k = k.repeat_interleave(Heads / KvHeads, 1);
            v = v.repeat_interleave(Heads / KvHeads, 1);
        }

        var p = training ? attentionDropout : 0.0;
        var y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask, p: p, is_casual: causal);
        return Linear("attn_proj", proj, y.transpose(1, 2).reshape(b, t, InnerWidth), adapters);
    }

    private static Tensor Linear(string name, nn.Module<Tensor, Tensor> layer, Tensor x, LoraSet? adapters) => adapters is null ? Linears.Apply(layer, x) : adapters.Adapt(name, x, Linears.Apply(layer, x));
}
