using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// Concatenates the vectors of the last <c>window</c> positions: (B, T, D) → (B, window·D). The model then
/// makes one prediction per window, for the token after it.
/// </summary>
public sealed class ContextFlatten : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the flatten over the latest <paramref name="window"/> positions.</summary>
    public ContextFlatten(int window) : base(nameof(ContextFlatten)) => Window = window;

    /// <summary>Positions concatenated.</summary>
    public int Window { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var t = x.shape[1];
        if (t < Window)
        {
            throw new System.ArgumentException($"ContextFlatten needs at least {Window} positions, got {t}.", nameof(x));
        }

        var last = t == Window ? x : x.narrow(1, t - Window, Window);
        return last.reshape(x.shape[0], -1);
    }
}
