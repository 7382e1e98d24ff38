// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): the cost model computes
// these rows, the generated code constructs them (ModelCost.Components), reports and budgets read them.
#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>What one component of a model costs (figures computed by the generator at build time).</summary>
/// <param name="Name">The component as it appears in the generated module (for example <c>blocks</c>).</param>
/// <param name="Kind">embedding, positions, attention, mlp, norm, head.</param>
/// <param name="Description">What the component is, in words (for cost tables).</param>
/// <param name="Parameters">Trainable parameters owned by the component (tied weights counted once, at their owner).</param>
/// <param name="ForwardFlopsPerToken">Forward FLOPs per token (per prediction for flatten models).</param>
/// <param name="TrainingFlopsPerToken">Forward plus backward FLOPs per token.</param>
/// <param name="AttentionScoreFlopsPerToken">The part of <paramref name="ForwardFlopsPerToken"/> spent on the T×T attention products.</param>
/// <param name="ActivationElementsPerSequence">Elements of the layer outputs one sequence keeps for backward (an estimate, see docs/costs.md).</param>
/// <param name="KvCacheElementsPerToken">Key and value elements cached per token for generation.</param>
/// <param name="WeightBytes">Weight bytes at the declared precision (fp32 without quantisation; with it, quantised matrices at their bits plus fp16 scales, the rest bf16); -1 when not given.</param>
public sealed record ComponentCost(
    string Name,
    string Kind,
    string Description,
    long Parameters,
    long ForwardFlopsPerToken,
    long TrainingFlopsPerToken,
    long AttentionScoreFlopsPerToken,
    long ActivationElementsPerSequence,
    long KvCacheElementsPerToken,
    long WeightBytes = -1)
{
    /// <summary>The index of the plan step it belongs to (<see cref="SlmModel.Plan"/>); -1 where not recorded.</summary>
    public int Step { get; init; } = -1;

    /// <summary>The LM head: with the study's objective it runs on the last position only.</summary>
    public bool IsHead => Kind == "head";
}
