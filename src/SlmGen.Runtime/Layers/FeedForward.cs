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
    private readonly Linear fc;
    private readonly Linear? gate;
    private readonly Linear proj;
    private readonly Dropout? drop;
    private readonly Act activation;

    /// <summary>Creates the FFN.</summary>
    public FeedForward(long dModel, long hidden, Act activation, bool bias, double dropout = 0.0) : base(nameof(FeedForward))
    {
        drop = dropout > 0 ? nn.Dropout(dropout) : null;
        fc = nn.Linear(dModel, hidden, hasBias: bias);
        gate = activation == Act.SwiGlu ? nn.Linear(dModel, hidden, hasBias: bias) : null;
        proj = nn.Linear(hidden, dModel, hasBias: bias);
        this.activation = activation;
        RegisterComponents();
    }

    /// <summary>The adapters of the current application of a shared block (set by its block), or null.</summary>
    public LoraSet? Adapters { get; set; }

    /// <summary>The linear layers, by the names their adapters use: (name, in, out).</summary>
    public System.Collections.Generic.IEnumerable<(string Name, long In, long Out)> AdaptableLayers()
    {
        yield return ("mlp_fc", fc.in_features, fc.out_features);
        if (gate is not null)
        {
            yield return ("mlp_gate", gate.in_features, gate.out_features);
        }

        yield return ("mlp_proj", proj.in_features, proj.out_features);
    }

    /// <summary>The output projection (its weight is scaled at GPT-2 initialisation).</summary>
    public Linear OutputProjection => proj;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var h = gate is null
            ? Activations.Apply(activation, Linear("mlp_fc", fc, x))
            : nn.functional.silu(Linear("mlp_gate", gate, x)) * Linear("mlp_fc", fc, x);
        return Linear("mlp_proj", proj, drop is null ? h : drop.call(h));
    }

    private Tensor Linear(string name, Linear layer, Tensor x) => Adapters is null ? layer.call(x) : Adapters.Adapt(name, x, layer.call(x));
}
