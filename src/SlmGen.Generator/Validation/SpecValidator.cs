using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Validation;

/// <summary>
/// Shape and consistency checks on a spec, before any cost is computed: every error is located at the
/// attribute argument or YAML node that caused it.
/// </summary>
internal static class SpecValidator
{
    /// <summary>Largest size accepted for any one dimension (vocabulary, width, context, units).</summary>
    public const int MaxDimension = SettingsTable.MaxDimension;

    public static List<DiagnosticInfo> Validate(ModelSpec spec)
    {
        var v = new Checks(spec);

        v.Required(SpecKeys.Vocab, spec.Vocab, "the vocabulary size", 2, MaxDimension);
        v.Required(SpecKeys.Context, spec.Context, "the context length in tokens", 1, MaxDimension);
        v.Required(SpecKeys.Width, spec.Width, "the embedding width (d_model)", 1, MaxDimension);
        v.Probability(SpecKeys.Dropout, spec.Dropout);
        v.OptionalProbability(SpecKeys.EmbeddingDropout, spec.EmbeddingDropout);
        v.Defined(SpecKeys.Init, spec.Init);
        v.Range(SpecKeys.PadVocabTo, spec.PadVocabTo, 0, 65_536);
        if (spec.PaddedVocab > MaxDimension)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.PadVocabTo, "the padded vocabulary", spec.PaddedVocab, $"at most {MaxDimension:N0}");
        }

        // A tokenizer of fixed size needs the vocabulary to hold its ids.
        var tokenizerSize = spec.Tokenizer switch { "bytes" => 256, "gpt2" => 50_257, "cl100k" => 100_277, _ => 0 };
        if (tokenizerSize > 0 && spec.Vocab > 0 && spec.Vocab < tokenizerSize)
        {
            static string N(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
            v.Add(DiagnosticDescriptors.TokenizerVocabTooSmall, SpecKeys.Vocab, spec.ClassName, N(spec.Vocab), spec.Tokenizer, N(tokenizerSize - 1), N(tokenizerSize));
        }
        v.Defined(SpecKeys.Positions, spec.Positions.Kind);
        v.Defined(SpecKeys.FinalNorm, spec.FinalNorm.Kind);

        // Positions.
        var p = spec.Positions;
        if (p.Kind == PositionKind.Learned && spec.Positions.Length > 0 && spec.Context > 0 && spec.Positions.Length < spec.Context)
        {
            v.Add(DiagnosticDescriptors.PositionTableTooShort, SpecKeys.PositionsLength, spec.Context, spec.Positions.Length);
        }

        if (p.Kind != PositionKind.Learned && spec.Has(SpecKeys.PositionsLength))
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.PositionsLength, "A position table length only applies to learned positions");
        }

        if (p.Length < 0 || p.Length > MaxDimension)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.PositionsLength, spec.Display(SpecKeys.PositionsLength), p.Length, $"between 1 and {MaxDimension:N0}");
        }

        if (spec.Has(SpecKeys.RopeBase) && p.Kind != PositionKind.Rope)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.RopeBase, "A RoPE base only applies to rotary positions");
        }

        if (spec.Has(SpecKeys.RopeBase) && !(p.RopeBase > 1 && p.RopeBase < 1e12))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.RopeBase, spec.Display(SpecKeys.RopeBase), Format(p.RopeBase), "greater than 1 (usually 10000)");
        }

        // The stack.
        long width = spec.Width;
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
                        v.Add(DiagnosticDescriptors.Conflict, layer.Key + ".activation", "SwiGLU is an FFN activation (it needs a gate matrix); a dense layer takes relu, gelu, silu, tanh or identity");
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

        // Head.
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

        // Quantisation.
        var q = spec.Quantization;
        foreach (var (part, bits) in new[] { ("attention", q.Attention), ("mlp", q.Mlp), ("dense", q.Dense), ("head", q.Head), ("embedding", q.Embedding) })
        {
            if (bits is not (0 or 2 or 3 or 4 or 8))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Quant(part), spec.Display(SpecKeys.Quant(part)), bits, "0 (full precision), 2, 3, 4 or 8 bits");
            }
        }

        if (head.Tied && q.Head > 0 && q.Head != q.Embedding)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Quant("head"), $"A tied head is the embedding table: quantise it through quantization.embedding ({q.Embedding} bits here), not as the head ({q.Head} bits)");
        }

        // Budgets.
        var b = spec.Budget;
        v.NonNegative(SpecKeys.Budgets("max_parameters"), b.MaxParameters);
        v.NonNegative(SpecKeys.Budgets("max_forward_flops_per_token"), b.MaxForwardFlopsPerToken);
        v.NonNegative(SpecKeys.Budgets("training_tokens"), b.TrainingTokens);
        v.NonNegative(SpecKeys.Budgets("training_characters"), b.TrainingCharacters);
        if (spec.Has(SpecKeys.Budgets("characters_per_token")) && !(b.CharactersPerToken >= 1e-3 && b.CharactersPerToken <= 1e6))
        {
            // A real tokenizer's compression lies far inside this range; outside it the derived figures overflow.
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets("characters_per_token"), spec.Display(SpecKeys.Budgets("characters_per_token")), Format(b.CharactersPerToken), "from 0.001 to 1,000,000 characters per token");
        }
        else if (b.TrainingCharacters > 0 && b.CharactersPerToken > 0 && b.TrainingCharacters / b.CharactersPerToken >= 9e18)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets("training_characters"), spec.Display(SpecKeys.Budgets("training_characters")), Format(b.TrainingCharacters),
                $"at most {Format(Math.Floor(9e18 * b.CharactersPerToken))} at {Format(b.CharactersPerToken)} characters per token, so that the training tokens fit 64-bit arithmetic");
        }

        if (b.TrainingCharacters > 0 && b.TrainingTokens > 0)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Budgets("training_characters"), "Declare the training length once: in tokens (training_tokens) or in characters (training_characters)");
        }
        else if (b.TrainingCharacters > 0 && !(b.CharactersPerToken > 0) && spec.Tokenizer != "chars")
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Budgets("training_characters"), "A training length in characters needs the tokenizer's compression: declare characters_per_token (slmgen tokenizer stats measures it), or tokenizer: chars");
        }
        v.NonNegative(SpecKeys.Budgets("max_weight_bytes"), b.MaxWeightBytes);
        v.NonNegative(SpecKeys.Budgets("max_kv_cache_bytes"), b.MaxKvCacheBytes);
        if (b.MaxTrainingFlops < 0 || double.IsNaN(b.MaxTrainingFlops) || double.IsInfinity(b.MaxTrainingFlops))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets("max_training_flops"), spec.Display(SpecKeys.Budgets("max_training_flops")), Format(b.MaxTrainingFlops), "a positive number");
        }

        return v.Diagnostics;
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

        if (!ValidateAllocation(v, spec, stack, width))
        {
            if (spec.Has(key + ".head_dim"))
            {
                v.Range(key + ".head_dim", stack.HeadDim, 1, 65_536);
            }

            return; // per-block checks replaced the uniform ones below
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

    internal static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Collects diagnostics located through the spec's settings.</summary>
    private sealed class Checks
    {
        private readonly ModelSpec spec;

        public Checks(ModelSpec spec) => this.spec = spec;

        public List<DiagnosticInfo> Diagnostics { get; } = new();

        public void Add(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string key, params object?[] args) =>
            Diagnostics.Add(DiagnosticInfo.Create(descriptor, spec.Where(key), args));

        public void Required(string key, long value, string what, long min, long max)
        {
            if (!spec.Has(key) && value == 0)
            {
                var owner = Owner(key);
                Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.Missing, spec.Where(key), owner, Setting(key), what));
                return;
            }

            Range(key, value, min, max);
        }

        public void Range(string key, long value, long min, long max)
        {
            if (value < min || value > max)
            {
                Add(DiagnosticDescriptors.OutOfRange, key, spec.Display(key), value, $"between {min:N0} and {max:N0}");
            }
        }

        public void Defined<TEnum>(string key, TEnum value)
            where TEnum : struct, Enum
        {
            if (!Enum.IsDefined(typeof(TEnum), value))
            {
                Add(DiagnosticDescriptors.OutOfRange, key, spec.Display(key), Convert.ToInt32(value, CultureInfo.InvariantCulture),
                    "one of " + string.Join(", ", Enum.GetNames(typeof(TEnum)).Select(n => typeof(TEnum).Name + "." + n)));
            }
        }

        public void NonNegative(string key, long value)
        {
            if (value < 0)
            {
                Add(DiagnosticDescriptors.OutOfRange, key, spec.Display(key), value, "a positive number (0 means no budget)");
            }
        }

        public void Probability(string key, double value)
        {
            if (!(value >= 0 && value < 1))
            {
                Add(DiagnosticDescriptors.OutOfRange, key, spec.Display(key), Format(value), "a probability in [0, 1)");
            }
        }

        public void OptionalProbability(string key, double value)
        {
            if ((spec.Has(key) || value != -1) && !(value >= 0 && value < 1))
            {
                Add(DiagnosticDescriptors.OutOfRange, key, spec.Display(key), Format(value), "a probability in [0, 1)");
            }
        }

        private string Owner(string key)
        {
            var dot = key.LastIndexOf('.');
            return dot < 0 || !spec.Has(key.Substring(0, dot)) ? $"Model '{spec.ClassName}'" : spec.Display(key.Substring(0, dot));
        }

        private string Setting(string key)
        {
            if (spec.Source == SpecSource.Yaml)
            {
                return "'" + key.Substring(key.LastIndexOf('.') + 1) + "'";
            }

            return key switch
            {
                SpecKeys.Vocab => "Vocab (in [Model])",
                SpecKeys.Context => "Context (in [Model])",
                SpecKeys.Width => "[TokenEmbedding(Dim = ...)]",
                _ => ToPascal(key.Substring(key.LastIndexOf('.') + 1)),
            };
        }

        private static string ToPascal(string snake)
        {
            var parts = snake.Split('_');
            for (var i = 0; i < parts.Length; i++)
            {
                if (parts[i].Length > 0)
                {
                    parts[i] = char.ToUpperInvariant(parts[i][0]) + parts[i].Substring(1);
                }
            }

            return string.Join(string.Empty, parts);
        }
    }
}
