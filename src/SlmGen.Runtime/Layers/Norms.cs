using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// RMSNorm: <c>x / sqrt(mean(x²) + eps) · weight</c> over the last dimension (TorchSharp 0.107 has none); without
/// <c>learnedScale</c>, parameter-free: <c>x / sqrt(mean(x²) + eps)</c>.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? weight;
    private readonly double eps;

    /// <summary>Creates an RMSNorm over <paramref name="dim"/> features, with a learned scale (<c>weight</c>, ones) unless <paramref name="learnedScale"/> is false.</summary>
    public RmsNorm(long dim, double eps = 1e-6, bool learnedScale = true) : base(nameof(RmsNorm))
    {
        weight = learnedScale ? nn.Parameter(ones(dim)) : null;
        this.eps = eps;
        RegisterComponents();
    }

    /// <summary>The learned scale (null when parameter-free).</summary>
    public Parameter? Weight => weight;

    /// <summary>The epsilon under the square root.</summary>
    public double Eps => eps;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        // One kernel (SlmGen.Native.FusedKernels) where it applies; the same values to float rounding.
        if (SlmGen.Native.FusedKernels.Applies(x, weight))
        {
            return SlmGen.Native.FusedKernels.Norm(x, weight, null, eps, rms: true, doubleRound: true);
        }

        var xf = x.to(ScalarType.Float32);
        var normed = (xf * xf.Squared().mean(new long[] { -1 }, keepdim: true).Plus(eps).rsqrt()).to(x.dtype);
        return weight is null ? normed : normed * weight;
    }
}

/// <summary>Builds the norm layers the generated code names.</summary>
public static class Norms
{
    /// <summary>A LayerNorm or RMSNorm (with or without its scale) over <paramref name="dim"/> features.</summary>
    public static nn.Module<Tensor, Tensor> Create(NormKind kind, long dim, bool bias = true) => kind switch
    {
        NormKind.LayerNorm => nn.LayerNorm(dim, bias: bias),
        NormKind.RmsNorm => new RmsNorm(dim),
        NormKind.RmsNormFree => new RmsNorm(dim, learnedScale: false),
        _ => nn.Identity(),
    };
}
