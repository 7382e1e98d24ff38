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

/// <summary>
/// The adapters of one application of a shared block, one per linear layer it adapts (attn_qkv or attn_q/k/v,
/// attn_proj, mlp_fc, mlp_gate, mlp_proj), in the block's order. A <see cref="ModuleList{T}"/> with the names
/// beside it: TorchSharp 0.107's ModuleDict cannot be moved between devices (<c>.to()</c> fails on it).
/// </summary>
public sealed class LoraSet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<LoraAdapter> adapters;
    private readonly string[] names;

    /// <summary>Creates the set.</summary>
    public LoraSet(IEnumerable<(string Name, long In, long Out)> layers, long rank) : base(nameof(LoraSet))
    {
        var list = new List<LoraAdapter>();
        var named = new List<string>();
        foreach (var (name, inFeatures, outFeatures) in layers)
        {
            list.Add(new LoraAdapter(inFeatures, outFeatures, rank));
            named.Add(name);
        }

        adapters = nn.ModuleList(list.ToArray());
        names = named.ToArray();
        RegisterComponents();
    }

    /// <summary>The names of the adapted layers, in the order of the adapters.</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>The layer's output plus its adapter's, when the set has one for <paramref name="name"/>.</summary>
    public Tensor Adapt(string name, Tensor x, Tensor y)
    {
        var i = System.Array.IndexOf(names, name);
        return i < 0 ? y : y.Plus(adapters[i].call(x));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x;
}
