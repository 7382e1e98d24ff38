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

/// <summary>
/// A grouped (two-level) LM head (Vennam et al. 2024, "LLM Vocabulary Compression for Low-Compute Environments"):
/// the vocabulary is cut into <c>groups</c> runs of consecutive ids (for a byte-level BPE, merge order) of
/// <c>size</c> = ⌈vocabulary / groups⌉ ids each; one matrix scores the groups, another the position within a group,
/// and p(id) = p(group) · p(position). Training takes two softmaxes (<see cref="Loss"/>), so no tensor of the
/// vocabulary's size exists; <see cref="forward"/> gives the log-probabilities over the vocabulary (their sum, no
/// matmul) for evaluation and sampling.
/// </summary>
public sealed class GroupedHead : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> group;
    private readonly nn.Module<Tensor, Tensor> token;

    /// <summary>Creates the head.</summary>
    public GroupedHead(long width, long groups, long vocab, int bits = 0) : base(nameof(GroupedHead))
    {
        Groups = groups;
        Vocab = vocab;
        GroupSize = (vocab + groups - 1) / groups;
        group = Linears.Create(width, groups, false, bits);
        token = Linears.Create(width, GroupSize, false, bits);
        RegisterComponents();
    }

    /// <summary>Groups.</summary>
    public long Groups { get; }

    /// <summary>Ids per group.</summary>
    public long GroupSize { get; }

    /// <summary>Vocabulary.</summary>
    public long Vocab { get; }

    /// <summary>Log-probabilities over the vocabulary, (…, V): log p(group) + log p(position).</summary>
    public override Tensor forward(Tensor x)
    {
        var g = nn.functional.log_softmax(group.call(x).to(ScalarType.Float32), -1).unsqueeze(-1);
        var t = nn.functional.log_softmax(token.call(x).to(ScalarType.Float32), -1).unsqueeze(-2);
        var all = (g + t).flatten(-2);
        return all.shape[^1] == Vocab ? all : all.narrow(-1, 0, Vocab);
    }

    /// <summary>Mean NLL of <paramref name="targets"/>: the group's cross-entropy plus the position's, no vocabulary-sized tensor.</summary>
    public Tensor Loss(Tensor x, Tensor targets)
    {
        var flat = targets.reshape(-1);
        var features = x.reshape(-1, x.shape[^1]);
        var groupLoss = nn.functional.cross_entropy(group.call(features).to(ScalarType.Float32), flat.div(GroupSize, rounding_mode: RoundingMode.floor));
        var tokenLoss = nn.functional.cross_entropy(token.call(features).to(ScalarType.Float32), flat.remainder(GroupSize));
        return groupLoss + tokenLoss;
    }
}
