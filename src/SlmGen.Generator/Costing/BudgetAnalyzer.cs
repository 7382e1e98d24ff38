using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Costing;

/// <summary>Budget status of one model (what the cost report lists).</summary>
internal sealed record BudgetStatus(string Metric, double Value, double Limit)
{
    public bool Over => Limit > 0 && Value > Limit;
}

/// <summary>
/// Compares a model's costs with its budget (the model's own, else the project's) and gives the advice
/// diagnostics; every message carries the numbers.
/// </summary>
internal static class BudgetAnalyzer
{
    /// <summary>The compute-optimal training length (Hoffmann et al. 2022): about 20 tokens per parameter.</summary>
    public const double TokensPerParameter = 20;

    /// <summary>
    /// Forward FLOPs per token per stored bf16 weight byte above which a shared stack earns advice. Weights
    /// used once do about 1 (2 FLOPs per parameter, 2 bytes per parameter); a stack applied r times does about r.
    /// </summary>
    public const double SharedComputePerByte = 8;

    public static List<BudgetStatus> Status(ModelPlan plan, ModelCosts costs, BudgetSpec budget)
    {
        var list = new List<BudgetStatus>();
        if (budget.MaxParameters > 0)
        {
            list.Add(new BudgetStatus("parameters", costs.Parameters, budget.MaxParameters));
        }

        if (budget.MaxForwardFlopsPerToken > 0)
        {
            list.Add(new BudgetStatus("forward_flops_per_token", costs.ForwardFlopsPerToken, budget.MaxForwardFlopsPerToken));
        }

        if (budget.MaxTrainingFlops > 0 && budget.TrainingTokens > 0)
        {
            list.Add(new BudgetStatus("training_flops", (double)(new BigInteger(costs.TrainingFlopsPerToken) * budget.TrainingTokens), budget.MaxTrainingFlops));
        }

        if (budget.MaxWeightBytes > 0)
        {
            list.Add(new BudgetStatus(plan.Quantized ? "weight_bytes_declared" : "weight_bytes_fp32", costs.WeightBytesDeclared, budget.MaxWeightBytes));
        }

        if (budget.MaxArtifactBytes > 0)
        {
            list.Add(new BudgetStatus("artifact_bytes", costs.ArtifactBytes, budget.MaxArtifactBytes));
        }

        if (budget.MaxKvCacheBytes > 0)
        {
            list.Add(new BudgetStatus("kv_cache_bytes_bf16", costs.KvCacheBytesPerSequenceBf16, budget.MaxKvCacheBytes));
        }

        return list;
    }

    public static IEnumerable<DiagnosticInfo> Diagnose(ModelSpec spec, ModelPlan plan, ModelCosts costs, BudgetSpec budget, string architectureJson)
    {
        var name = spec.ClassName;
        var where = spec.Declaration;
        LocationInfo? At(string setting) => spec.Has(setting) ? spec.Where(setting) : where;

        if (budget.MaxParameters > 0 && costs.Parameters > budget.MaxParameters)
        {
            yield return DiagnosticInfo.Create(
                DiagnosticDescriptors.OverParameters, where, name, Formatting.Count(costs.Parameters),
                Formatting.Ratio((double)costs.Parameters / budget.MaxParameters), Formatting.Count(budget.MaxParameters),
                Largest(costs, c => c.Parameters, "of them are in", costs.Parameters - budget.MaxParameters));
        }

        if (budget.MaxForwardFlopsPerToken > 0 && costs.ForwardFlopsPerToken > budget.MaxForwardFlopsPerToken)
        {
            yield return DiagnosticInfo.Create(
                DiagnosticDescriptors.OverForwardFlops, where, name, Formatting.Count(costs.ForwardFlopsPerToken),
                Formatting.Ratio((double)costs.ForwardFlopsPerToken / budget.MaxForwardFlopsPerToken), Formatting.Count(budget.MaxForwardFlopsPerToken),
                Largest(costs, c => c.ForwardFlopsPerToken, "of them are in", costs.ForwardFlopsPerToken - budget.MaxForwardFlopsPerToken));
        }

        if (budget.MaxTrainingFlops > 0 && budget.TrainingTokens <= 0)
        {
            yield return DiagnosticInfo.Create(DiagnosticDescriptors.TrainingBudgetWithoutTokens, At(SpecKeys.Budgets("max_training_flops")), name);
        }
        else if (budget.MaxTrainingFlops > 0)
        {
            // Exact: FLOPs per token (< 2^63) times tokens (< 2^63) can pass decimal's range.
            var total = new BigInteger(costs.TrainingFlopsPerToken) * budget.TrainingTokens;
            var ratio = (double)total / budget.MaxTrainingFlops;
            if (ratio > 1)
            {
                yield return DiagnosticInfo.Create(
                    DiagnosticDescriptors.OverTrainingFlops, where, name, total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), Formatting.Count(budget.TrainingTokens),
                    Formatting.Ratio(ratio), Formatting.Flops(budget.MaxTrainingFlops),
                    Largest(costs, c => c.TrainingFlopsPerToken, "of them are in", costs.TrainingFlopsPerToken * (1 - (1 / ratio))));
            }
        }

