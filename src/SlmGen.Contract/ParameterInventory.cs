// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): every parameter tensor a
// plan's model holds, by the name TorchSharp gives it, with its shape and the part of the model it belongs to. The
// generator sizes the shipped artifact from it to the byte; the runtime's artifact writer stores the model by it and
// refuses a model whose parameters differ from it (tests hold it equal to named_parameters for every design).
using System.Collections.Generic;

#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>The part of a model a parameter belongs to, for precision plans (<see cref="ArtifactPlan"/>).</summary>
public enum TensorPart
{
    /// <summary>Norm scales and biases, biases, gains, mixing vectors, learned positions, LoRA adapters, bigram tables: kept at the plan's <see cref="ArtifactPlan.Others"/> type.</summary>
    Other = 0,
    /// <summary>The token embedding table (also a tied head's matrix).</summary>
    Embedding = 1,
    /// <summary>The attention projections' weight matrices.</summary>
    Attention = 2,
    /// <summary>The transformer FFN's weight matrices.</summary>
    Mlp = 3,
    /// <summary>The dense layers' weight matrices.</summary>
    Dense = 4,
    /// <summary>The LM head's own weight matrices.</summary>
    Head = 5,
}

/// <summary>One parameter tensor: its name in the module tree, its shape, and its part (matrices of a part can be quantised; <see cref="TensorPart.Other"/> never is).</summary>
/// <param name="Name">The name <c>named_parameters()</c> gives it.</param>
/// <param name="Rows">Rows (the only dimension of a vector).</param>
/// <param name="Columns">Columns of a matrix; 0 for a vector.</param>
/// <param name="Part">Its part.</param>
public sealed record ParameterTensor(string Name, long Rows, long Columns, TensorPart Part)
{
    /// <summary>True for a matrix (two dimensions).</summary>
    public bool IsMatrix => Columns > 0;

    /// <summary>Its elements.</summary>
    public long Elements => IsMatrix ? checked(Rows * Columns) : Rows;

    /// <summary>Its shape.</summary>
    public long[] Shape => IsMatrix ? new[] { Rows, Columns } : new[] { Rows };
}

/// <summary>The parameter tensors of a plan, in the order the model registers them.</summary>
public static class ParameterInventory
{
    /// <summary>Every parameter tensor of the model built from <paramref name="steps"/>.</summary>
    public static List<ParameterTensor> Of(IEnumerable<PlanStep> steps)
    {
        var list = new List<ParameterTensor>();
        foreach (var step in steps)
        {
            var f = step.Field;
            switch (step)
            {
                case EmbeddingStep e:
                    list.Add(new ParameterTensor(f + ".weight", e.Vocab, e.Dim, TensorPart.Embedding));
                    break;
                case PositionsStep { Kind: PositionKind.Learned } p:
                    list.Add(new ParameterTensor(f + ".weight", p.Rows, p.Dim, TensorPart.Other));
                    break;
                case BigramStep g:
                    list.Add(new ParameterTensor(f + ".embed.weight", g.Buckets, g.Dim, TensorPart.Other));
                    if (g.Projects)
                    {
                        list.Add(new ParameterTensor(f + ".proj.weight", g.Width, g.Dim, TensorPart.Other));
                    }

                    break;
                case DenseStep d:
                    Linear(list, f + ".fc", d.InWidth, d.OutWidth, d.Bias, TensorPart.Dense);
                    break;
                case StackStep s:
                    for (var i = 0; i < s.Blocks; i++)
                    {
                        Block(list, f + "." + i.ToString(System.Globalization.CultureInfo.InvariantCulture), s.BlockAt(i));
                    }

                    if (s.Skips > 0)
                    {
                        list.Add(new ParameterTensor(s.SkipWeightsField, s.Skips, s.Width, TensorPart.Other));
                    }

                    break;
                case FinalNormStep n:
                    Norm(list, f, n.Kind, n.Bias, n.Width);
                    break;
                case HeadStep { Kind: HeadKind.Full } h:
                    Linear(list, f, h.InWidth, h.Vocab, h.Bias, TensorPart.Head);
                    break;
                case HeadStep { Kind: HeadKind.Factorised } h:
                    Linear(list, f + ".down", h.InWidth, h.Rank, false, TensorPart.Head);
                    Linear(list, f + ".out", h.Rank, h.Vocab, h.Bias, TensorPart.Head);
                    break;
                case HeadStep { Kind: HeadKind.Grouped } h:
                    Linear(list, f + ".group", h.InWidth, h.Groups, false, TensorPart.Head);
                    Linear(list, f + ".token", h.InWidth, h.GroupSize, false, TensorPart.Head);
                    if (h.Conditioned)
                    {
                        list.Add(new ParameterTensor(f + ".gate", h.Groups, h.InWidth, TensorPart.Other)); // a gate per group: coefficients, kept as others
                    }

                    break;
            }
        }

        return list;
    }

