using System;
using System.Collections.Generic;
using System.Linq;

namespace SlmGen;

/// <summary>
/// The compile-time cost of a generated model. FLOPs follow PyTorch's <c>FlopCounterMode</c>: a matmul is
/// 2·m·n·k, attention is counted over the full T×T (causal mask ignored) and its backward at 2.5× the forward,
/// a linear layer's backward at 2× its forward, and elementwise ops, norms, softmax and embedding lookups at 0.
/// Per-token figures are for a full window of <see cref="Context"/> tokens with logits at every position;
/// for models that make one prediction per window (flatten baselines) they are per prediction.
/// </summary>
public sealed record ModelCost(
    string Model,
    int Vocab,
    int Context,
    int Width,
    bool PredictsEveryPosition,
    IReadOnlyList<ComponentCost> Components)
{
    /// <summary>Trainable parameters (tied weights counted once).</summary>
    public long Parameters => Components.Sum(c => c.Parameters);

    /// <summary>Forward FLOPs per token.</summary>
    public long ForwardFlopsPerToken => Components.Sum(c => c.ForwardFlopsPerToken);

    /// <summary>Forward plus backward FLOPs per token.</summary>
    public long TrainingFlopsPerToken => Components.Sum(c => c.TrainingFlopsPerToken);

    /// <summary>Positions that take part in one forward pass over a window.</summary>
    public int PositionsPerWindow => PredictsEveryPosition ? Context : 1;

    /// <summary>
    /// Forward FLOPs for one window. With <paramref name="lastPositionOnly"/> the LM head runs on the last
    /// position alone (the study's objective); the body still runs on every position.
    /// </summary>
    public long ForwardFlopsPerWindow(bool lastPositionOnly = false) =>
        PerWindow(c => c.ForwardFlopsPerToken, lastPositionOnly);

    /// <summary>Forward plus backward FLOPs for one window (see <see cref="ForwardFlopsPerWindow"/>).</summary>
    public long TrainingFlopsPerWindow(bool lastPositionOnly = false) =>
        PerWindow(c => c.TrainingFlopsPerToken, lastPositionOnly);

    /// <summary>Weights in fp32, bytes.</summary>
    public long WeightBytesFp32 => Parameters * 4;

    /// <summary>Weight bytes at the declared precision (see <see cref="ComponentCost.WeightBytes"/>): fp32 unless quantisation is declared.</summary>
    public long WeightBytesDeclared => Components.All(c => c.WeightBytes >= 0) ? Components.Sum(c => c.WeightBytes) : WeightBytesFp32;

    /// <summary>Weights in bf16, bytes.</summary>
    public long WeightBytesBf16 => Parameters * 2;

    /// <summary>AdamW state (two fp32 moments per parameter), bytes.</summary>
    public long AdamWStateBytes => Parameters * 8;

    /// <summary>KV cache per token in bf16, bytes.</summary>
    public long KvCacheBytesPerTokenBf16 => Components.Sum(c => c.KvCacheElementsPerToken) * 2;

    /// <summary>KV cache for a full context in bf16, bytes.</summary>
    public long KvCacheBytesPerSequenceBf16 => KvCacheBytesPerTokenBf16 * Context;

    /// <summary>Activations kept for backward per sequence in fp32, bytes (estimate).</summary>
    public long ActivationBytesPerSequenceFp32 => Components.Sum(c => c.ActivationElementsPerSequence) * 4;

    /// <summary>Scores the head produces per predicting position in training: the vocabulary, or a grouped head's groups + group size (0 = the vocabulary).</summary>
    public long LogitsPerPosition { get; init; }

    /// <summary>Bytes of the artifact file at the model's precision plan, exact, before its tokenizer (SlmGen.Artifacts.ArtifactFile writes exactly this plus the tokenizer's entry).</summary>
    public long ArtifactBytes { get; init; }

    /// <summary>Logits of one sequence in training (fp32): scores per position × predicting positions × 4 bytes (part of the activations).</summary>
    public long LogitsBytesPerSequenceFp32 => PositionsPerWindow * (LogitsPerPosition > 0 ? LogitsPerPosition : Vocab) * 4;

    /// <summary>The same logits in bf16.</summary>
    public long LogitsBytesPerSequenceBf16 => LogitsBytesPerSequenceFp32 / 2;

    /// <summary>What the cross-entropy keeps for its backward pass (its log-softmax, fp32): as much as the fp32 logits again.</summary>
    public long LossBytesPerSequenceFp32 => LogitsBytesPerSequenceFp32;

    /// <summary>The part of <see cref="ForwardFlopsPerToken"/> spent on the T×T attention products.</summary>
    public long AttentionScoreFlopsPerToken => Components.Sum(c => c.AttentionScoreFlopsPerToken);

    /// <summary>
    /// Training FLOPs per token when PyTorch runs attention on its math path instead of a fused kernel (flash or
    /// memory-efficient; they take head sizes that are multiples of 8, or of 4 in fp32 on CUDA): FlopCounterMode
    /// then counts the attention backward at 2× its forward (two matmul gradients) instead of 2.5×.
    /// <see cref="TrainingFlopsPerToken"/> is the fused-kernel count.
    /// </summary>
    public long TrainingFlopsPerTokenMathAttention => TrainingFlopsPerToken - (AttentionScoreFlopsPerToken / 2);

    /// <summary>The usual 6·N training FLOPs per token (N = parameters).</summary>
    public long SixNFlopsPerToken => 6 * Parameters;

    /// <summary>The study's 2·N FLOPs per token (forward only, attention not counted).</summary>
    public long TwoNFlopsPerToken => 2 * Parameters;

    /// <summary>Parameters by component kind (embedding, positions, attention, mlp, norm, head).</summary>
    public IReadOnlyDictionary<string, long> ParametersByKind =>
        Components.GroupBy(c => c.Kind).ToDictionary(g => g.Key, g => g.Sum(c => c.Parameters));

    private long PerWindow(Func<ComponentCost, long> flops, bool lastPositionOnly)
    {
        if (!PredictsEveryPosition)
        {
            return Components.Sum(flops);
        }

        long total = 0;
        foreach (var c in Components)
        {
            total += flops(c) * (c.IsHead && lastPositionOnly ? 1 : Context);
        }

        return total;
    }
}
