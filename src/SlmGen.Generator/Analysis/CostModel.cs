using System;
using System.Collections.Generic;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Analysis;

/// <summary>
/// The one cost model: parameters, FLOPs and memory of a (valid) spec, by component. Used for the emitted
/// constants, the cost table, the JSON report and every budget or advice diagnostic.
/// </summary>
/// <remarks>
/// FLOPs follow PyTorch's FlopCounterMode: a matmul is 2·m·n·k (a bias add is free); scaled dot-product
/// attention is 2·T·T·d for the scores plus 2·T·T·d for the weighted values, over the full T×T (the causal
/// mask is ignored), and its backward is 2.5× its forward; a linear layer's backward is 2× its forward
/// (input and weight gradients); norms, softmax, activations, dropout, embedding lookups and position
/// additions count 0. Per-token figures assume a full window with logits at every position; models with a
/// flatten make one prediction per window, and their figures are per prediction. All arithmetic is checked:
/// a model too large to count exactly yields an <see cref="OverflowException"/>, which the caller reports.
/// </remarks>
internal static class CostModel
{
    public static ModelCosts Compute(ModelSpec spec)
    {
        checked
        {
            var components = new List<ComponentCosts>();
            long d = spec.Width, t = spec.Context, v = spec.Vocab;

            components.Add(new ComponentCosts("wte", "embedding", $"token embedding {v}×{d}", v * d, 0, 0, 0, t * d, 0));
            switch (spec.Positions.Kind)
            {
                case PositionKind.Learned:
                    var rows = spec.Positions.Length > 0 ? spec.Positions.Length : t;
                    components.Add(new ComponentCosts("wpe", "positions", $"learned positions {rows}×{d}", rows * d, 0, 0, 0, 0, 0));
                    break;
                case PositionKind.Sinusoidal:
                    components.Add(new ComponentCosts("wpe", "positions", $"sinusoidal positions {t}×{d} (fixed)", 0, 0, 0, 0, 0, 0));
                    break;
                case PositionKind.Rope:
                    components.Add(new ComponentCosts("rope", "positions", "rotary positions in attention (fixed)", 0, 0, 0, 0, 0, 0));
                    break;
            }

            long width = d;
            long rowsPerSequence = t; // positions a layer runs on per window
            var denseCount = 0;
            var stackCount = 0;
            foreach (var layer in spec.Layers)
            {
                switch (layer)
                {
                    case FlattenSpec flatten:
                        var window = flatten.EffectiveWindow(spec.Context);
                        width = window * width;
                        rowsPerSequence = 1;
                        break;

                    case DenseSpec dense:
                        denseCount++;
                        long units = dense.Units;
                        var p = (width * units) + (dense.Bias ? units : 0);
                        var f = 2 * width * units;
                        components.Add(new ComponentCosts(
                            "dense" + denseCount, "mlp", $"dense {width}→{units}, {Names.Of(dense.Activation)}",
                            p, f, 3 * f, 0, 2 * rowsPerSequence * units, 0));
                        width = units;
                        break;

                    case TransformerSpec stack:
                        stackCount++;
                        components.AddRange(Transformer(spec, stack, StackName(spec, stackCount), width, t));
                        break;
                }
            }

            if (spec.FinalNorm.Kind != NormKind.None)
            {
                components.Add(new ComponentCosts(
                    "ln_f", "norm", $"final {Names.Of(spec.FinalNorm.Kind)}",
                    NormParameters(spec.FinalNorm.Kind, spec.FinalNorm.Bias, width), 0, 0, 0, rowsPerSequence * width, 0));
            }

            components.Add(Head(spec, width, rowsPerSequence));

            var costs = new ModelCosts(spec.Vocab, spec.Context, spec.Width, !HasFlatten(spec), components.ToEquatableArray());

            // Every figure the emitted code and the runtime use must fit: totals, bytes and per-window counts.
            _ = costs.Parameters * 8;
            _ = costs.ForwardFlopsPerToken * t;
            _ = costs.TrainingFlopsPerToken * t;
            _ = costs.KvCacheElementsPerToken * 2 * t;
            _ = costs.ActivationElementsPerSequence * 4;
            return costs;
        }
    }

