using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Validation;

/// <summary>The layers in order: flatten, dense and transformer stacks, with the width each one receives.</summary>
internal static partial class SpecValidator
{
    /// <summary>Checks the layers; returns the width that reaches the head.</summary>
    private static long Layers(Checks v, ModelSpec spec)
    {
        long width = spec.Width;
        var p = spec.Positions;
        var flattened = false;
        var attention = false;
        foreach (var layer in spec.Layers)
        {
            switch (layer)
            {
                case FlattenSpec flatten:
                    if (flattened)
                    {
                        v.Add(DiagnosticDescriptors.InvalidStack, layer.Key, "A model can flatten its window only once");
                    }

                    if (flatten.Window < 0 || flatten.Window > MaxDimension)
                    {
                        v.Add(DiagnosticDescriptors.OutOfRange, layer.Key + ".window", spec.Display(layer.Key + ".window"), flatten.Window, "a positive number of tokens");
                    }
                    else if (spec.Context > 0 && flatten.Window > spec.Context)
                    {
                        v.Add(DiagnosticDescriptors.WindowTooWide, layer.Key + ".window", flatten.Window, spec.Context);
                    }

                    flattened = true;
                    width = Math.Max(1, flatten.EffectiveWindow(spec.Context)) * width;
                    break;

                case DenseSpec dense:
                    v.Required(layer.Key + ".units", dense.Units, "the output width of the dense layer", 1, MaxDimension);
                    v.Defined(layer.Key + ".activation", dense.Activation);
                    v.OptionalProbability(layer.Key + ".dropout", dense.Dropout);
                    if (dense.Activation == Act.SwiGlu)
                    {
                        v.Add(DiagnosticDescriptors.Conflict, layer.Key + ".activation", "SwiGLU is an FFN activation (it needs a gate matrix); a dense layer takes relu, gelu, silu, relu2, leaky_relu2, tanh or identity");
                    }

                    width = dense.Units;
                    break;

                case TransformerSpec stack:
                    attention = true;
                    ValidateTransformer(v, spec, stack, width, flattened);
                    break;
            }
        }

        if (p.Kind == PositionKind.Rope && !attention)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Positions, "Rotary positions act inside attention, but the model has no transformer blocks; use learned or sinusoidal positions");
        }

        return width;
    }

    private static void ValidateTransformer(Checks v, ModelSpec spec, TransformerSpec stack, long width, bool flattened)
    {
        var key = stack.Key;
        if (flattened)
        {
            v.Add(DiagnosticDescriptors.InvalidStack, key, "Transformer blocks need a sequence, but an earlier flatten turned the window into one vector; put the blocks before the flatten or drop it");
        }

        v.Required(key + ".layers", stack.Layers, "the number of blocks", 1, SettingsTable.MaxBlocks);
        if (!spec.Has(key + ".heads_list"))
        {
            v.Required(key + ".heads", stack.Heads, "the number of attention heads", 1, MaxDimension);
        }

        if (spec.Has(key + ".repeat"))
        {
            v.Range(key + ".repeat", stack.Repeat, 1, SettingsTable.MaxBlocks);
        }

        if (spec.Has(key + ".block_repeat"))
        {
            v.Range(key + ".block_repeat", stack.BlockRepeat, 1, SettingsTable.MaxBlocks);
        }

        if (spec.Has(key + ".lora_rank"))
        {
            v.Range(key + ".lora_rank", stack.LoraRank, 0, 65_536);
            if (stack.LoraRank > 0 && stack.EffectiveRepeat == 1 && stack.EffectiveBlockRepeat == 1)
            {
                v.Add(DiagnosticDescriptors.Conflict, key + ".lora_rank", "LoRA adapters per application need a shared block: set repeat or block_repeat above 1, or drop lora_rank");
            }
        }

        ValidateOptions(v, spec, stack);
        var before = v.Diagnostics.Count;
        if (!ValidateAllocation(v, spec, stack, width))
        {
            if (spec.Has(key + ".head_dim"))
            {
                v.Range(key + ".head_dim", stack.HeadDim, 1, 65_536);
            }

            if (v.Diagnostics.Count == before)
            {
                RopeDims(v, spec, stack, Enumerable.Range(0, Math.Max(0, stack.Layers)).Select(b => stack.Shape(b, width).HeadDim).DefaultIfEmpty(0).Min());
                if (stack.AttentionOptions.ValueResidual && stack.Layers > 1)
                {
                    var first = stack.Shape(0, width);
                    var other = Enumerable.Range(1, stack.Layers - 1).Select(b => (Block: b, Shape: stack.Shape(b, width))).FirstOrDefault(s => s.Shape.KvHeads * s.Shape.HeadDim != first.KvHeads * first.HeadDim);
                    if (other.Shape is not null)
                    {
                        v.Add(DiagnosticDescriptors.Conflict, key + ".value_residual",
                            $"Value residual mixes block 0's values into every later block's, so their k/v widths must agree; block 0 has {first.KvHeads} k/v heads of {first.HeadDim} ({first.KvHeads * first.HeadDim}) and block {other.Block} {other.Shape.KvHeads} of {other.Shape.HeadDim} ({other.Shape.KvHeads * other.Shape.HeadDim}). Keep kv_heads × head size equal across the stack or drop value_residual");
                    }
                }
            }

            return; // per-block checks replaced the uniform ones below
        }

        if (stack.Heads > 0 && width > 0 && (stack.HeadDim > 0 || width % stack.Heads == 0))
        {
            RopeDims(v, spec, stack, stack.HeadDim > 0 ? stack.HeadDim : width / stack.Heads);
        }

        v.OptionalProbability(key + ".dropout", stack.Dropout);
        v.Probability(key + ".ffn_dropout", stack.FfnDropout);
        v.Defined(key + ".activation", stack.Activation);
        v.Defined(key + ".norm", stack.Norm);

        if (spec.Has(key + ".head_dim"))
        {
            v.Range(key + ".head_dim", stack.HeadDim, 1, 65_536);
            if (stack.HeadDim > 0 && stack.Heads > 0 && (long)stack.HeadDim * stack.Heads > MaxDimension)
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".head_dim", spec.Display(key + ".head_dim"), stack.HeadDim, $"at most {MaxDimension:N0} / heads");
            }
            else if (stack.HeadDim > 0 && spec.Positions.Kind == PositionKind.Rope && stack.HeadDim % 2 != 0)
            {
                v.Add(DiagnosticDescriptors.OddRopeHeadDim, key + ".head_dim", stack.HeadDim, width, stack.Heads);
            }
        }
        else if (stack.Heads > 0 && width > 0 && width % stack.Heads != 0)
        {
            v.Add(DiagnosticDescriptors.HeadsDoNotDivide, key + ".heads", stack.Heads, width, Format((double)width / stack.Heads), SuggestHeads(width, stack.Heads));
        }
        else if (stack.Heads > 0 && width > 0 && spec.Positions.Kind == PositionKind.Rope && (width / stack.Heads) % 2 != 0)
        {
            v.Add(DiagnosticDescriptors.OddRopeHeadDim, key + ".heads", width / stack.Heads, width, stack.Heads);
        }

        if (spec.Has(key + ".kv_heads"))
        {
            if (stack.KvHeads < 1 || (stack.Heads > 0 && stack.KvHeads > stack.Heads))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".kv_heads", spec.Display(key + ".kv_heads"), stack.KvHeads, $"between 1 and the {Math.Max(1, stack.Heads)} query heads");
            }
            else if (stack.Heads > 0 && stack.Heads % stack.KvHeads != 0)
            {
                var divisors = Divisors.Nearest(stack.Heads, stack.KvHeads);
                v.Add(DiagnosticDescriptors.KvHeadsDoNotDivide, key + ".kv_heads", stack.KvHeads, stack.Heads, divisors);
            }
        }

        if (spec.Has(key + ".ffn_hidden") && spec.Has(key + ".ffn_multiplier"))
        {
            v.Add(DiagnosticDescriptors.Conflict, key + ".ffn_multiplier", "Give the FFN width either as a hidden size or as a multiplier, not both");
        }

        if (spec.Has(key + ".ffn_hidden"))
        {
            v.Range(key + ".ffn_hidden", stack.FfnHidden, 1, MaxDimension);
        }

        if (spec.Has(key + ".ffn_multiplier"))
        {
            var m = stack.FfnMultiplier;
            if (!(m > 0 && m <= 1024))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".ffn_multiplier", spec.Display(key + ".ffn_multiplier"), Format(m), "a positive multiple of the width (usually 4)");
            }
            else if (width > 0 && Math.Abs((m * width) - Math.Round(m * width)) > 1e-6)
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".ffn_multiplier", spec.Display(key + ".ffn_multiplier"), Format(m),
                    $"a multiplier that gives a whole FFN width ({Format(m)} × {width} = {Format(m * width)})");
            }
            else if (width > 0 && Math.Round(m * width) > MaxDimension)
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".ffn_multiplier", spec.Display(key + ".ffn_multiplier"), Format(m), $"at most {MaxDimension:N0} / width");
            }
            else if (width > 0 && Math.Round(m * width) < 1)
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".ffn_multiplier", spec.Display(key + ".ffn_multiplier"), Format(m),
                    $"a multiplier that gives an FFN width of at least 1 ({Format(m)} × {width} = {Format(m * width)})");
            }
        }
    }

    /// <summary>The block's and the stack's options: QK-norm's scale, the query gain, parallel blocks, value residual, U-Net skips.</summary>
    private static void ValidateOptions(Checks v, ModelSpec spec, TransformerSpec stack)
    {
        var key = stack.Key;
        var a = stack.AttentionOptions;
        if (a.QkNormFree && !a.QkNorm)
        {
            v.Add(DiagnosticDescriptors.Conflict, key + ".qk_norm_weight", "qk_norm_weight says whether QK-norm has a learned scale, but the block has no QK-norm; set qk_norm: true or drop qk_norm_weight");
        }

        if (spec.Has(key + ".query_gain") && !(a.QueryGain == 0 || (a.QueryGain > 0 && a.QueryGain <= 1000)))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, key + ".query_gain", spec.Display(key + ".query_gain"), Format(a.QueryGain), "0 (none) or an initial gain in (0, 1000]");
        }

        if (stack.BlockOptions.Parallel && !stack.PreNorm)
        {
            v.Add(DiagnosticDescriptors.Conflict, key + ".parallel", "Parallel blocks add attention and FFN of the same normalised input; post-norm has no such input. Use pre_norm: true or drop parallel");
        }

        if (stack.BlockOptions.DepthScaledNorms && (!stack.PreNorm || stack.Norm == NormKind.None))
        {
            v.Add(DiagnosticDescriptors.Conflict, key + ".depth_scaled_norms", "depth_scaled_norms scales what the pre-norms hand to attention and the FFN; these blocks have no pre-norm. Use pre_norm: true with a norm, or drop depth_scaled_norms");
        }

        if (a.ValueResidual)
        {
            if (stack.Layers is > 0 and < 2)
            {
                v.Add(DiagnosticDescriptors.Conflict, key + ".value_residual", "Value residual mixes the first block's values into the blocks after it; a stack of one block has none after it. Use 2 or more layers or drop value_residual");
            }
            else if (stack.EffectiveRepeat > 1 || stack.EffectiveBlockRepeat > 1)
            {
                v.Add(DiagnosticDescriptors.Conflict, key + ".value_residual", "Value residual gives each block after the first a mixing weight of its own; a shared stack (repeat or block_repeat above 1) runs one block's weights at several depths. Drop one of them");
            }
        }

        if (stack.UNetSkips)
        {
            if (stack.Layers is > 0 and < 2)
            {
                v.Add(DiagnosticDescriptors.Conflict, key + ".unet_skips", "U-Net skips connect the first half of the blocks to the second; a stack of one block has no halves. Use 2 or more layers or drop unet_skips");
            }
            else if (stack.EffectiveRepeat > 1 || stack.EffectiveBlockRepeat > 1)
            {
                v.Add(DiagnosticDescriptors.Conflict, key + ".unet_skips", "U-Net skips pair the blocks of one pass; a shared stack (repeat or block_repeat above 1) has no single pass to pair. Drop one of them");
            }
        }
    }

    /// <summary>Partial RoPE: an even number of rotary dimensions within the smallest head of the stack, with rotary positions.</summary>
    private static void RopeDims(Checks v, ModelSpec spec, TransformerSpec stack, long headDim)
    {
        var key = stack.Key + ".rope_dims";
        var dims = stack.AttentionOptions.RopeDims;
        if (!spec.Has(key) && dims == 0)
        {
            return;
        }

        if (dims != 0 && spec.Positions.Kind != PositionKind.Rope)
        {
            v.Add(DiagnosticDescriptors.Conflict, key, "rope_dims sets how much of each head RoPE rotates, but the model's positions are not rotary; set positions: rope or drop rope_dims");
        }
        else if (dims < 0 || dims % 2 != 0 || (headDim > 0 && dims > headDim))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, key, spec.Display(key), dims, $"0 (the whole head) or an even number of dimensions up to the head size ({headDim})");
        }
    }

    /// <summary>
    /// Layer-wise allocation: lists of one value per block, no setting given twice, and every block's shape
    /// valid. Returns true when the stack is uniform (the caller's uniform checks apply).
    /// </summary>
    private static bool ValidateAllocation(Checks v, ModelSpec spec, TransformerSpec stack, long width)
    {
        var key = stack.Key;
        var a = stack.Allocation;
        void Conflict(string first, string second, string what)
        {
            if (spec.Has(key + first) && spec.Has(key + second))
            {
                v.Add(DiagnosticDescriptors.Conflict, key + second, $"Give {what} one way: per block, interpolated to a last value, or one value for every block");
            }
        }

        Conflict(".heads", ".heads_list", "the heads");
        Conflict(".heads_list", ".heads_last", "the heads");
        Conflict(".kv_heads", ".kv_heads_list", "the key/value heads");
        Conflict(".kv_heads_list", ".kv_heads_last", "the key/value heads");
        foreach (var list in new[] { ".ffn_hidden_list", ".ffn_multiplier_list" })
        {
            Conflict(".ffn_hidden", list, "the FFN width");
            Conflict(".ffn_multiplier", list, "the FFN width");
            Conflict(list, ".ffn_hidden_last", "the FFN width");
            Conflict(list, ".ffn_multiplier_last", "the FFN width");
        }

        Conflict(".ffn_hidden_list", ".ffn_multiplier_list", "the FFN width");
        Conflict(".ffn_multiplier", ".ffn_hidden_last", "the FFN width");
        Conflict(".ffn_hidden", ".ffn_multiplier_last", "the FFN width");
        Conflict(".ffn_hidden_last", ".ffn_multiplier_last", "the FFN width");

        var uniform = true;
        foreach (var (suffix, count) in new[] { (".heads_list", a.Heads.Count), (".kv_heads_list", a.KvHeads.Count), (".ffn_hidden_list", a.FfnHidden.Count), (".ffn_multiplier_list", a.FfnMultiplier.Count) })
        {
            if (!spec.Has(key + suffix))
            {
                continue;
            }

            uniform = false;
            if (stack.Layers > 0 && count != stack.Layers)
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + suffix, spec.Display(key + suffix), $"a list of {count}", $"a list of {stack.Layers} values, one per block");
            }
        }

        foreach (var suffix in new[] { ".heads_last", ".kv_heads_last", ".ffn_hidden_last" })
        {
            if (spec.Has(key + suffix))
            {
                uniform = false;
                v.Range(key + suffix, suffix == ".heads_last" ? a.HeadsLast : suffix == ".kv_heads_last" ? a.KvHeadsLast : a.FfnHiddenLast, 1, MaxDimension);
            }
        }

        if (spec.Has(key + ".ffn_multiplier_last"))
        {
            uniform = false;
            if (!(a.FfnMultiplierLast > 0 && a.FfnMultiplierLast <= 1024))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, key + ".ffn_multiplier_last", spec.Display(key + ".ffn_multiplier_last"), Format(a.FfnMultiplierLast), "a positive multiple of the width");
            }
        }

        if (uniform || v.Diagnostics.Count > 0 || stack.Layers < 1 || stack.Layers > SettingsTable.MaxBlocks || width <= 0)
        {
            return uniform;
        }

        // Every block's shape; the first problem of each kind is reported (a long stack would repeat it).
        var reported = new HashSet<string>();
        void Once(string kind, string at, Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params object?[] args)
        {
            if (reported.Add(kind))
            {
                v.Add(descriptor, at, args);
            }
        }

        var headsAt = spec.Has(key + ".heads_list") ? key + ".heads_list" : spec.Has(key + ".heads_last") ? key + ".heads_last" : key + ".heads";
        var kvAt = spec.Has(key + ".kv_heads_list") ? key + ".kv_heads_list" : spec.Has(key + ".kv_heads_last") ? key + ".kv_heads_last" : key + ".kv_heads";
        var ffnAt = new[] { ".ffn_hidden_list", ".ffn_multiplier_list", ".ffn_hidden_last", ".ffn_multiplier_last", ".ffn_hidden", ".ffn_multiplier" }.Select(s => key + s).FirstOrDefault(spec.Has) ?? key;
        for (var i = 0; i < stack.Layers; i++)
        {
            if ((a.Heads.Count > 0 && i >= a.Heads.Count) || (a.KvHeads.Count > 0 && i >= a.KvHeads.Count) || (a.FfnHidden.Count > 0 && i >= a.FfnHidden.Count) || (a.FfnMultiplier.Count > 0 && i >= a.FfnMultiplier.Count))
            {
                break;
            }

            var s = stack.Shape(i, width);
            if (s.Heads < 1 || s.Heads > MaxDimension)
            {
                Once("heads", headsAt, DiagnosticDescriptors.OutOfRange, $"{spec.Display(headsAt)} (block {i})", s.Heads, $"between 1 and {MaxDimension:N0}");
                continue;
            }

            if (stack.HeadDim <= 0 && width % s.Heads != 0)
            {
                Once("divide", headsAt, DiagnosticDescriptors.HeadsDoNotDivide, s.Heads, width, Format((double)width / s.Heads), SuggestHeads(width, s.Heads) + $" (block {i}; or set head_dim to free the heads from the width)");
            }
            else if (spec.Positions.Kind == PositionKind.Rope && s.HeadDim % 2 != 0)
            {
                Once("rope", headsAt, DiagnosticDescriptors.OddRopeHeadDim, s.HeadDim, width, s.Heads);
            }

            if (s.KvHeads < 1 || s.KvHeads > s.Heads)
            {
                Once("kv", kvAt, DiagnosticDescriptors.OutOfRange, $"{spec.Display(kvAt)} (block {i})", s.KvHeads, $"between 1 and the block's {s.Heads} query heads");
            }
            else if (s.Heads % s.KvHeads != 0)
            {
                Once("kvdivide", kvAt, DiagnosticDescriptors.KvHeadsDoNotDivide, s.KvHeads, s.Heads, Divisors.Nearest(s.Heads, s.KvHeads) + $" (block {i})");
            }

            if (s.FfnHidden < 1 || s.FfnHidden > MaxDimension || (long)s.Heads * s.HeadDim > MaxDimension)
            {
                Once("ffn", ffnAt, DiagnosticDescriptors.OutOfRange, $"{spec.Display(ffnAt)} (block {i})", s.FfnHidden, $"an FFN width between 1 and {MaxDimension:N0}");
            }
        }

        return false;
    }

    private static string SuggestHeads(long width, int heads)
    {
        // The divisor of the width closest to the requested head count.
        long best = 1;
        for (long h = 1; h <= Math.Min(width, 4L * heads + 8); h++)
        {
            if (width % h == 0 && Math.Abs(h - heads) < Math.Abs(best - heads))
            {
                best = h;
            }
        }

        return best.ToString(CultureInfo.InvariantCulture);
    }
}
