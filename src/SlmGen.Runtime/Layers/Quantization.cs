using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// Round-to-nearest quantisation on a grid of levels in units of a scale s, one scale per output channel (row) or per
/// group of <c>group</c> columns of a row (the last group of a row may be shorter): the symmetric grid q·s, q in
/// [−(2^(b−1)−1), 2^(b−1)−1] (8 bits: 255 levels; 4: 15; 3: 7; 2: 3, i.e. −1, 0, 1 times the scale), or the stretched
/// grid (q + ½)·s, q in [−2^(b−1), 2^(b−1)−1] (ParetoQ's SEQ: every code used, no zero; 2 bits: ±½, ±1½). By default
/// the top level sits at max |w| of the row or group (absmax). Quantisation-aware training uses it with a
/// straight-through gradient (the rounding's gradient is taken as 1); the artifact stores its codes and scales
/// (<see cref="Artifacts.ArtifactFile"/>). FlopCounterMode counts none of it.
/// </summary>
public static class FakeQuant
{
    /// <summary>The largest integer level for <paramref name="bits"/> bits on the symmetric grid.</summary>
    public static int Levels(int bits) => bits is 2 or 3 or 4 or 5 or 6 or 8 ? ArtifactLayout.Levels(bits) : throw new ArgumentOutOfRangeException(nameof(bits), bits, "2, 3, 4, 5, 6 or 8 bits");

    /// <summary>
    /// The absmax scales of <paramref name="w"/> (detached: the straight-through estimator treats them as constants):
    /// [rows, 1] per row (<paramref name="group"/> 0), else [rows, groups].
    /// </summary>
    public static Tensor Scales(Tensor w, int bits, int group = 0, QuantGrid grid = QuantGrid.Symmetric)
    {
        using var least = 1e-12.ToScalar();
        return GroupAbsMax(w.detach(), group).clamp_min(least).Over(TopLevel(bits, grid));
    }

    /// <summary>The top level in units of the scale (checks the bits).</summary>
    public static double TopLevel(int bits, QuantGrid grid)
    {
        Levels(bits);
        return ArtifactLayout.TopLevel(bits, grid);
    }

    /// <summary>max |w| of each row ([rows, 1]) or of each group of <paramref name="group"/> columns ([rows, groups]).</summary>
    public static Tensor GroupAbsMax(Tensor w, int group)
    {
        var columns = w.shape[1];
        if (group <= 0 || group >= columns)
        {
            return w.abs().amax(new long[] { 1 }, keepdim: true);
        }

        var groups = (columns + group - 1) / group;
        var padded = groups * group == columns ? w.abs() : nn.functional.pad(w.abs(), new long[] { 0, (groups * group) - columns });
        return padded.reshape(w.shape[0], groups, group).amax(new long[] { 2 });
    }

    /// <summary>Scales of shape [rows, groups] (or [rows, 1]) spread over the <paramref name="columns"/> they cover.</summary>
    public static Tensor Spread(Tensor scales, long columns, int group) =>
        scales.shape[1] == 1 ? scales : scales.repeat_interleave(group, dim: 1).narrow(1, 0, columns);

    /// <summary>The nearest level's code of <paramref name="x"/> (weights in units of their scale), as floats: rounded (symmetric) or floored (stretched: levels at half-integers), clamped to the grid.</summary>
    public static Tensor Round(Tensor x, int bits, QuantGrid grid = QuantGrid.Symmetric)
    {
        Levels(bits);
        var nearest = grid == QuantGrid.Stretched ? x.floor() : x.round();
        using var min = ArtifactLayout.MinCode(bits, grid).ToScalar();
        using var max = ArtifactLayout.MaxCode(bits, grid).ToScalar();
        return nearest.clamp(min, max);
    }

    /// <summary>The integer codes of <paramref name="w"/> under <paramref name="scales"/> (per row or group).</summary>
    public static Tensor Codes(Tensor w, Tensor scales, int bits, int group = 0, QuantGrid grid = QuantGrid.Symmetric) =>
        Round(w.detach() / Spread(scales, w.shape[1], group), bits, grid).to(ScalarType.Int8);

    /// <summary>The integer codes of <paramref name="w"/> under its absmax scales.</summary>
    public static Tensor Codes(Tensor w, int bits, int group = 0, QuantGrid grid = QuantGrid.Symmetric) => Codes(w, Scales(w, bits, group, grid), bits, group, grid);

    /// <summary>The level a code stands for, in units of the scale: the code itself (symmetric) or the code + ½ (stretched).</summary>
    public static Tensor Level(Tensor codes, QuantGrid grid) => grid == QuantGrid.Stretched ? codes.Plus(ArtifactLayout.CodeShift(grid)) : codes;

    /// <summary>The level of each code times its scale: the weight an artifact restores.</summary>
    public static Tensor Dequantize(Tensor codes, Tensor scales, int group = 0, QuantGrid grid = QuantGrid.Symmetric) =>
        Level(codes.to(ScalarType.Float32), grid) * Spread(scales.to(ScalarType.Float32), codes.shape[1], group);

