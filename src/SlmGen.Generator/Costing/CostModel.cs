using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Generator.Model;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Costing;

/// <summary>
/// The one cost model: parameters, FLOPs and memory of a resolved <see cref="ModelPlan"/>, by component.
/// Used for the emitted constants, the cost table, the JSON report and every budget or advice diagnostic.
/// </summary>
/// <remarks>
/// FLOPs follow PyTorch's FlopCounterMode: a matmul is 2·m·n·k (a bias add is free); scaled dot-product
/// attention is 2·T·T·d for the scores plus 2·T·T·d for the weighted values, over the full T×T (the causal
/// mask is ignored), and its backward is 2.5× its forward; a linear layer's backward is 2× its forward
/// (input and weight gradients); norms, softmax, activations, dropout, embedding lookups and position
/// additions count 0.
/// <para>
/// The unit: models that predict at every position are counted per token (a full window with logits at
/// every position, divided by its T tokens). Models with a flatten make one prediction per window and are
/// counted per prediction: every step before the flatten runs at all T positions of the window and is
/// charged T times (<see cref="ModelPlan.RunsPerUnit"/>), every step after it once.
/// </para>
/// All arithmetic is checked: a model too large to count exactly yields an <see cref="OverflowException"/>,
/// which the caller reports as SLM0009.
/// </remarks>
internal static class CostModel
{
    public static ModelCosts Compute(ModelPlan plan)
    {
        checked
        {
            var components = new List<ComponentCost>();
            long t = plan.Context;
            for (var i = 0; i < plan.Steps.Count; i++)
            {
                var step = plan.Steps[i];
                var runs = plan.RunsPerUnit(step);
                var rows = plan.RowsPerSequence(step);
                switch (step)
                {
                    case EmbeddingStep e:
                        // The look-up's output is kept as the first block's input (counted there); embedding dropout's mask here.
                        var dropoutMask = plan.Steps.OfType<EmbeddingDropoutStep>().Any() ? t * ((e.Dim + 3) / 4) : 0;
                        components.Add(Components.Of(i, e.Field, "embedding", $"token embedding {e.Vocab}×{e.Dim}{Precision(e.Bits)}", e.Vocab * e.Dim, 0, 0, 0, dropoutMask, 0,
                            Matrix(plan, e.Vocab, e.Dim, TensorPart.Embedding)));
                        break;

                    case BigramStep g:
                    {
                        // The hash and the look-up count no FLOPs; the projection (when the row is narrower than the
                        // model) is a bias-free linear at every position. Kept for backward: the rows and the projection.
                        var projection = g.Projects ? 2 * g.Dim * g.Width * runs : 0;
                        components.Add(Components.Of(i, g.Field, "embedding",
                            $"hashed bigram embedding {g.Buckets}×{g.Dim}{(g.Projects ? $", projected {g.Dim}→{g.Width}" : string.Empty)}, added to the token embedding",
                            g.Parameters, projection, 3 * projection, 0, t * (2 + (g.Projects ? g.Dim : 0)), 0, V(plan, g.Parameters))); // the bucket ids (int64), the rows the projection reads
                        break;
                    }

                    case PositionsStep { Kind: PositionKind.Learned } p:
                        components.Add(Components.Of(i, p.Field, "positions", $"learned positions {p.Rows}×{p.Dim}", p.Rows * p.Dim, 0, 0, 0, 0, 0, V(plan, p.Rows * p.Dim)));
                        break;

                    case PositionsStep p:
                        components.Add(Components.Of(i, p.Field, "positions", $"sinusoidal positions {p.Rows}×{p.Dim} (fixed)", 0, 0, 0, 0, 0, 0, 0));
                        break;

                    case RopeStep:
                        components.Add(Components.Of(i, "rope", "positions", "rotary positions in attention (fixed)", 0, 0, 0, 0, 0, 0, 0));
                        break;

                    case DenseStep dense:
                        var p2 = (dense.InWidth * dense.OutWidth) + (dense.Bias ? dense.OutWidth : 0);
                        var f = 2 * dense.InWidth * dense.OutWidth * runs;
                        components.Add(Components.Of(
                            i, dense.Field, "mlp", $"dense {dense.InWidth}→{dense.OutWidth}, {Names.Of(dense.Activation)}{Precision(dense.Bits)}{AtEveryPosition(plan, dense)}",
                            p2, f, 3 * f, 0, 2 * rows * dense.OutWidth, 0,
                            Matrix(plan, dense.OutWidth, dense.InWidth, TensorPart.Dense) + (dense.Bias ? V(plan, dense.OutWidth) : 0)));
                        break;

                    case StackStep stack:
                        components.AddRange(Stack(plan, i, stack, t, runs));
                        break;

                    case FinalNormStep norm:
                        var normParameters = NormParameters(norm.Kind, norm.Bias, norm.Width);
                        components.Add(Components.Of(
                            i, norm.Field, "norm", $"final {Names.Of(norm.Kind)}",
                            normParameters, 0, 0, 0, rows * ((2 * norm.Width) + SavedActivations.NormExtra(norm.Kind, norm.Width)), 0, V(plan, normParameters)));
                        break;

                    case HeadStep head:
                        var headCost = SoftCapped(head, rows, Head(plan, i, head, runs, rows));
                        if (i > 0 && plan.Steps[i - 1] is StackStep)
                        {
                            // Without a final norm the head's matrix keeps the last block's output.
                            headCost = headCost with { ActivationElementsPerSequence = headCost.ActivationElementsPerSequence + (rows * head.InWidth) };
                        }

                        components.Add(headCost);
                        break;
                }
            }

            var lmHead = plan.Steps.OfType<HeadStep>().Single();
            var costs = new ModelCosts(plan.Vocab, plan.Context, plan.Width, plan.PredictsEveryPosition, components.ToEquatableArray())
            {
                LogitsPerPosition = lmHead.Kind == HeadKind.Grouped ? lmHead.Groups + lmHead.GroupSize : plan.Vocab, // training: the loss's scores (a conditioned head's too)
            };

            // Every figure the emitted code, the report and the runtime use must fit: totals, bytes and
            // per-window counts.
            _ = costs.Parameters * 8;
            _ = costs.ForwardFlopsPerToken * t;
            _ = costs.TrainingFlopsPerToken * t;
            _ = costs.AttentionScoreFlopsPerToken * t;
            _ = costs.KvCacheElementsPerToken * 2 * t;
            _ = costs.ActivationElementsPerSequence * 4;
            return costs;
        }
    }

