using System.Linq;
using System.Text;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Emit;

/// <summary>The XML doc of a generated model: what it is (summary) and its cost table (remarks, shown on hover).</summary>
internal static class CostDoc
{
    public static void WriteRemarks(IndentedWriter w, ModelPlan plan, ModelCosts costs)
    {
        w.Line("/// <remarks>");
        w.Line(costs.PredictsEveryPosition
            ? $"/// Compile-time costs. FLOPs as PyTorch's FlopCounterMode counts them, per token at a full context of {plan.Context} with logits at every position:"
            : $"/// Compile-time costs. FLOPs as PyTorch's FlopCounterMode counts them, per prediction (one per window; layers before the flatten run at each of its {plan.Context} positions):");
        w.Line("/// <code>");
        foreach (var row in Table(costs))
        {
            w.Line("/// " + Literals.Xml(row).TrimEnd());
        }

        w.Line("/// </code>");
        w.Line($"/// Memory: weights {Formatting.Short(costs.WeightBytesFp32)}B in fp32, {Formatting.Short(costs.WeightBytesBf16)}B in bf16" +
               (plan.Quantized ? $", {Formatting.Short(costs.WeightBytesDeclared)}B at the precision plan" : string.Empty) + $"; artifact file {Formatting.Count(costs.ArtifactBytes)} B before its tokenizer; " +
               $"AdamW state {Formatting.Short(costs.AdamWStateBytes)}B; KV cache {Formatting.Count(costs.KvCacheElementsPerToken * 2)} B per token in bf16 " +
               $"({Formatting.Short(costs.KvCacheBytesPerSequenceBf16)}B per full context); activations about {Formatting.Short(costs.ActivationElementsPerSequence * 4.0)}B per sequence in fp32.");
        w.Line($"/// Approximations: 6·N = {Formatting.Count(6 * costs.Parameters)} training FLOPs per token; 2·N = {Formatting.Count(2 * costs.Parameters)} (forward, attention left out).");
        w.Line("/// </remarks>");
    }

    /// <summary>One line: the layers, the width, positions, context, vocabulary.</summary>
    public static string Summary(ModelPlan plan)
    {
        var sb = new StringBuilder(plan.ClassName).Append(": ");
        var parts = plan.Steps.Select(step => step switch
        {
            FlattenStep f => $"flatten of the last {f.Window} tokens",
            DenseStep d => $"dense {d.OutWidth} {Names.Of(d.Activation)}",
            StackStep s => $"{s.Blocks} transformer blocks ({s.Block.Attention.Heads} heads, {(s.Block.Norm.PreNorm ? "pre" : "post")}-{Names.Of(s.Block.Norm.Kind)}{(s.Block.Sharing.Repeat > 1 ? $", applied {s.Block.Sharing.Repeat}×" : string.Empty)})",
            _ => null,
        }).Where(p => p is not null).ToList();
        sb.Append(parts.Count == 0 ? "embedding straight into the head" : string.Join(", ", parts));
        sb.Append($"; width {plan.Width}, {Names.Of(plan.Positions)} positions, context {plan.Context}, vocabulary {plan.Vocab}.");
        return sb.ToString();
    }

    /// <summary>The cost table as fixed-width rows.</summary>
    public static string[] Table(ModelCosts costs)
    {
        var rows = costs.Components
            .Select(c => new[] { c.Name, c.Kind, Formatting.Count(c.Parameters), Formatting.Count(c.ForwardFlopsPerToken), Formatting.Count(c.TrainingFlopsPerToken) })
            .ToList();
        rows.Insert(0, new[] { "component", "kind", "parameters", "fwd FLOPs", "train FLOPs" });
        rows.Add(new[] { "total", string.Empty, Formatting.Count(costs.Parameters), Formatting.Count(costs.ForwardFlopsPerToken), Formatting.Count(costs.TrainingFlopsPerToken) });
        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        return rows.Select(r => string.Join("  ", r.Select((cell, i) => i < 2 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i])))).ToArray();
    }
}
