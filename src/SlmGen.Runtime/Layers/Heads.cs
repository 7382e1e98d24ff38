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

    private readonly int bits;

    /// <summary>Ties the head to <paramref name="embedding"/>; <paramref name="bits"/> fake-quantises the shared table as the embedding does (0 = full precision).</summary>
    public TiedHead(Embedding embedding, int bits = 0) : base(nameof(TiedHead))
    {
        this.bits = bits;
        embeddingWeight = () => embedding.weight!;
        Vocab = embedding.weight!.shape[0];
        Width = embedding.weight!.shape[1];
    }

    /// <summary>Output size (the embedding's rows).</summary>
    public long Vocab { get; }

    /// <summary>Input width (the embedding's columns).</summary>
    public long Width { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => nn.functional.linear(x, FakeQuant.Weight(embeddingWeight(), bits));
}

/// <summary>A low-rank LM head: <c>out(down(x))</c> through a bottleneck of width <c>rank</c>.</summary>
public sealed class FactorizedHead : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> down;
    private readonly nn.Module<Tensor, Tensor> @out;

    /// <summary>Creates the head; <paramref name="bits"/> trains both matrices quantisation-aware (0 = full precision).</summary>
    public FactorizedHead(long width, long rank, long vocab, bool bias, int bits = 0) : base(nameof(FactorizedHead))
    {
        down = Linears.Create(width, rank, false, bits);
        @out = Linears.Create(rank, vocab, bias, bits);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => @out.call(down.call(x));
}
