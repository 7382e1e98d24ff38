using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// An LM head that reuses the token embedding as its output matrix: <c>logits = x · Eᵀ</c>. It owns no
/// parameters (the embedding keeps the only copy), so the weight is counted, saved and updated once.
/// </summary>
public sealed class TiedHead : nn.Module<Tensor, Tensor>
{
    // A delegate, not a field of type Module: TorchSharp registers Module-typed fields as submodules,
    // which would list the embedding (and its weight) twice.
    private readonly Func<Tensor> embeddingWeight;

    /// <summary>Ties the head to <paramref name="embedding"/>.</summary>
    public TiedHead(Embedding embedding) : base(nameof(TiedHead))
    {
        embeddingWeight = () => embedding.weight!;
        Vocab = embedding.weight!.shape[0];
        Width = embedding.weight!.shape[1];
    }

    /// <summary>Output size (the embedding's rows).</summary>
    public long Vocab { get; }

    /// <summary>Input width (the embedding's columns).</summary>
    public long Width { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => nn.functional.linear(x, embeddingWeight());
}

/// <summary>A low-rank LM head: <c>out(down(x))</c> through a bottleneck of width <c>rank</c>.</summary>
public sealed class FactorizedHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear down;
    private readonly Linear @out;

    /// <summary>Creates the head.</summary>
    public FactorizedHead(long width, long rank, long vocab, bool bias) : base(nameof(FactorizedHead))
    {
        down = nn.Linear(width, rank, hasBias: false);
        @out = nn.Linear(rank, vocab, hasBias: bias);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => @out.call(down.call(x));
}
