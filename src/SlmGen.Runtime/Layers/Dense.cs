using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>A dense layer: <c>dropout(act(x W + b))</c>.</summary>
public sealed class Dense : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc;
    private readonly Dropout? drop;
    private readonly Act activation;

    /// <summary>Creates a dense layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>.</summary>
    public Dense(long inFeatures, long outFeatures, Act activation, bool bias, double dropout, int weightBits = 0) : base(nameof(Dense))
    {
        fc = Linears.Create(inFeatures, outFeatures, bias, weightBits);
        drop = dropout > 0 ? nn.Dropout(dropout) : null;
        this.activation = activation;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var y = Activations.Apply(activation, Linears.Apply(fc, x));
        return drop is null ? y : drop.call(y);
    }
}