    /// <summary><paramref name="w"/> fake-quantised to <paramref name="bits"/> (0 = unchanged), with a straight-through gradient.</summary>
    public static Tensor Weight(Tensor w, int bits, int group = 0, QuantGrid grid = QuantGrid.Symmetric)
    {
        if (bits == 0)
        {
            return w;
        }

        var scale = Spread(Scales(w, bits, group, grid), w.shape[1], group);
        var q = Level(Round(w / scale, bits, grid), grid) * scale;
        return w.Plus((q - w).detach());
    }

    /// <summary>An embedding look-up in a fake-quantised table (one scale per token row, or per group of its columns).</summary>
    public static Tensor Embed(Embedding embedding, Tensor idx, int bits, int group = 0, QuantGrid grid = QuantGrid.Symmetric)
    {
        if (bits == 0)
        {
            return embedding.call(idx);
        }

        var table = Weight(embedding.weight!, bits, group, grid);
        var shape = new long[idx.dim() + 1];
        Array.Copy(idx.shape, shape, idx.dim());
        shape[^1] = table.shape[1];
        return table.index_select(0, idx.reshape(-1)).reshape(shape);
    }
}

/// <summary>A layer whose weights can be fake-quantised (quantisation-aware training): the grid and the switch the model sets.</summary>
public interface IFakeQuantized
{
    /// <summary>Columns per scale (0 = a scale per row).</summary>
    int Group { get; set; }

    /// <summary>False while quantisation-aware training has not started (a late start): the weights pass unchanged.</summary>
    bool Enabled { get; set; }

    /// <summary>The grid of levels.</summary>
    QuantGrid Grid { get; set; }
}

/// <summary>
/// A linear layer whose weight is fake-quantised in the forward pass (quantisation-aware training). Its
/// parameters are named as nn.Linear's (<c>weight</c>, <c>bias</c>) and start as nn.Linear's do, so a
/// full-precision checkpoint of the same shape loads into it.
/// </summary>
public sealed class QuantLinear : nn.Module<Tensor, Tensor>, IFakeQuantized
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
    public int Group { get; set; }

    /// <inheritdoc />
    public bool Enabled { get; set; } = true;

    /// <inheritdoc />
    public QuantGrid Grid { get; set; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Linears.Affine(x, Enabled ? FakeQuant.Weight(weight, Bits, Group, Grid) : weight, bias);
}

/// <summary>Linear layers that are plain or quantisation-aware, for the layers that hold them.</summary>
public static class Linears
{
    /// <summary>nn.Linear, or a <see cref="QuantLinear"/> when <paramref name="bits"/> is above 0.</summary>
    public static nn.Module<Tensor, Tensor> Create(long inFeatures, long outFeatures, bool bias, int bits) =>
        bits > 0 ? new QuantLinear(inFeatures, outFeatures, bias, bits) : nn.Linear(inFeatures, outFeatures, hasBias: bias);

    /// <summary>
    /// Applies <paramref name="layer"/> to <paramref name="x"/> (…, in) as one GEMM with the bias in its epilogue.
    /// TorchSharp's nn.Linear goes through libtorch's C++ <c>torch::nn::functional::linear</c>, which fuses the bias
    /// (addmm) only for 2-D inputs: a (B, T, in) input got a matmul and then a separate broadcast add over the whole
    /// output — one more pass over every biased layer's output forward (measured: 19 such adds, 7 % of baby GPT's GPU
    /// time a step on an H100; results/fused/README.md). A biased layer here sees its input as (B·T, in) — a view when
    /// the input is contiguous — and its output is viewed back. Bias-free layers and 2-D inputs are called as they are.
    /// With SlmGen's fused kernels on a CUDA device a biased layer runs as <see cref="Native.FusedKernels.Linear"/> (the
    /// same GEMMs; its bias gradient from SlmGen's column-sum kernel, not libtorch's reduction).
    /// </summary>
    public static Tensor Apply(nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        if (layer is Linear { bias: not null } biased && Native.FusedKernels.LinearApplies(x, biased.weight!, biased.bias!))
        {
            return Affine(x, biased.weight!, biased.bias);
        }

        return x.dim() <= 2 || layer is not Linear { bias: not null } ? layer.call(x) : AsRows(x, layer.call);
    }

    /// <summary><c>x Wᵀ + b</c> for <paramref name="x"/> of any rank, the bias fused into the GEMM (see <see cref="Apply"/>).</summary>
    public static Tensor Affine(Tensor x, Tensor weight, Tensor? bias)
    {
        if (bias is not null && Native.FusedKernels.LinearApplies(x, weight, bias))
        {
            return AsRows(x, rows => Native.FusedKernels.Linear(rows, weight, bias));
        }

        return x.dim() <= 2 || bias is null ? nn.functional.linear(x, weight, bias) : AsRows(x, rows => nn.functional.linear(rows, weight, bias));
    }

    // f of x seen as (rows, in), its (rows, out) result viewed back as (…, out).
    private static Tensor AsRows(Tensor x, Func<Tensor, Tensor> f)
    {
        var y = f(x.reshape(-1, x.shape[^1]));
        var shape = x.shape;
        shape[^1] = y.shape[^1];
        return y.view(shape);
    }

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
