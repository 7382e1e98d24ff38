using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// Fake quantisation for quantisation-aware training: weights rounded to a symmetric grid of 2^(b−1)−1 steps
/// either side of zero, with one scale per output channel (row) = max |w| of the row / (2^(b−1)−1); the
/// backward pass goes straight through (the gradient of the rounding is taken as 1). 8 bits: 255 levels;
/// 4: 15; 3: 7; 2: 3 (−1, 0, 1 times the scale). FlopCounterMode counts none of it (elementwise).
/// </summary>
public static class FakeQuant
{
    /// <summary>The largest integer level for <paramref name="bits"/> bits.</summary>
    public static int Levels(int bits) => bits is 2 or 3 or 4 or 8 ? (1 << (bits - 1)) - 1 : throw new ArgumentOutOfRangeException(nameof(bits), bits, "2, 3, 4 or 8 bits");

    /// <summary>One scale per row of <paramref name="w"/> (detached: the straight-through estimator treats it as a constant).</summary>
    public static Tensor Scales(Tensor w, int bits) =>
        w.detach().abs().amax(new long[] { 1 }, keepdim: true).clamp_min(1e-12) / Levels(bits);

    /// <summary>The integer codes of <paramref name="w"/> (what an export stores), in [−levels, levels].</summary>
    public static Tensor Codes(Tensor w, int bits) =>
        (w.detach() / Scales(w, bits)).round().clamp(-Levels(bits), Levels(bits)).to(ScalarType.Int8);

    /// <summary><paramref name="w"/> fake-quantised to <paramref name="bits"/> (0 = unchanged), with a straight-through gradient.</summary>
    public static Tensor Weight(Tensor w, int bits)
    {
        if (bits == 0)
        {
            return w;
        }

        var scale = Scales(w, bits);
        var levels = Levels(bits);
        var q = (w / scale).round().clamp(-levels, levels) * scale;
        return w + (q - w).detach();
    }

    /// <summary>An embedding look-up in a fake-quantised table (one scale per token row).</summary>
    public static Tensor Embed(Embedding embedding, Tensor idx, int bits)
    {
        if (bits == 0)
        {
            return embedding.call(idx);
        }

        var table = Weight(embedding.weight!, bits);
        var shape = new long[idx.dim() + 1];
        Array.Copy(idx.shape, shape, idx.dim());
        shape[^1] = table.shape[1];
        return table.index_select(0, idx.reshape(-1)).reshape(shape);
    }
}

/// <summary>
/// A linear layer whose weight is fake-quantised in the forward pass (quantisation-aware training). Its
/// parameters are named as nn.Linear's (<c>weight</c>, <c>bias</c>) and start as nn.Linear's do, so a
/// full-precision checkpoint of the same shape loads into it.
/// </summary>
public sealed class QuantLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // TorchSharp names parameters after the fields: weight and bias, as nn.Linear
    private readonly Parameter weight;
    private readonly Parameter? bias;
#pragma warning restore IDE1006

    /// <summary>Creates the layer.</summary>
    public QuantLinear(long inFeatures, long outFeatures, bool hasBias, int bits) : base(nameof(QuantLinear))
    {
        FakeQuant.Levels(bits);
        using var init = nn.Linear(inFeatures, outFeatures, hasBias: hasBias);
        weight = new Parameter(init.weight!.detach().clone());
        bias = hasBias ? new Parameter(init.bias!.detach().clone()) : null;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Bits = bits;
        RegisterComponents();
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }

    /// <summary>Output features.</summary>
    public long OutFeatures { get; }

    /// <summary>Weight precision in bits.</summary>
    public int Bits { get; }

    /// <summary>The full-precision weight (the optimizer's copy).</summary>
    public Tensor Weight => weight;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => nn.functional.linear(x, FakeQuant.Weight(weight, Bits), bias);
}

/// <summary>Linear layers that are plain or quantisation-aware, for the layers that hold them.</summary>
public static class Linears
{
    /// <summary>nn.Linear, or a <see cref="QuantLinear"/> when <paramref name="bits"/> is above 0.</summary>
    public static nn.Module<Tensor, Tensor> Create(long inFeatures, long outFeatures, bool bias, int bits) =>
        bits > 0 ? new QuantLinear(inFeatures, outFeatures, bias, bits) : nn.Linear(inFeatures, outFeatures, hasBias: bias);

    /// <summary>The weight of either kind.</summary>
    public static Tensor WeightOf(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Linear l => l.weight!,
        QuantLinear q => q.Weight,
        _ => throw new ArgumentException($"{layer.GetType().Name} is not a linear layer.", nameof(layer)),
    };

    /// <summary>(in, out) of either kind.</summary>
    public static (long In, long Out) ShapeOf(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Linear l => (l.in_features, l.out_features),
        QuantLinear q => (q.InFeatures, q.OutFeatures),
        _ => throw new ArgumentException($"{layer.GetType().Name} is not a linear layer.", nameof(layer)),
    };
}
