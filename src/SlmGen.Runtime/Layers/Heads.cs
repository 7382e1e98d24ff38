using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// An LM head that reuses the token embedding as its output matrix: <c>logits = x · Eᵀ</c>. It owns no
/// parameters (the embedding keeps the only copy), so the weight is counted, saved and updated once.
/// </summary>
public sealed class TiedHead : nn.Module<Tensor, Tensor>, IFakeQuantized
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
    public int Group { get; set; }

    /// <inheritdoc />
    public bool Enabled { get; set; } = true;

    /// <inheritdoc />
    public QuantGrid Grid { get; set; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => nn.functional.linear(x, Enabled ? FakeQuant.Weight(embeddingWeight(), bits, Group, Grid) : embeddingWeight());
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
    public override Tensor forward(Tensor x) => Linears.Apply(@out, down.call(x));
}

/// <summary>
/// A grouped (two-level) LM head (Vennam et al. 2024, "LLM Vocabulary Compression for Low-Compute Environments"):
/// the vocabulary is cut into <c>groups</c> runs of consecutive ids (for a byte-level BPE, merge order; renumbered by
/// <c>slmgen tokenizer reorder</c>, frequency order) of <c>size</c> = ⌈vocabulary / groups⌉ ids each; one matrix
/// scores the groups, another the position within a group, and p(id) = p(group) · p(position | group). Unconditioned
/// (the first lab's head), the position's softmax does not see the group; <b>conditioned</b>, it reads the features
/// scaled by the group's learned gate, p(position | g, h) = softmax(W_pos (h ⊙ (1 + e_g))), with e_g starting at 0 (so
/// the conditioned head starts as the unconditioned one). Slots that hold no real id — past the vocabulary in the last
/// group when the groups do not divide it, and the padded ids of pad_vocab_to — are masked out of both softmaxes, so the
/// probabilities of the real ids sum to one. Training takes two softmaxes (<see cref="Loss"/>: the target's group
/// only), so no tensor of the vocabulary's size exists; <see cref="forward"/> gives the log-probabilities over the
/// vocabulary (−∞ for ids that are not real) for evaluation and sampling — for a conditioned head that scores every
/// group's positions, as many FLOPs as a full head.
/// </summary>
public sealed class GroupedHead : nn.Module<Tensor, Tensor>
{
    /// <summary>The name of a conditioned head's gates (groups × width).</summary>
    public const string GateName = "gate";

    private readonly nn.Module<Tensor, Tensor> group;
    private readonly nn.Module<Tensor, Tensor> token;
#pragma warning disable IDE1006 // the parameter's name in the module tree (lm_head.gate)
    private readonly Parameter? gate;
#pragma warning restore IDE1006

    /// <summary>
    /// Creates the head; <paramref name="realVocab"/> (default: all of <paramref name="vocab"/>) counts the ids that are
    /// real tokens, the rest being padding; <paramref name="conditioned"/> gives each group a gate on the features its
    /// positions are scored from.
    /// </summary>
    public GroupedHead(long width, long groups, long vocab, int bits = 0, long realVocab = 0, bool conditioned = false) : base(nameof(GroupedHead))
    {
        Groups = groups;
        Vocab = vocab;
        Width = width;
        RealVocab = realVocab > 0 ? Math.Min(realVocab, vocab) : vocab;
        GroupSize = (vocab + groups - 1) / groups;
        PartialGroup = RealVocab % GroupSize == 0 ? -1 : RealVocab / GroupSize;
        FirstEmptyGroup = (RealVocab + GroupSize - 1) / GroupSize;
        group = Linears.Create(width, groups, false, bits);
        token = Linears.Create(width, GroupSize, false, bits);
        gate = conditioned ? new Parameter(zeros(groups, width)) : null;
        RegisterComponents();
    }

    /// <summary>Groups.</summary>
    public long Groups { get; }

    /// <summary>Ids per group.</summary>
    public long GroupSize { get; }

    /// <summary>Vocabulary (the output's size).</summary>
    public long Vocab { get; }

    /// <summary>Input width.</summary>
    public long Width { get; }

    /// <summary>Ids that are real tokens (the first ones); the others never get probability.</summary>
    public long RealVocab { get; }