    public static long NormParameters(NormKind kind, bool bias, long width) => kind switch
    {
        NormKind.LayerNorm => checked(bias ? 2 * width : width),
        NormKind.RmsNorm => width,
        _ => 0, // none, and the parameter-free RMSNorm
    };

    /// <summary>
    /// A rows × columns weight matrix of <paramref name="part"/> as the artifact stores it (<see cref="ArtifactLayout"/>):
    /// at the part's bits, its codes packed (rows × columns × bits / 8, rounded up) plus its scales (one per row, or per
    /// group of columns, at the scales' type); at 0 bits, the matrix at the plan's type for other tensors.
    /// </summary>
    private static long Matrix(ModelPlan plan, long rows, long columns, TensorPart part)
    {
        checked
        {
            var bits = plan.Artifact.BitsOf(part);
            return bits == 0
                ? V(plan, rows * columns)
                : ArtifactLayout.PackedBytes(rows * columns, bits) + (rows * ArtifactLayout.GroupsPerRow(columns, plan.Artifact.Group) * ArtifactLayout.SizeOf(plan.Artifact.Scales));
        }
    }

    /// <summary><paramref name="elements"/> of a tensor that is not quantised, at the plan's type for them.</summary>
    private static long V(ModelPlan plan, long elements) => checked(elements * ArtifactLayout.SizeOf(plan.Artifact.Others));

    private static string Precision(int bits) => bits > 0 ? $", {bits}-bit weights (QAT)" : string.Empty;