    /// <summary>The field name of the n-th transformer stack in the generated module.</summary>
    public static string StackName(ModelSpec spec, int ordinal)
    {
        var stacks = 0;
        foreach (var layer in spec.Layers)
        {
            if (layer is TransformerSpec)
            {
                stacks++;
            }
        }

        return stacks == 1 ? "blocks" : "blocks" + ordinal;
    }

    public static bool HasFlatten(ModelSpec spec)
    {
        foreach (var layer in spec.Layers)
        {
            if (layer is FlattenSpec)
            {
                return true;
            }
        }

        return false;
    }

    public static long NormParameters(NormKind kind, bool bias, long width) => kind switch
    {
        NormKind.LayerNorm => checked(bias ? 2 * width : width),
        NormKind.RmsNorm => width,
        _ => 0,
    };

    private static IEnumerable<ComponentCosts> Transformer(ModelSpec spec, TransformerSpec stack, string name, long d, long t)
    {
        checked
        {
            long layers = stack.Layers;
            long applications = layers * stack.EffectiveRepeat;
            long ffn = stack.EffectiveFfnHidden((int)d);
            var shared = stack.EffectiveRepeat > 1 ? $", applied {stack.EffectiveRepeat}× (shared)" : string.Empty;

            // Attention: q, k, v and output projections; the scores over the full T×T.
            var attnParams = (4 * d * d) + (stack.AttentionBias ? 4 * d : 0);
            var projFlops = 2 * 4 * d * d;
            var scoreFlops = 4 * t * d;
            yield return new ComponentCosts(
                name + ".attn", "attention",
                $"{layers}× causal self-attention, {stack.Heads} heads of {d / stack.Heads}, {(stack.PackedQkv ? "packed" : "separate")} q/k/v{shared}",
                layers * attnParams,
                applications * (projFlops + scoreFlops),
                applications * ((3 * projFlops) + (7 * scoreFlops / 2)),
                applications * scoreFlops,
                applications * t * 6 * d,
                applications * 2 * d);

            // Feed-forward: two matrices, or three for SwiGLU.
            var matrices = stack.Activation == Act.SwiGlu ? 3 : 2;
            var mlpParams = (matrices * d * ffn) + (stack.FfnBias ? ((matrices - 1) * ffn) + d : 0);
            var mlpFlops = 2 * matrices * d * ffn;
            yield return new ComponentCosts(
                name + ".mlp", "mlp",
                $"{layers}× FFN {d}→{ffn}→{d}, {Names.Of(stack.Activation)}{shared}",
                layers * mlpParams,
                applications * mlpFlops,
                applications * 3 * mlpFlops,
                0,
                applications * t * (((matrices - 1) * 2 * ffn) + d),
                0);

            if (stack.Norm != NormKind.None)
            {
                yield return new ComponentCosts(
                    name + ".norms", "norm",
                    $"{layers}× 2 {Names.Of(stack.Norm)} ({(stack.PreNorm ? "pre" : "post")}-norm){shared}",
                    layers * 2 * NormParameters(stack.Norm, stack.NormBias, d),
                    0, 0, 0,
                    applications * t * 2 * d,
                    0);
            }
        }
    }

    private static ComponentCosts Head(ModelSpec spec, long width, long rowsPerSequence)
    {
        checked
        {
            long v = spec.Vocab;
            if (spec.Head.Tied)
            {
                var f = 2 * width * v;
                return new ComponentCosts("lm_head", "head", $"LM head {width}→{v}, tied to the token embedding", 0, f, 3 * f, 0, rowsPerSequence * v, 0);
            }

            if (spec.Head.Rank > 0)
            {
                long r = spec.Head.Rank;
                var p = (width * r) + (r * v) + (spec.Head.Bias ? v : 0);
                var f = 2 * ((width * r) + (r * v));
                return new ComponentCosts("lm_head", "head", $"LM head {width}→{r}→{v} (factorised)", p, f, 3 * f, 0, rowsPerSequence * (r + v), 0);
            }

            var own = (width * v) + (spec.Head.Bias ? v : 0);
            var flops = 2 * width * v;
            return new ComponentCosts("lm_head", "head", $"LM head {width}→{v}{(spec.Head.Bias ? " with bias" : string.Empty)}", own, flops, 3 * flops, 0, rowsPerSequence * v, 0);
        }
    }
}