    /// <summary>True when the position's softmax is conditioned on the group (a gate per group).</summary>
    public bool Conditioned => gate is not null;

    /// <summary>The gates (groups × width; null unless conditioned).</summary>
    public Tensor? Gate => gate;

    /// <summary>The group whose tail holds no real ids (−1 when every non-empty group is full).</summary>
    private long PartialGroup { get; }

    /// <summary>Groups from this one on hold no real id.</summary>
    private long FirstEmptyGroup { get; }

    private Tensor GroupLogits(Tensor x)
    {
        var logits = group.call(x).to(ScalarType.Float32);
        if (FirstEmptyGroup >= Groups)
        {
            return logits;
        }

        using var empty = HeldScalars.Arange(Groups, x.device).IsAtLeast(FirstEmptyGroup);
        return logits.FillWhere(empty, double.NegativeInfinity);
    }

    /// <summary>The position logits with the partial group's empty positions at −∞.</summary>
    private Tensor PartialPositionLogits(Tensor positionLogits)
    {
        using var empty = HeldScalars.Arange(GroupSize, positionLogits.device).IsAtLeast(RealVocab - (PartialGroup * GroupSize));
        return positionLogits.FillWhere(empty, double.NegativeInfinity);
    }

    /// <summary>The features a group's positions are scored from: h, or h ⊙ (1 + e_g) when conditioned.</summary>
    private Tensor Gated(Tensor x, Tensor gates) => x * gates.to(x.dtype).Plus(1L);

    /// <summary>Log-probabilities over the vocabulary, (…, V): log p(group) + log p(position | group); −∞ for ids that are not real.</summary>
    public override Tensor forward(Tensor x)
    {
        var g = nn.functional.log_softmax(GroupLogits(x), -1).unsqueeze(-1);

        // (…, 1, S) shared by every group, or (…, G, S) from each group's gated features.
        var positions = (gate is null ? token.call(x).unsqueeze(-2) : token.call(Gated(x.unsqueeze(-2), gate))).to(ScalarType.Float32);
        var all = g.Plus(nn.functional.log_softmax(positions, -1));
        if (PartialGroup >= 0)
        {
            var own = gate is null ? positions : positions.narrow(-2, PartialGroup, 1);
            var partial = g.narrow(-2, PartialGroup, 1).Plus(nn.functional.log_softmax(PartialPositionLogits(own), -1));
            all = cat(new[] { all.narrow(-2, 0, PartialGroup), partial, all.narrow(-2, PartialGroup + 1, Groups - PartialGroup - 1) }, -2);
        }

        all = all.flatten(-2);
        return all.shape[^1] == Vocab ? all : all.narrow(-1, 0, Vocab);
    }

    /// <summary>Mean NLL of <paramref name="targets"/>: the group's cross-entropy plus the position's (within the target's group), no vocabulary-sized tensor.</summary>
    public Tensor Loss(Tensor x, Tensor targets)
    {
        using var scope = NewDisposeScope(); // holds the intermediates while libtorch reads them (a caller need not have a scope)
        var flat = targets.reshape(-1);
        var features = x.reshape(-1, x.shape[^1]);
        using var groupSize = GroupSize.ToScalar();
        var groups = flat.div(groupSize, rounding_mode: RoundingMode.floor);
        var groupLoss = nn.functional.cross_entropy(GroupLogits(features), groups);
        var positions = token.call(gate is null ? features : Gated(features, gate.index_select(0, groups))).to(ScalarType.Float32);
        if (PartialGroup >= 0)
        {
            using var partialGroup = PartialGroup.ToScalar();
            positions = where(groups.eq(partialGroup).unsqueeze(-1), PartialPositionLogits(positions), positions);
        }

        var tokenLoss = nn.functional.cross_entropy(positions, flat.remainder(groupSize));
        return scope.MoveToOuter(groupLoss.Plus(tokenLoss));
    }
}

/// <summary>Logit soft-capping (Gemma 2; the modded-nanogpt speedrun): scores bounded to (−cap, cap) smoothly.</summary>
public static class SoftCap
{
    /// <summary><c>cap · tanh(scores / cap)</c>, computed in the scores' dtype.</summary>
    public static Tensor Apply(Tensor scores, double cap) => scores.Over(cap).tanh().Times(cap);
}
