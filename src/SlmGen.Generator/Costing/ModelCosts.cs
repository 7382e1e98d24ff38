using System.Linq;
using SlmGen.Generator.Model;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Costing;

/// <summary>Rows of the cost model.</summary>
internal static class Components
{
    /// <summary>A component's cost row, recorded as belonging to plan step <paramref name="step"/>.</summary>
    public static ComponentCost Of(int step, string name, string kind, string description, long parameters, long forwardFlopsPerToken, long trainingFlopsPerToken,
        long attentionScoreFlopsPerToken, long activationElementsPerSequence, long kvCacheElementsPerToken, long weightBytes) =>
        new(name, kind, description, parameters, forwardFlopsPerToken, trainingFlopsPerToken, attentionScoreFlopsPerToken, activationElementsPerSequence, kvCacheElementsPerToken, weightBytes) { Step = step };
}

/// <summary>The costs of one model, by component; totals are checked sums (the cost model verified they fit).</summary>
internal sealed record ModelCosts(int Vocab, int Context, int Width, bool PredictsEveryPosition, EquatableArray<ComponentCost> Components)
{
    public long Parameters => Sum(c => c.Parameters);

    public long ForwardFlopsPerToken => Sum(c => c.ForwardFlopsPerToken);

    public long TrainingFlopsPerToken => Sum(c => c.TrainingFlopsPerToken);

    public long AttentionScoreFlopsPerToken => Sum(c => c.AttentionScoreFlopsPerToken);

    public long KvCacheElementsPerToken => Sum(c => c.KvCacheElementsPerToken);

    public long ActivationElementsPerSequence => Sum(c => c.ActivationElementsPerSequence);

    /// <summary>Scores the head produces per predicting position in training: the vocabulary, or a grouped head's groups + group size.</summary>
    public long LogitsPerPosition { get; init; }

    /// <summary>Logits per sequence in training: scores per position × the positions that predict (the head's output, counted in the activations).</summary>
    public long LogitsElementsPerSequence => (PredictsEveryPosition ? Context : 1) * (LogitsPerPosition > 0 ? LogitsPerPosition : Vocab);

    /// <summary>
    /// Training FLOPs when PyTorch runs attention on its math path (head sizes its fused kernels do not take):
    /// FlopCounterMode then counts the attention backward at 2× (two matmul gradients), not 2.5×.
    /// </summary>
    public long TrainingFlopsPerTokenMathAttention => TrainingFlopsPerToken - (AttentionScoreFlopsPerToken / 2);

    public long WeightBytesFp32 => Parameters * 4;

    /// <summary>Weight bytes at the precision plan: fp32 without quantisation; with it, the quantised matrices' packed codes and scales, everything else at the plan's type (bf16 by default) — the artifact's tensors.</summary>
    public long WeightBytesDeclared => Sum(c => c.WeightBytes);

    public long WeightBytesBf16 => Parameters * 2;

    /// <summary>Bytes of the artifact file at the precision plan, exact, before its tokenizer (<see cref="ArtifactSize"/>).</summary>
    public long ArtifactBytes { get; init; }

    public long AdamWStateBytes => Parameters * 8;

    public long KvCacheBytesPerSequenceBf16 => KvCacheElementsPerToken * 2 * Context;

    public int PositionsPerWindow => PredictsEveryPosition ? Context : 1;

    public long ParametersOfKind(string kind) => checked(Components.Where(c => c.Kind == kind).Sum(c => c.Parameters));

    private long Sum(System.Func<ComponentCost, long> measure)
    {
        long total = 0;
        foreach (var c in Components)
        {
            total = checked(total + measure(c));
        }

        return total;
    }
}
