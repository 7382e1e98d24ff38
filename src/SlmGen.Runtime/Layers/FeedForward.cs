using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// The position-wise feed-forward network: <c>proj(act(fc(x)))</c>, or for SwiGLU
/// <c>proj(silu(gate(x)) ⊙ fc(x))</c>; with <c>dropout</c> &gt; 0, <c>proj(dropout(act(fc(x))))</c>.
/// </summary>
public sealed class FeedForward : nn.Module<Tensor, LoraSet?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc;
    private readonly nn.Module<Tensor, Tensor>? gate;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly Dropout? drop;
    private readonly Act activation;

    /// <summary>Creates the FFN of a <paramref name="width"/>-wide residual stream.</summary>
    public FeedForward(long width, FeedForwardConfig config) : base(nameof(FeedForward))
    {
        drop = config.Dropout > 0 ? nn.Dropout(config.Dropout) : null;
        fc = Linears.Create(width, config.Hidden, config.Bias, config.WeightBits);
        gate = config.Activation == Act.SwiGlu ? Linears.Create(width, config.Hidden, config.Bias, config.WeightBits) : null;
        proj = Linears.Create(config.Hidden, width, config.Bias, config.WeightBits);
        activation = config.Activation;
        RegisterComponents();
    }

    /// <summary>The linear layers, by the names their adapters use: (name, in, out).</summary>
    public System.Collections.Generic.IEnumerable<(string Name, long In, long Out)> AdaptableLayers()
    {
        var (fcIn, fcOut) = Linears.ShapeOf(fc);
        yield return ("mlp_fc", fcIn, fcOut);
        if (gate is not null)
        {
            yield return ("mlp_gate", fcIn, fcOut);
        }

        var (projIn, projOut) = Linears.ShapeOf(proj);
        yield return ("mlp_proj", projIn, projOut);
    }

    /// <summary>The output projection (its weight is scaled at GPT-2 initialisation).</summary>
    public Tensor OutputProjectionWeight => Linears.WeightOf(proj);

    /// <summary>The layer without adapters.</summary>
    public Tensor call(Tensor x) => call(x, null);

    /// <summary>The FFN with <paramref name="adapters"/> (one application's LoRA set of a shared block) added to its matrices, or none.</summary>
    public override Tensor forward(Tensor x, LoraSet? adapters)
    {
        var h = gate is null
            ? Activations.Apply(activation, Linear("mlp_fc", fc, x, adapters))
            : nn.functional.silu(Linear("mlp_gate", gate, x, adapters)) * Linear("mlp_fc", fc, x, adapters);
        return Linear("mlp_proj", proj, drop is null ? h : drop.call(h), adapters);
    }

    private static Tensor Linear(string name, nn.Module<Tensor, Tensor> layer, Tensor x, LoraSet? adapters) => adapters is null ? layer.call(x) : adapters.Adapt(name, x, layer.call(x));
}