        if (budget.MaxWeightBytes > 0 && costs.WeightBytesDeclared > budget.MaxWeightBytes)
        {
            yield return DiagnosticInfo.Create(
                DiagnosticDescriptors.OverWeightBytes, where, name, Formatting.Count(costs.WeightBytesDeclared), plan.Quantized ? "at the declared precision" : "in fp32",
                Formatting.Ratio((double)costs.WeightBytesDeclared / budget.MaxWeightBytes), Formatting.Count(budget.MaxWeightBytes),
                Largest(costs, c => c.Parameters, "of the weights are in"));
        }

        if (budget.MaxArtifactBytes > 0 && costs.ArtifactBytes > budget.MaxArtifactBytes)
        {
            yield return OverArtifact(spec, plan, costs, budget, architectureJson, At(SpecKeys.Budgets("max_artifact_bytes")));
        }

        if (budget.MaxKvCacheBytes > 0 && costs.KvCacheBytesPerSequenceBf16 > budget.MaxKvCacheBytes)
        {
            yield return DiagnosticInfo.Create(
                DiagnosticDescriptors.OverKvCache, where, name, Formatting.Count(costs.Context), Formatting.Count(costs.KvCacheBytesPerSequenceBf16),
                Formatting.Ratio((double)costs.KvCacheBytesPerSequenceBf16 / budget.MaxKvCacheBytes), Formatting.Count(budget.MaxKvCacheBytes),
                "shorten the context, narrow the model or use fewer layers");
        }

        // Advice.
        var total_ = costs.Parameters;

        foreach (var advice in HeadAdvice(spec, plan, costs))
        {
            yield return advice;
        }

        // The logits: half or more of the activation memory of a sequence, and enough of it to matter (1 MiB in fp32).
        var logits = costs.LogitsElementsPerSequence;
        if (costs.ActivationElementsPerSequence > 0 && logits * 2 >= costs.ActivationElementsPerSequence && costs.PredictsEveryPosition && plan.Context > 1 && logits * 4 >= 1 << 20)
        {
            yield return DiagnosticInfo.Create(
                DiagnosticDescriptors.LogitsDominate, spec.Has(SpecKeys.Vocab) ? spec.Where(SpecKeys.Vocab) : spec.Declaration, spec.ClassName,
                Formatting.Count(plan.Context), Formatting.Count(plan.Vocab), Formatting.Bytes(logits * 4), Formatting.Percent((double)logits / costs.ActivationElementsPerSequence));
        }

        foreach (var advice in HeadSizeAdvice(spec, plan))
        {
            yield return advice;
        }

        foreach (var advice in KvCacheAdvice(spec, plan, costs))
        {
            yield return advice;
        }

        if (costs.PredictsEveryPosition && costs.ForwardFlopsPerToken > 0 && costs.AttentionScoreFlopsPerToken * 2 > costs.ForwardFlopsPerToken)
        {
            yield return DiagnosticInfo.Create(
                DiagnosticDescriptors.AttentionDominates, where, name,
                Formatting.Percent((double)costs.AttentionScoreFlopsPerToken / costs.ForwardFlopsPerToken), Formatting.Count(costs.Context));
        }