    private static string AtEveryPosition(ModelPlan plan, PlanStep step) =>
        plan.RunsPerUnit(step) > 1 ? $", at each of {plan.Context} positions" : string.Empty;

    /// <summary>
    /// A stack's attention, FFN, norms and LoRA adapters: one row each for a uniform stack (its blocks × their
    /// applications), one row each per block when the blocks differ (layer-wise allocation).
    /// </summary>
    /// <summary>Varying stacks of at most this many blocks get a row per block and part; longer ones a row per part.</summary>
    public const int DetailedBlocks = 64;

    private static IEnumerable<ComponentCost> Stack(ModelPlan plan, int index, StackStep stack, long t, long runs)
    {
        if (stack.IsUniform)
        {
            foreach (var c in Blocks(plan, index, stack, stack.Field, stack.Block, stack.Blocks, t, runs))
            {
                yield return c;
            }
        }
        else if (stack.Blocks <= DetailedBlocks)
        {
            for (var i = 0; i < stack.Blocks; i++)
            {
                foreach (var c in Blocks(plan, index, stack, $"{stack.Field}[{i}]", stack.BlockAt(i), 1, t, runs))
                {
                    yield return c;
                }
            }
        }
        else
        {
            // A long stack of varying blocks: one row per part summed over the blocks (exact totals), so the cost
            // report and the generated constants do not grow by three rows a block.
            var rows = new List<ComponentCost>();
            for (var i = 0; i < stack.Blocks; i++)
            {
                var k = 0;
                foreach (var c in Blocks(plan, index, stack, stack.Field, stack.BlockAt(i), 1, t, runs))
                {
                    if (k == rows.Count)
                    {
                        rows.Add(c with { Description = c.Description + $" (summed over {stack.Blocks:N0} blocks of varying shape)" });
                    }
                    else
                    {
                        var r = rows[k];
                        rows[k] = checked(r with
                        {
                            Parameters = r.Parameters + c.Parameters,
                            ForwardFlopsPerToken = r.ForwardFlopsPerToken + c.ForwardFlopsPerToken,
                            TrainingFlopsPerToken = r.TrainingFlopsPerToken + c.TrainingFlopsPerToken,
                            AttentionScoreFlopsPerToken = r.AttentionScoreFlopsPerToken + c.AttentionScoreFlopsPerToken,
                            ActivationElementsPerSequence = r.ActivationElementsPerSequence + c.ActivationElementsPerSequence,
                            KvCacheElementsPerToken = r.KvCacheElementsPerToken + c.KvCacheElementsPerToken,
                            WeightBytes = r.WeightBytes + c.WeightBytes,
                        });
                    }

                    k++;
                }
            }

            foreach (var r in rows)
            {
                yield return r;
            }
        }

        if (stack.Block.Sharing.LoraRank > 0)
        {
            yield return Lora(plan, index, stack, t, runs);
        }

        if (stack.ValueLambdas > 0)
        {
            // Value residual: one λ for each block after the first; the mix v + λ·(v₁ − v) is elementwise (no FLOPs).
            long lambdas = stack.ValueLambdas;
            yield return Components.Of(
                index, stack.Field + ".value_residual", "residual",
                $"value residual: blocks 1…{stack.Blocks - 1} mix block 0's values into theirs, v + λ·(v₁ − v), one λ each",
                lambdas, 0, 0, 0, checked(t * stack.Block.Attention.KvWidth * lambdas), 0, V(plan, lambdas));
        }

        if (stack.Skips > 0)
        {
            // U-Net skips: one learned per-channel weight per skip; the products and sums are elementwise (no FLOPs).
            long skipParameters = checked(stack.Skips * stack.Width);
            yield return Components.Of(
                index, stack.SkipWeightsField, "residual",
                $"U-Net skips: the outputs of blocks {stack.Skips - 1}…0 added to the inputs of blocks {stack.Skips}…{(2 * stack.Skips) - 1} through per-channel weights",
                skipParameters, 0, 0, 0, 0, 0, V(plan, skipParameters)); // the skipped outputs are kept as the next blocks' inputs
        }
    }

