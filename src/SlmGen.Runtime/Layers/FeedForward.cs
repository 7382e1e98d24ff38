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

    /// <summary>The output projection (its weight is scaled at GPT-2 initialisation).</summary>
    public Linear OutputProjection => proj;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var h = gate is null
            ? Activations.Apply(activation, fc.call(x))
            : nn.functional.silu(gate.call(x)) * fc.call(x);
        return proj.call(drop is null ? h : drop.call(h));
    }
}
