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
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor>? qkv;
    private readonly nn.Module<Tensor, Tensor>? q_proj;
    private readonly nn.Module<Tensor, Tensor>? k_proj;
    private readonly nn.Module<Tensor, Tensor>? v_proj;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly RotaryEmbedding? rope;
    private readonly double attentionDropout;

    /// <summary>Creates the attention layer.</summary>
    /// <param name="dModel">Width of the input and output.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="packedQkv">One projection for q, k and v, or three.</param>
    /// <param name="bias">Biases on the projections.</param>
    /// <param name="dropout">Dropout on the attention probabilities (training only).</param>
    /// <param name="context">Longest sequence (RoPE tables).</param>
    /// <param name="rope">Rotary positions on q and k.</param>
    /// <param name="ropeBase">RoPE frequency base.</param>
    /// <param name="kvHeads">Key/value heads (0 = <paramref name="heads"/>); must divide <paramref name="heads"/>.</param>
    /// <param name="headDim">Size of one head (0 = <paramref name="dModel"/> / <paramref name="heads"/>).</param>
    /// <param name="weightBits">Quantisation-aware training of the projections' weights at 2, 3, 4 or 8 bits (0 = full precision).</param>
    public CausalSelfAttention(long dModel, int heads, bool packedQkv, bool bias, double dropout, int context, bool rope, double ropeBase = 10000.0, int kvHeads = 0, long headDim = 0, int weightBits = 0)
        : base(nameof(CausalSelfAttention))
    {
        if (headDim <= 0 && (heads <= 0 || dModel % heads != 0))
        {
            throw new ArgumentException($"{heads} heads do not divide the width {dModel}.", nameof(heads));
        }

        KvHeads = kvHeads > 0 ? kvHeads : heads;
        if (heads % KvHeads != 0)
        {
            throw new ArgumentException($"{KvHeads} key/value heads do not divide {heads} query heads.", nameof(kvHeads));
        }

        DModel = dModel;
        Heads = heads;
        HeadDim = headDim > 0 ? headDim : dModel / heads;
        if (packedQkv)
        {
            qkv = Linears.Create(dModel, InnerWidth + (2 * KvWidth), bias, weightBits);
        }
        else
        {
            q_proj = Linears.Create(dModel, InnerWidth, bias, weightBits);
            k_proj = Linears.Create(dModel, KvWidth, bias, weightBits);
            v_proj = Linears.Create(dModel, KvWidth, bias, weightBits);
        }

        proj = Linears.Create(InnerWidth, dModel, bias, weightBits);
        this.rope = rope ? new RotaryEmbedding(context, HeadDim, ropeBase) : null;
        attentionDropout = dropout;
        RegisterComponents();
    }

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

    /// <summary>The adapters of the current application of a shared block (set by its block), or null.</summary>
    public LoraSet? Adapters { get; set; }

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

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        // Tensors made here belong to the caller's dispose scope (the generated Logits opens one per pass).
        long b = x.shape[0], t = x.shape[1];
        Tensor q, k, v;
        if (qkv is not null && KvHeads == Heads)
        {
            // One view and one permute give (3, B, H, T, hd); unbind yields q, k and v without copies.
            var parts = Linear("attn_qkv", qkv, x).view(b, t, 3, Heads, HeadDim).permute(2, 0, 3, 1, 4).unbind(0);
            (q, k, v) = (parts[0], parts[1], parts[2]);
        }
        else if (qkv is not null)
        {
            var parts = Linear("attn_qkv", qkv, x).split(new[] { InnerWidth, KvWidth, KvWidth }, 2);
            q = parts[0].view(b, t, Heads, HeadDim).transpose(1, 2);
            k = parts[1].view(b, t, KvHeads, HeadDim).transpose(1, 2);
            v = parts[2].view(b, t, KvHeads, HeadDim).transpose(1, 2);
        }
        else
        {
            q = Linear("attn_q", q_proj!, x).view(b, t, Heads, HeadDim).transpose(1, 2); // (B, H, T, hd)
            k = Linear("attn_k", k_proj!, x).view(b, t, KvHeads, HeadDim).transpose(1, 2);
            v = Linear("attn_v", v_proj!, x).view(b, t, KvHeads, HeadDim).transpose(1, 2);
        }

        if (rope is not null)
        {
            q = rope.call(q);
            k = rope.call(k);
        }

        // Incremental decoding: this call's keys and values join its cache slot, and the new queries attend to
        // everything cached (one new query sees every key; a chunk after a prefix needs an explicit mask).
        var cache = Generation.KvCache.Active;
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
        return Linear("attn_proj", proj, y.transpose(1, 2).reshape(b, t, InnerWidth));
    }

    private Tensor Linear(string name, nn.Module<Tensor, Tensor> layer, Tensor x) => Adapters is null ? layer.call(x) : Adapters.Adapt(name, x, layer.call(x));
}