    /// <summary><paramref name="count"/> blocks of one shape, each applied <see cref="StackStep.ApplicationsPerBlock"/> times.</summary>
    private static IEnumerable<ComponentCost> Blocks(ModelPlan plan, int index, StackStep stack, string name, BlockConfig block, long count, long t, long runs)
    {
        checked
        {
            long d = block.Width;
            var (attention, ffnConfig, norm) = (block.Attention, block.FeedForward, block.Norm);
            var applications = count * stack.ApplicationsPerBlock;
            long ffn = ffnConfig.Hidden;
            var shared = Sharing(stack);
            var where = runs > 1 ? $", at each of {t} positions" : string.Empty;
            var blocks = count == 1 && !stack.IsUniform ? string.Empty : $"{count}× ";

            // Attention: q (d → heads·hd), k and v (d → kv·hd each), output (heads·hd → d); the scores over the
            // full T×T for every query head (4·T·heads·hd per position; k/v heads repeated for their groups).
            long inner = attention.InnerWidth, kv = attention.KvWidth;
            var projections = (d * inner) + (2 * d * kv) + (inner * d);
            var qkNorm = attention.QkNorm && !attention.QkNormFree ? 2 * attention.HeadDim : 0; // one RMSNorm scale of a head's size for q, one for k
            var queryGain = attention.QueryGain > 0 ? attention.Heads : 0; // one gain per query head
            var attnParams = projections + (attention.Bias ? inner + (2 * kv) + d : 0) + qkNorm + queryGain;
            var projFlops = 2 * projections * runs;
            var scoreFlops = 4 * t * inner * runs;
            var grouped = attention.KvHeads == attention.Heads ? string.Empty : attention.KvHeads == 1 ? ", multi-query (1 k/v head)" : $", grouped-query ({attention.KvHeads} k/v heads)";
            var attnBytes = (attention.PackedQkv
                    ? Matrix(plan, inner + (2 * kv), d, TensorPart.Attention)
                    : Matrix(plan, inner, d, TensorPart.Attention) + (2 * Matrix(plan, kv, d, TensorPart.Attention)))
                + Matrix(plan, d, inner, TensorPart.Attention) + (attention.Bias ? V(plan, inner + (2 * kv) + d) : 0) + V(plan, qkNorm + queryGain);
            yield return Components.Of(
                index, name + ".attn", "attention",
                $"{blocks}causal self-attention, {attention.Heads} heads of {attention.HeadDim}{grouped}, {(attention.PackedQkv ? "packed" : "separate")} q/k/v{AttentionOptions(attention)}{Precision(attention.WeightBits)}{shared}{where}",
                count * attnParams,
                applications * (projFlops + scoreFlops),
                applications * ((3 * projFlops) + (7 * scoreFlops / 2)),
                applications * scoreFlops,
                applications * (SavedActivations.Attention(block with { Depth = 0 }, t) + (norm.Kind == NormKind.None ? SavedActivations.ResidualAndNorms(block, t) : 0)),
                applications * 2 * kv,
                count * attnBytes);

            // Feed-forward: two matrices, or three for SwiGLU.
            var matrices = ffnConfig.Activation == Act.SwiGlu ? 3 : 2;
            var mlpParams = (matrices * d * ffn) + (ffnConfig.Bias ? ((matrices - 1) * ffn) + d : 0);
            var mlpFlops = 2 * matrices * d * ffn * runs;
            var mlpBytes = ((matrices - 1) * Matrix(plan, ffn, d, TensorPart.Mlp)) + Matrix(plan, d, ffn, TensorPart.Mlp) + (ffnConfig.Bias ? V(plan, ((matrices - 1) * ffn) + d) : 0);
            yield return Components.Of(
                index, name + ".mlp", "mlp",
                $"{blocks}FFN {d}→{ffn}→{d}, {Names.Of(ffnConfig.Activation)}{Precision(ffnConfig.WeightBits)}{shared}{where}",
                count * mlpParams,
                applications * mlpFlops,
                applications * 3 * mlpFlops,
                0,
                applications * SavedActivations.FeedForward(block, t),
                0,
                count * mlpBytes);

            if (norm.Kind != NormKind.None)
            {
                var normParameters = count * 2 * NormParameters(norm.Kind, norm.Bias, d);
                yield return Components.Of(
                    index, name + ".norms", "norm",
                    $"{blocks}2 {Names.Of(norm.Kind)} ({(norm.PreNorm ? "pre" : "post")}-norm){shared}",
                    normParameters,
                    0, 0, 0,
                    applications * SavedActivations.ResidualAndNorms(block, t),
                    0,
                    V(plan, normParameters));
            }

            // Learned per-channel vectors on the residual stream: branch scales (2 × width) and the mix with x₀
            // (2 × width). Elementwise products: no FLOPs under FlopCounterMode's convention.
            var residual = (block.BranchScales ? 2 * d : 0) + (block.ResidualMix ? 2 * d : 0);
            if (residual > 0)
            {
                var what = string.Join(" and ", new[] { block.BranchScales ? "branch scales (attn_scale, mlp_scale)" : null, block.ResidualMix ? "residual mix with x₀ (resid_mix)" : null }.Where(x => x is not null));
                yield return Components.Of(
                    index, name + ".residual", "residual",
                    $"{blocks}{what}, {residual} per block{shared}",
                    count * residual,
                    0, 0, 0,
                    0, // what the products keep is in the attention, FFN and norm rows
                    0,
                    V(plan, count * residual));
            }
        }
    }

