using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Planning;

/// <summary>Resolves a validated spec into its <see cref="ModelPlan"/>: the one place widths, field names and effective settings are derived.</summary>
internal static class Planner
{
    public static ModelPlan Resolve(ModelSpec spec)
    {
        var steps = new List<PlanStep>();
        long d = spec.Width;
        var t = spec.Context;

        // The layers fake-quantise their weights only under quantisation-aware training; after-training quantisers
        // leave the model full precision and act on the artifact alone (the plan's Artifact).
        var q = spec.Quantization.Method == Quantizer.Qat ? spec.Quantization : QuantSpec.None;
        steps.Add(new EmbeddingStep("wte", spec.PaddedVocab, d, q.Embedding));
        switch (spec.Positions.Kind)
        {
            case PositionKind.Learned:
                steps.Add(new PositionsStep("wpe", PositionKind.Learned, spec.Positions.Length > 0 ? spec.Positions.Length : t, d));
                break;
            case PositionKind.Sinusoidal:
                steps.Add(new PositionsStep("wpe", PositionKind.Sinusoidal, t, d));
                break;
            case PositionKind.Rope:
                steps.Add(new RopeStep(spec.Positions.EffectiveRopeBase, d));
                break;
        }

        if (spec.BigramBuckets > 0)
        {
            steps.Add(new BigramStep("bigram", spec.BigramBuckets, spec.BigramDim > 0 ? spec.BigramDim : d, d));
        }

        if (spec.EffectiveEmbeddingDropout > 0)
        {
            steps.Add(new EmbeddingDropoutStep("drop", spec.EffectiveEmbeddingDropout, d));
        }

        var stackCount = 0;
        foreach (var layer in spec.Layers)
        {
            if (layer is TransformerSpec)
            {
                stackCount++;
            }
        }

        long width = d;
        var perPosition = true;
        var dense = 0;
        var stacks = 0;
        var applications = 0L;
        foreach (var layer in spec.Layers)
        {
            switch (layer)
            {
                case FlattenSpec flatten:
                    var window = flatten.EffectiveWindow(t);
                    steps.Add(new FlattenStep("flatten", window, width));
                    width *= window;
                    perPosition = false;
                    break;

                case DenseSpec denseSpec:
                    dense++;
                    steps.Add(new DenseStep("dense" + dense, width, denseSpec.Units, denseSpec.Activation, denseSpec.Bias, denseSpec.EffectiveDropout(spec.Dropout), perPosition, q.Dense));
                    width = denseSpec.Units;
                    break;

                case TransformerSpec stack:
                    stacks++;
                    var rope = spec.Positions.Kind == PositionKind.Rope;
                    var first = stack.Shape(0, width);
                    var shapes = new List<BlockShape>(stack.Layers);
                    var uniform = true;
                    for (var b = 0; b < stack.Layers; b++)
                    {
                        var shape = b == 0 ? first : stack.Shape(b, width);
                        uniform &= shape.Equals(first);
                        shapes.Add(shape);
                    }

                    // The spec's options (branch scales, QK-norm, ...) with every resolved setting filled in.
                    var block = stack.BlockOptions with
                    {
                        Width = width,
                        Attention = stack.AttentionOptions with
                        {
                            Heads = first.Heads,
                            KvHeads = first.KvHeads,
                            HeadDim = first.HeadDim,
                            PackedQkv = stack.PackedQkv,
                            Bias = stack.AttentionBias,
                            Dropout = stack.EffectiveDropout(spec.Dropout),
                            Context = t,
                            Rope = rope ? new RopeConfig(spec.Positions.EffectiveRopeBase) : null,
                            WeightBits = q.Attention,
                        },
                        FeedForward = stack.FeedForwardOptions with
                        {
                            Hidden = first.FfnHidden,
                            Activation = stack.Activation,
                            Bias = stack.FfnBias,
                            Dropout = stack.FfnDropout,
                            WeightBits = q.Mlp,
                        },
                        Norm = new NormConfig(stack.Norm, stack.NormBias, stack.PreNorm),
                        Sharing = new SharingConfig(stack.EffectiveRepeat, stack.EffectiveBlockRepeat, stack.LoraRank),
                        ResidualDropout = stack.EffectiveDropout(spec.Dropout),
                    };
                    var step = new StackStep(
                        stackCount == 1 ? "blocks" : "blocks" + stacks,
                        stack.Index,
                        stack.Layers,
                        block,
                        uniform ? EquatableArray<BlockShape>.Empty : shapes.ToEquatableArray()) { UNetSkips = stack.UNetSkips };
                    applications += step.Applications;
                    steps.Add(step);
                    break;
            }
        }

        if (spec.FinalNorm.Kind != NormKind.None)
        {
            steps.Add(new FinalNormStep("ln_f", spec.FinalNorm.Kind, spec.FinalNorm.Bias, width, perPosition));
        }

        var head = spec.Head;
        var kind = head.Tied ? HeadKind.Tied : head.Groups > 0 ? HeadKind.Grouped : head.Rank > 0 ? HeadKind.Factorised : HeadKind.Full;
        steps.Add(new HeadStep("lm_head", kind, width, head.Rank, spec.PaddedVocab, head.Bias, perPosition, width == d, kind == HeadKind.Tied ? q.Embedding : q.Head) { Groups = kind == HeadKind.Grouped ? head.Groups : 0, Conditioned = kind == HeadKind.Grouped && head.Conditioned, SoftCap = head.SoftCap });

        var artifact = ArtifactOf(spec.Quantization, steps);

        // Quantised when some part the model has is: bits declared for parts it lacks (dense layers, say) change nothing.
        var quantized = artifact.Quantizes || artifact.Others != StoreType.Fp32;

        return new ModelPlan(
            spec.Namespace,
            spec.ClassName,
            spec.Source,
            spec.SourcePath,
            spec.PaddedVocab,
            spec.Context,
            spec.Width,
            spec.Init,
            spec.Positions.Kind,
            perPosition,
            (int)Math.Min(int.MaxValue, applications),
            quantized,
            steps.ToEquatableArray())
        {
            DeclaredVocab = spec.Vocab,
            Tokenizer = spec.Tokenizer,
            Artifact = artifact,
        };
    }

    /// <summary>The artifact's precision plan: the declared bits of the parts the model has (a tied head is the embedding's table), the storage types resolved.</summary>
    private static ArtifactPlan ArtifactOf(QuantSpec q, List<PlanStep> steps)
    {
        var stack = steps.Any(s => s is StackStep);
        var dense = steps.Any(s => s is DenseStep);
        var ownHead = steps.OfType<HeadStep>().Any(h => h.Kind != HeadKind.Tied);
        var plan = new ArtifactPlan(stack ? q.Attention : 0, stack ? q.Mlp : 0, dense ? q.Dense : 0, ownHead ? q.Head : 0, q.Embedding, q.Group, q.Scales, q.Others, q.Method, q.Compression);
        return plan with { Others = q.Others == StoreType.Auto ? plan.Quantizes ? StoreType.Bf16 : StoreType.Fp32 : q.Others, Group = plan.Quantizes ? q.Group : 0, Grid = plan.Quantizes ? q.Grid : QuantGrid.Symmetric };
    }
}