        if (budget.TrainingTokens > 0 && total_ > 0)
        {
            var ratio = (double)budget.TrainingTokens / total_;
            if (ratio < TokensPerParameter / 4 || ratio > TokensPerParameter * 4)
            {
                yield return DiagnosticInfo.Create(
                    DiagnosticDescriptors.TokensPerParameter, At(SpecKeys.Budgets("training_tokens")), name,
                    Formatting.Count(budget.TrainingTokens), Formatting.Count(total_), ratio.ToString(ratio < 10 ? "0.00" : "0", System.Globalization.CultureInfo.InvariantCulture),
                    Formatting.Short(TokensPerParameter * total_));
            }
        }

        for (var index = 0; index < plan.Steps.Count; index++)
        {
            if (plan.Steps[index] is not StackStep { ApplicationsPerBlock: > 1 } stack)
            {
                continue;
            }

            var stackCosts = costs.Components.Where(c => c.Step == index).ToList();
            var bytes = stackCosts.Sum(c => c.Parameters) * 2;
            var flops = stackCosts.Sum(c => c.ForwardFlopsPerToken);
            if (bytes > 0 && (double)flops / bytes >= SharedComputePerByte)
            {
                var key = SpecKeys.Layer(stack.LayerIndex);
                yield return DiagnosticInfo.Create(
                    DiagnosticDescriptors.SharedBlockCompute, spec.Where(spec.Has(key + ".block_repeat") ? key + ".block_repeat" : key + ".repeat"), name, spec.Display(key),
                    stack.ApplicationsPerBlock, Formatting.Ratio((double)flops / bytes));
            }
        }
    }

    /// <summary>
    /// SLM0205: at the declared context the KV cache (bf16) outweighs the weights (bf16), so it dominates
    /// inference memory; the advice gives what grouped-query attention (a quarter of the k/v heads, or one)
    /// would make of it.
    /// </summary>
    private static IEnumerable<DiagnosticInfo> KvCacheAdvice(ModelSpec spec, ModelPlan plan, ModelCosts costs)
    {
        var cache = costs.KvCacheBytesPerSequenceBf16;
        if (cache <= 0 || cache <= costs.WeightBytesBf16)
        {
            yield break;
        }

        var stacks = plan.Steps.OfType<StackStep>().ToList();
        string suggestion;
        if (stacks.All(s => s.Block.Attention.KvHeads == 1))
        {
            suggestion = "it already has one key/value head per block: a shorter context or fewer block applications shrink it";
        }
        else
        {
            long grouped = 0;
            var choices = new List<string>();
            foreach (var s in stacks)
            {
                var a = s.Block.Attention;
                var kv = Divisors.Of(a.Heads).Where(k => k <= Math.Max(1, a.Heads / 4)).Max();
                grouped += s.Applications * 2 * kv * a.HeadDim * 2 * plan.Context;
                choices.Add($"{kv} of {a.Heads}");
            }

            suggestion = $"grouped-query attention with {string.Join(", ", choices.Distinct())} key/value heads (kv_heads / KvHeads) would make it {Formatting.Count(grouped)} bytes";
        }

        yield return DiagnosticInfo.Create(
            DiagnosticDescriptors.KvCacheDominates, spec.Declaration, spec.ClassName, Formatting.Count(plan.Context), Formatting.Count(cache),
            Formatting.Ratio((double)cache / costs.WeightBytesBf16), Formatting.Count(costs.WeightBytesBf16), suggestion);
    }

    /// <summary>SLM0204: a head size PyTorch's fused attention kernels do not take (not a multiple of 8), with the nearest head counts that give one.</summary>
    private static IEnumerable<DiagnosticInfo> HeadSizeAdvice(ModelSpec spec, ModelPlan plan)
    {
        foreach (var stack in plan.Steps.OfType<StackStep>())
        {
            var size = Enumerable.Range(0, stack.IsUniform ? 1 : stack.Blocks).Select(i => stack.Shape(i).HeadDim).FirstOrDefault(h => h % 8 != 0 && h <= 256);
            if (size == 0)
            {
                continue;
            }

            var fits = Divisors.Of(stack.Width).Where(h => (stack.Width / h) % 8 == 0).ToList();
            var heads = stack.Block.Attention.Heads;
            var suggestion = stack.Block.Attention.InnerWidth != stack.Width || !stack.IsUniform
                ? $"a head_dim that is a multiple of 8 ({((size + 7) / 8) * 8}, say) would allow them"
                : fits.Count == 0
                ? $"a width that is a multiple of 8 would allow it (the width here is {stack.Width})"
                : $"{string.Join(" or ", fits.OrderBy(h => Math.Abs(h - heads)).Take(2).OrderBy(h => h))} heads would give {string.Join(" or ", fits.OrderBy(h => Math.Abs(h - heads)).Take(2).OrderBy(h => h).Select(h => stack.Width / h))}-wide heads";
            var fp32 = size % 4 == 0 ? " in bf16 and fp16 (fp32 on CUDA is fused)" : string.Empty;
            var key = SpecKeys.Layer(stack.LayerIndex);
            yield return DiagnosticInfo.Create(DiagnosticDescriptors.UnfusedHeadSize, spec.Where(key + ".heads"), spec.ClassName, spec.Display(key), size, fp32, suggestion);
        }
    }

    /// <summary>
    /// SLM0200: only for a head with a full matrix of its own, when it and the embedding hold most of the
    /// parameters; the advice fits the head (tie it where the widths allow, else factorise it).
    /// </summary>
    private static IEnumerable<DiagnosticInfo> HeadAdvice(ModelSpec spec, ModelPlan plan, ModelCosts costs)
    {
        var head = plan.Steps.OfType<HeadStep>().Single();
        var total = costs.Parameters;
        if (head.Kind != HeadKind.Full || total <= 0)
        {
            yield break;
        }

        var embeddingAndHead = costs.ParametersOfKind("embedding") + costs.ParametersOfKind("head");
        if (embeddingAndHead * 2 <= total)
        {
            yield break;
        }

        long w = head.InWidth, v = head.Vocab;
        var rank = Math.Max(1, Math.Min(w / 4, 256));
        var factorisedSaves = (w * v) - ((w * rank) + (rank * v));
        var factorise = factorisedSaves > 0
            ? $"factorising it through rank {rank} ({Rank(spec)}) saves {Formatting.Count(factorisedSaves)}"
            : null;
        string suggestion;
        if (head.CanTie)
        {
            var tieSaves = (w * v) + (head.Bias ? v : 0);
            suggestion = $"tying it to the embedding ({Tie(spec)}) saves {Formatting.Count(tieSaves)} parameters" + (factorise is null ? string.Empty : "; " + factorise);
        }
        else
        {
            suggestion = $"it sees width {w}, not the embedding's {plan.Width}, so it cannot be tied; " + (factorise ?? "a smaller vocabulary would shrink it");
        }

        yield return DiagnosticInfo.Create(
            DiagnosticDescriptors.EmbeddingHeavy, spec.Has(SpecKeys.Head) ? spec.Where(SpecKeys.Head) : spec.Declaration, spec.ClassName,
            Formatting.Count(embeddingAndHead), Formatting.Count(total), Formatting.Percent((double)embeddingAndHead / total), suggestion);
    }

    private static string Tie(ModelSpec spec) => spec.Source == SpecSource.Yaml ? "head: tied" : "[LMHead(TiedToEmbedding = true)]";

    private static string Rank(ModelSpec spec) => spec.Source == SpecSource.Yaml ? "head: { rank: r }" : "[LMHead(Rank = r)]";

    /// <summary>"73% of them are in the transformer MLPs" — the component kind that costs most.</summary>
    /// <summary>
    /// The component that holds most of <paramref name="measure"/>, and — when the model is <paramref name="over"/>
    /// its budget by less than that component holds — how much of it to cut and how.
    /// </summary>
    /// <summary>SLM0107: the artifact over its cap, with its three costliest tensors and what would bring it under.</summary>
    private static DiagnosticInfo OverArtifact(ModelSpec spec, ModelPlan plan, ModelCosts costs, BudgetSpec budget, string architectureJson, LocationInfo? where)
    {
        var total = costs.ArtifactBytes;
        var largest = ArtifactSize.Largest(plan, architectureJson, 3).ToList();
        var list = string.Join(", ", largest.Select(t => $"{t.Name} {Formatting.Count(t.Bytes)} ({Formatting.Percent((double)t.Bytes / total)}, {(t.Bits > 0 ? $"{t.Bits}-bit" : ArtifactPlan.Name(plan.Artifact.Others))})"));
        var over = total - budget.MaxArtifactBytes;
        var artifact = plan.Artifact;
        string advice;
        if (!artifact.Quantizes)
        {
            // Everything at one type: what quantising the matrices at 8 or 4 bits would give.
            var at8 = ArtifactSize.Bytes(plan with { Artifact = artifact with { Attention = 8, Mlp = 8, Dense = 8, Head = 8, Embedding = 8, Others = StoreType.Bf16 } }, architectureJson);
            var at4 = ArtifactSize.Bytes(plan with { Artifact = artifact with { Attention = 4, Mlp = 4, Dense = 4, Head = 4, Embedding = 8, Others = StoreType.Bf16 } }, architectureJson);
            advice = $"Over by {Formatting.Count(over)} bytes; nothing is quantised: every matrix at 8 bits (`quantization: {{ attention: 8, mlp: 8, dense: 8, head: 8, embedding: 8 }}`) would take {Formatting.Count(at8)} bytes, at 4 bits with an 8-bit embedding {Formatting.Count(at4)}" +
                     (at4 > budget.MaxArtifactBytes ? " — still over: fewer parameters are needed" : string.Empty) + ".";
        }
        else
        {
            var part = largest.Count > 0 && largest[0].Part != TensorPart.Other ? $" ({largest[0].Part.ToString().ToLowerInvariant()}: quantization.{largest[0].Part.ToString().ToLowerInvariant()})" : string.Empty;
            advice = $"Over by {Formatting.Count(over)} bytes: fewer bits for the part of the largest tensors{part}, a coarser scale group (now {(artifact.Group == 0 ? "a scale per row" : artifact.Group.ToString(System.Globalization.CultureInfo.InvariantCulture))}), or fewer parameters.";
        }

        return DiagnosticInfo.Create(
            DiagnosticDescriptors.OverArtifactBytes, where, spec.ClassName, Formatting.Count(total), artifact.Describe(),
            Formatting.Ratio((double)total / budget.MaxArtifactBytes), Formatting.Count(budget.MaxArtifactBytes), list, advice);
    }

    private static string Largest(ModelCosts costs, Func<ComponentCost, long> measure, string phrase, double over = 0)
    {
        var total = costs.Components.Sum(measure);
        if (total <= 0)
        {
            return "nothing dominates";
        }

        var top = costs.Components
            .GroupBy(c => Describe(c))
            .Select(g => (What: g.Key, Amount: g.Sum(measure), Kind: g.First()))
            .OrderByDescending(x => x.Amount)
            .First();
        var text = $"{Formatting.Percent((double)top.Amount / total)} {phrase} {top.What}";
        if (over > 0 && Remedy(top.Kind) is { } remedy)
        {
            text += over < top.Amount
                ? $": cutting {(top.What.EndsWith("s", StringComparison.Ordinal) ? "them" : "it")} by {Formatting.Percent(Math.Max(0.01, over / top.Amount))} fits the budget ({remedy})"
                : $" ({remedy}; even without {(top.What.EndsWith("s", StringComparison.Ordinal) ? "them" : "it")} the model would be over: a smaller design overall)";
        }

        return text;
    }

    /// <summary>What shrinks a component of this kind.</summary>
    private static string? Remedy(ComponentCost c) => c.Kind switch
    {
        "embedding" => "a smaller vocabulary or a narrower embedding",
        "positions" => "RoPE or sinusoidal positions, which have no table, or a shorter context",
        "attention" => "fewer key/value heads (kv_heads), a smaller head_dim, fewer blocks, or blocks shared with block_repeat",
        "mlp" when c.Name.StartsWith("dense", StringComparison.Ordinal) => "narrower dense layers or a shorter flatten window",
        "mlp" => "a smaller ffn or a tapering ffn_last, fewer blocks, or blocks shared with block_repeat",
        "head" => "head: tied, a factorised head (rank), a grouped head (groups), or a smaller vocabulary",
        _ => null,
    };

    private static string Describe(ComponentCost c) => c.Kind switch
    {
        "embedding" => "the token embedding",
        "positions" => "the position table",
        "attention" => "the attention layers",
        "mlp" when c.Name.StartsWith("dense", StringComparison.Ordinal) => "the dense layers",
        "mlp" => "the transformer MLPs",
        "norm" => "the norms",
        "residual" => "the residual-stream scales and skips",
        "head" => "the LM head",
        _ => c.Kind,
    };
}