    /// <summary>The attention's options in a cost row's words.</summary>
    private static string AttentionOptions(AttentionConfig a) =>
        (a.QkNorm ? a.QkNormFree ? ", QK-norm (parameter-free)" : ", QK-norm" : string.Empty) +
        (a.QueryGain > 0 ? $", query gain per head (init {a.QueryGain.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})" : string.Empty) +
        (a.Rope is not null && a.RopeDims > 0 && a.RopeDims < a.HeadDim ? $", RoPE on {a.RopeDims} of {a.HeadDim} dims" : string.Empty);

    /// <summary>
    /// The LoRA adapters: for every block and every application of it, a rank-r pair A (in → r), B (r → out)
    /// on each linear layer (q/k/v or packed qkv, output, FFN matrices). Stored per application; run once each.
    /// </summary>
    private static ComponentCost Lora(ModelPlan plan, int index, StackStep stack, long t, long runs)
    {
        checked
        {
            long d = stack.Width, r = stack.Block.Sharing.LoraRank;
            long perApplication = 0; // Σ over the blocks of Σ over their linear layers of r·(in + out)
            long activations = 0;
            for (var i = 0; i < stack.Blocks; i++)
            {
                var s = stack.Shape(i);
                long inner = s.Heads * s.HeadDim, kv = s.KvHeads * s.HeadDim;
                var linears = stack.Block.Attention.PackedQkv
                    ? new[] { (d, inner + (2 * kv)), (inner, d) }
                    : new[] { (d, inner), (d, kv), (d, kv), (inner, d) };
                var ffn = stack.Block.FeedForward.Activation == Act.SwiGlu
                    ? new[] { (d, s.FfnHidden), (d, s.FfnHidden), (s.FfnHidden, d) }
                    : new[] { (d, s.FfnHidden), (s.FfnHidden, d) };
                foreach (var (input, output) in linears.Concat(ffn))
                {
                    perApplication += r * (input + output);
                    // B keeps A's output (r a position). The sum base(x) + B(A(x)) is kept, if at all, by the layer after
                    // it in place of the base layer's output, which the block's own count already holds.
                    activations += r;
                }

                if (stack.IsUniform)
                {
                    perApplication *= stack.Blocks;
                    activations *= stack.Blocks;
                    break;
                }
            }

            var sets = stack.Block.Sharing.LoraSets;
            var flops = 2 * perApplication * runs * sets;
            return Components.Of(
                index, stack.Field + ".lora", "lora",
                $"rank-{r} LoRA on every linear layer, one set for each of the {sets} applications of every block",
                sets * perApplication, flops, 3 * flops, 0, sets * t * activations, 0, V(plan, sets * perApplication));
        }
    }

