using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>RMSNorm: <c>x / sqrt(mean(x²) + eps) · weight</c> over the last dimension (TorchSharp 0.107 has none).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    /// <summary>Creates an RMSNorm over <paramref name="dim"/> features.</summary>
    public RmsNorm(long dim, double eps = 1e-6) : base(nameof(RmsNorm))
    {
        weight = nn.Parameter(ones(dim));
        this.eps = eps;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var xf = x.to(ScalarType.Float32);
        var normed = xf * (xf.pow(2).mean(new long[] { -1 }, keepdim: true) + eps).rsqrt();
        return normed.to(x.dtype) * weight;
    }
}

/// <summary>Builds the norm layers the generated code names.</summary>
public static class Norms
{
    /// <summary>A LayerNorm or RMSNorm over <paramref name="dim"/> features.</summary>
    public static nn.Module<Tensor, Tensor> Create(NormKind kind, long dim, bool bias = true) => kind switch
    {
        NormKind.LayerNorm => nn.LayerNorm(dim, bias: bias),
        NormKind.RmsNorm => new RmsNorm(dim),
        _ => nn.Identity(),
    };
}