    private static void Block(List<ParameterTensor> list, string p, BlockConfig b)
    {
        var a = b.Attention;
        var ffn = b.FeedForward;
        Norm(list, p + ".ln_1", b.Norm.Kind, b.Norm.Bias, b.Width);
        if (a.PackedQkv)
        {
            Linear(list, p + ".attn.qkv", b.Width, a.InnerWidth + (2 * a.KvWidth), a.Bias, TensorPart.Attention);
        }
        else
        {
            Linear(list, p + ".attn.q_proj", b.Width, a.InnerWidth, a.Bias, TensorPart.Attention);
            Linear(list, p + ".attn.k_proj", b.Width, a.KvWidth, a.Bias, TensorPart.Attention);
            Linear(list, p + ".attn.v_proj", b.Width, a.KvWidth, a.Bias, TensorPart.Attention);
        }

        Linear(list, p + ".attn.proj", a.InnerWidth, b.Width, a.Bias, TensorPart.Attention);
        if (a.QkNorm && !a.QkNormFree)
        {
            list.Add(new ParameterTensor(p + ".attn.q_norm.weight", a.HeadDim, 0, TensorPart.Other));
            list.Add(new ParameterTensor(p + ".attn.k_norm.weight", a.HeadDim, 0, TensorPart.Other));
        }

        if (a.QueryGain > 0)
        {
            list.Add(new ParameterTensor(p + ".attn.q_gain", a.Heads, 0, TensorPart.Other));
        }

        if (b.MixesValues)
        {
            list.Add(new ParameterTensor(p + ".attn.value_lambda", 1, 0, TensorPart.Other));
        }

        Norm(list, p + ".ln_2", b.Norm.Kind, b.Norm.Bias, b.Width);
        Linear(list, p + ".mlp.fc", b.Width, ffn.Hidden, ffn.Bias, TensorPart.Mlp);
        if (ffn.Activation == Act.SwiGlu)
        {
            Linear(list, p + ".mlp.gate", b.Width, ffn.Hidden, ffn.Bias, TensorPart.Mlp);
        }

        Linear(list, p + ".mlp.proj", ffn.Hidden, b.Width, ffn.Bias, TensorPart.Mlp);
        if (b.Sharing.LoraSets > 0)
        {
            var adapted = new List<(long In, long Out)>();
            if (a.PackedQkv)
            {
                adapted.Add((b.Width, a.InnerWidth + (2 * a.KvWidth)));
            }
            else
            {
                adapted.Add((b.Width, a.InnerWidth));
                adapted.Add((b.Width, a.KvWidth));
                adapted.Add((b.Width, a.KvWidth));
            }

            adapted.Add((a.InnerWidth, b.Width));
            adapted.Add((b.Width, ffn.Hidden));
            if (ffn.Activation == Act.SwiGlu)
            {
                adapted.Add((b.Width, ffn.Hidden));
            }

            adapted.Add((ffn.Hidden, b.Width));
            for (var set = 0; set < b.Sharing.LoraSets; set++)
            {
                for (var j = 0; j < adapted.Count; j++)
                {
                    var at = $"{p}.lora.{set}.adapters.{j}";
                    list.Add(new ParameterTensor(at + ".A.weight", b.Sharing.LoraRank, adapted[j].In, TensorPart.Other));
                    list.Add(new ParameterTensor(at + ".B.weight", adapted[j].Out, b.Sharing.LoraRank, TensorPart.Other));
                }
            }
        }

        if (b.BranchScales)
        {
            list.Add(new ParameterTensor(p + ".attn_scale", b.Width, 0, TensorPart.Other));
            list.Add(new ParameterTensor(p + ".mlp_scale", b.Width, 0, TensorPart.Other));
        }

        if (b.ResidualMix)
        {
            list.Add(new ParameterTensor(p + ".resid_mix", 2, b.Width, TensorPart.Other));
        }
    }

    private static void Linear(List<ParameterTensor> list, string prefix, long inWidth, long outWidth, bool bias, TensorPart part)
    {
        list.Add(new ParameterTensor(prefix + ".weight", outWidth, inWidth, part));
        if (bias)
        {
            list.Add(new ParameterTensor(prefix + ".bias", outWidth, 0, TensorPart.Other));
        }
    }

    private static void Norm(List<ParameterTensor> list, string prefix, NormKind kind, bool bias, long width)
    {
        if (kind == NormKind.LayerNorm)
        {
            list.Add(new ParameterTensor(prefix + ".weight", width, 0, TensorPart.Other));
            if (bias)
            {
                list.Add(new ParameterTensor(prefix + ".bias", width, 0, TensorPart.Other));
            }
        }
        else if (kind == NormKind.RmsNorm)
        {
            list.Add(new ParameterTensor(prefix + ".weight", width, 0, TensorPart.Other));
        }
    }
}
