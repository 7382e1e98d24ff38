using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// The position-wise feed-forward network: <c>proj(act(fc(x)))</c>, or for SwiGLU
/// <c>proj(silu(gate(x)) ⊙ fc(x))</c>; with <c>dropout</c> &gt; 0, <c>proj(dropout(act(fc(x))))</c>.
/// </summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc;
    private readonly nn.Module<Tensor, Tensor>? gate;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly Dropout? drop;
    private readonly Act activation;

    /// <summary>Creates the FFN.</summary>
    public FeedForward(long dModel, long hidden, Act activation, bool bias, double dropout = 0.0, int weightBits = 0) : base(nameof(FeedForward))
    {
        drop = dropout > 0 ? nn.Dropout(dropout) : null;
        fc = Linears.Create(dModel, hidden, bias, weightBits);
        gate = activation == Act.SwiGlu ? Linears.Create(dModel, hidden, bias, weightBits) : null;
        proj = Linears.Create(hidden, dModel, bias, weightBits);
        this.activation = activation;
        RegisterComponents();
    }

    /// <summary>The adapters of the current application of a shared block (set by its block), or null.</summary>
    public LoraSet? Adapters { get; set; }

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

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var h = gate is null
            ? Activations.Apply(activation, Linear("mlp_fc", fc, x))
            : nn.functional.silu(Linear("mlp_gate", gate, x)) * Linear("mlp_fc", fc, x);
        return Linear("mlp_proj", proj, drop is null ? h : drop.call(h));
    }

    private Tensor Linear(string name, nn.Module<Tensor, Tensor> layer, Tensor x) => Adapters is null ? layer.call(x) : Adapters.Adapt(name, x, layer.call(x));
}