    private static string Sharing(StackStep stack) => stack.Block.Sharing switch
    {
        { Repeat: > 1, BlockRepeat: > 1 } s => $", each block applied {s.BlockRepeat}× in a row and the stack {s.Repeat}× (shared)",
        { BlockRepeat: > 1 } s => $", each block applied {s.BlockRepeat}× in a row (shared)",
        { Repeat: > 1 } s => $", applied {s.Repeat}× (shared)",
        _ => string.Empty,
    };

    /// <summary>A soft-capped head keeps its tanh's output for the backward pass; the division, tanh and product count no FLOPs.</summary>
    private static ComponentCost SoftCapped(HeadStep head, long rows, ComponentCost c) => head.SoftCap > 0
        ? checked(c with
        {
            Description = c.Description + $", scores soft-capped at {head.SoftCap.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}",
            ActivationElementsPerSequence = c.ActivationElementsPerSequence + (rows * head.Vocab),
        })
        : c;

    private static ComponentCost Head(ModelPlan plan, int index, HeadStep head, long runs, long rows)
    {
        checked
        {
            long v = head.Vocab, width = head.InWidth;
            switch (head.Kind)
            {
                case HeadKind.Tied:
                {
                    var f = 2 * width * v * runs;
                    return Components.Of(index, head.Field, "head", $"LM head {width}→{v}, tied to the token embedding{Precision(head.Bits)}", 0, f, 3 * f, 0, rows * v, 0, 0);
                }

                case HeadKind.Grouped:
                {
                    // Two matrices: width → groups, width → ids per group; the loss is two softmaxes, over groups
                    // and over a group's ids (the full distribution, for evaluation and sampling, is their sum: no FLOPs).
                    // Conditioned: a gate per group (groups × width, kept as others); the loss scores the target's group
                    // only (the gate is elementwise: no FLOPs), the full distribution every group's positions.
                    long g = head.Groups, s = head.GroupSize;
                    var p = width * (g + s + (head.Conditioned ? g : 0));
                    var f = 2 * width * (g + s) * runs;
                    var forward = head.Conditioned ? 2 * width * (g + (g * s)) * runs : f;
                    return Components.Of(index, head.Field, "head", $"LM head {width}→{g} groups + {s} ids a group (grouped{(head.Conditioned ? ", conditioned on the group" : string.Empty)}, {v} ids){Precision(head.Bits)}", p, forward, 3 * f, 0, rows * (g + s), 0,
                        Matrix(plan, g, width, TensorPart.Head) + Matrix(plan, s, width, TensorPart.Head) + (head.Conditioned ? Matrix(plan, g, width, TensorPart.Other) : 0));
                }

                case HeadKind.Factorised:
                {
                    long r = head.Rank;
                    var p = (width * r) + (r * v) + (head.Bias ? v : 0);
                    var f = 2 * ((width * r) + (r * v)) * runs;
                    return Components.Of(index, head.Field, "head", $"LM head {width}→{r}→{v} (factorised){Precision(head.Bits)}", p, f, 3 * f, 0, rows * (r + v), 0,
                        Matrix(plan, r, width, TensorPart.Head) + Matrix(plan, v, r, TensorPart.Head) + (head.Bias ? V(plan, v) : 0));
                }

                default:
                {
                    var p = (width * v) + (head.Bias ? v : 0);
                    var f = 2 * width * v * runs;
                    return Components.Of(index, head.Field, "head", $"LM head {width}→{v}{(head.Bias ? " with bias" : string.Empty)}{Precision(head.Bits)}", p, f, 3 * f, 0, rows * v, 0,
                        Matrix(plan, v, width, TensorPart.Head) + (head.Bias ? V(plan, v) : 0));
                }
            }
        }
    }
}
