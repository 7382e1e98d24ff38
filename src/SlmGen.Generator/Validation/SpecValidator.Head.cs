using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Validation;

/// <summary>The LM head and quantisation: tying, factorising, grouping; bits per part.</summary>
internal static partial class SpecValidator
{
    /// <summary>The head, given the width that reaches it.</summary>
    private static void Head(Checks v, ModelSpec spec, long width)
    {
        var head = spec.Head;
        if (head.Groups != 0)
        {
            if (head.Groups < 2 || (spec.Vocab > 0 && head.Groups > spec.PaddedVocab))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.HeadGroups, spec.Display(SpecKeys.HeadGroups), head.Groups, $"0 (one softmax) or from 2 to the vocabulary ({spec.PaddedVocab:N0})");
            }
            else if (head.Tied || head.Rank > 0 || head.Bias)
            {
                v.Add(DiagnosticDescriptors.Conflict, SpecKeys.HeadGroups, "A grouped head has two matrices of its own (groups and positions within a group): it cannot be tied, factorised or biased; choose one");
            }
        }

        if (head.Conditioned && head.Groups == 0)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.HeadConditioned, "conditioned applies to a grouped head (its within-group softmax is conditioned on the group): declare groups, or drop conditioned");
        }

        if (spec.Has(SpecKeys.HeadSoftCap) || head.SoftCap != 0)
        {
            if (!(head.SoftCap == 0 || (head.SoftCap > 0 && head.SoftCap <= 1_000_000)))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.HeadSoftCap, spec.Display(SpecKeys.HeadSoftCap), Format(head.SoftCap), "0 (none) or a cap in (0, 1,000,000]");
            }
            else if (head.SoftCap > 0 && head.Groups > 0)
            {
                v.Add(DiagnosticDescriptors.Conflict, SpecKeys.HeadSoftCap, "A grouped head gives log-probabilities from two softmaxes, not scores to cap; drop softcap or the groups");
            }
        }

        if (head.Tied && head.Bias)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.HeadBias, "A head tied to the embedding has no weights of its own, so it takes no bias; untie it or drop the bias");
        }

        if (head.Tied && head.Rank > 0)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.HeadRank, "A head tied to the embedding cannot also be factorised; choose one");
        }

        if (head.Rank < 0 || head.Rank > MaxDimension)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.HeadRank, spec.Display(SpecKeys.HeadRank), head.Rank, "0 (a full matrix) or a positive bottleneck width");
        }

        if (head.Tied && spec.Width > 0 && width != spec.Width)
        {
            v.Add(DiagnosticDescriptors.TiedWidthMismatch, SpecKeys.HeadTied, spec.Width, width);
        }
    }

    private static void Quantization(Checks v, ModelSpec spec)
    {
        var head = spec.Head;
        var q = spec.Quantization;
        foreach (var (part, bits) in new[] { ("attention", q.Attention), ("mlp", q.Mlp), ("dense", q.Dense), ("head", q.Head), ("embedding", q.Embedding) })
        {
            if (!ArtifactPlan.IsValidBits(bits))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant(part), spec.Display(SpecKeys.Quant(part)), bits, "0 (full precision), 2, 3, 4, 5, 6 or 8 bits");
            }
        }

        if (q.Group < 0 || q.Group > SettingsTable.MaxDimension)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant("group"), spec.Display(SpecKeys.Quant("group")), q.Group, "0 (a scale per row) or a group of columns up to 16,777,216");
        }

        // Names out of their enum can come only from attributes (a cast); YAML reports unknown names itself.
        if (q.Scales is not (StoreType.Fp16 or StoreType.Bf16 or StoreType.Fp32))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant("scales"), spec.Display(SpecKeys.Quant("scales")), (int)q.Scales, "fp16, bf16 or fp32");
        }

        if (q.Others is not (StoreType.Fp16 or StoreType.Bf16 or StoreType.Fp32 or StoreType.Auto))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant("others"), spec.Display(SpecKeys.Quant("others")), (int)q.Others, "fp32, fp16 or bf16");
        }

        if (q.Method is not (Quantizer.Qat or Quantizer.Absmax or Quantizer.Mse or Quantizer.Gptq or Quantizer.GptqMse or Quantizer.Learned or Quantizer.GptqLearned))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant("method"), spec.Display(SpecKeys.Quant("method")), (int)q.Method, "qat, absmax, mse, gptq, gptq-mse, learned or gptq-learned");
        }

        if (q.Grid is not (QuantGrid.Symmetric or QuantGrid.Stretched))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant("grid"), spec.Display(SpecKeys.Quant("grid")), (int)q.Grid, "symmetric or stretched");
        }

        if (q.Compression is < ArtifactCompression.None or > ArtifactCompression.Deflate)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant("compression"), spec.Display(SpecKeys.Quant("compression")), (int)q.Compression, "none, zstd, lzma, brotli or deflate");
        }

        if (head.Tied && q.Head > 0 && q.Head != q.Embedding)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Quant("head"), $"A tied head is the embedding table: quantise it through quantization.embedding ({q.Embedding} bits here), not as the head ({q.Head} bits)");
        }
    }
}
