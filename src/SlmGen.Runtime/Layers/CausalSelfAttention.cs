using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// Causal multi-head self-attention through <c>scaled_dot_product_attention</c> (flash / memory-efficient
/// kernels where the device has them). q/k/v come from one packed projection (as nn.MultiheadAttention's
/// in_proj) or three separate ones; RoPE, when given, rotates q and k.
/// </summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear? qkv;
    private readonly Linear? q_proj;
    private readonly Linear? k_proj;
    private readonly Linear? v_proj;
    private readonly Linear proj;
    private readonly RotaryEmbedding? rope;
    private readonly double attentionDropout;

    /// <summary>Creates the attention layer.</summary>
    public CausalSelfAttention(long dModel, int heads, bool packedQkv, bool bias, double dropout, int context, bool rope, double ropeBase = 10000.0)
        : base(nameof(CausalSelfAttention))
    {
        if (heads <= 0 || dModel % heads != 0)
        {
            throw new ArgumentException($"{heads} heads do not divide the width {dModel}.", nameof(heads));
        }

        DModel = dModel;
        Heads = heads;
        if (packedQkv)
        {
            qkv = nn.Linear(dModel, 3 * dModel, hasBias: bias);
        }
        else
        {
            q_proj = nn.Linear(dModel, dModel, hasBias: bias);
            k_proj = nn.Linear(dModel, dModel, hasBias: bias);
            v_proj = nn.Linear(dModel, dModel, hasBias: bias);
        }

        proj = nn.Linear(dModel, dModel, hasBias: bias);
        this.rope = rope ? new RotaryEmbedding(context, dModel / heads, ropeBase) : null;
        attentionDropout = dropout;
        RegisterComponents();
    }

    /// <summary>Model width.</summary>
    public long DModel { get; }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Whether q/k/v come from one packed projection.</summary>
    public bool PackedQkv => qkv is not null;

    /// <summary>The output projection (its weight is scaled at GPT-2 initialisation).</summary>
    public Linear OutputProjection => proj;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        // Tensors made here belong to the caller's dispose scope (the generated Logits opens one per pass).
        long b = x.shape[0], t = x.shape[1], c = x.shape[2], hd = c / Heads;
        Tensor q, k, v;
        if (qkv is not null)
        {
            // One view and one permute give (3, B, H, T, hd); unbind yields q, k and v without copies.
            var parts = qkv.call(x).view(b, t, 3, Heads, hd).permute(2, 0, 3, 1, 4).unbind(0);
            (q, k, v) = (parts[0], parts[1], parts[2]);
        }
        else
        {
            q = q_proj!.call(x).view(b, t, Heads, hd).transpose(1, 2); // (B, H, T, hd)
            k = k_proj!.call(x).view(b, t, Heads, hd).transpose(1, 2);
            v = v_proj!.call(x).view(b, t, Heads, hd).transpose(1, 2);
        }

        if (rope is not null)
        {
            q = rope.call(q);
            k = rope.call(k);
        }

        var p = training ? attentionDropout : 0.0;
        var y = nn.functional.scaled_dot_product_attention(q, k, v, p: p, is_casual: true);
        return proj.call(y.transpose(1, 2).reshape(b, t, c));
    }
}
