using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// A low-rank adapter for one linear layer: x ↦ B(A(x)), A of rank r (PyTorch's default init), B zero at
/// the start so that the adapted layer begins as the shared one (Hu et al. 2021).
/// </summary>
public sealed class LoraAdapter : nn.Module<Tensor, Tensor>
{
    private readonly Linear A;
    private readonly Linear B;

    /// <summary>Creates an adapter from <paramref name="inFeatures"/> to <paramref name="outFeatures"/> through <paramref name="rank"/>.</summary>
    public LoraAdapter(long inFeatures, long outFeatures, long rank) : base(nameof(LoraAdapter))
    {
        A = nn.Linear(inFeatures, rank, hasBias: false);
        B = nn.Linear(rank, outFeatures, hasBias: false);
        using (no_grad())
        {
            nn.init.zeros_(B.weight!);
        }

        RegisterComponents();
    }

    /// <summary>Sets B to zero again (after a model-wide initialisation).</summary>
    public void ResetUp()
    {
        using var noGrad = no_grad();
        nn.init.zeros_(B.weight!);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => B.call(A.call(x));
}

/// <summary>The adapters of one application of a shared block, by the name of the linear layer they adapt (qkv, q, k, v, proj, fc, gate, out).</summary>
public sealed class LoraSet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleDict<LoraAdapter> adapters;

    /// <summary>Creates the set.</summary>
    public LoraSet(IEnumerable<(string Name, long In, long Out)> layers, long rank) : base(nameof(LoraSet))
    {
        adapters = new ModuleDict<LoraAdapter>();
        foreach (var (name, inFeatures, outFeatures) in layers)
        {
            adapters.Add((name, new LoraAdapter(inFeatures, outFeatures, rank)));
        }

        RegisterComponents();
    }

    /// <summary>The layer's output plus its adapter's, when the set has one for <paramref name="name"/>.</summary>
    public Tensor Adapt(string name, Tensor x, Tensor y) => adapters.TryGetValue(name, out var adapter) ? y + adapter.call(x) : y;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x;
}
