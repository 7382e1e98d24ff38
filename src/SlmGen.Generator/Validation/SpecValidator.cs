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
internal static partial class SpecValidator
{
    /// <summary>Largest size accepted for any one dimension (vocabulary, width, context, units).</summary>
    public const int MaxDimension = SettingsTable.MaxDimension;

    public static List<DiagnosticInfo> Validate(ModelSpec spec)
    {
        var v = new Checks(spec);
        Model(v, spec);
        Positions(v, spec);
        var width = Layers(v, spec); // the width reaching the head
        Head(v, spec, width);
        Quantization(v, spec);
        Budget(v, spec);
        return v.Diagnostics;
    }

    /// <summary>The model's own settings: vocabulary, context, width, dropout, initialisation, padding, tokenizer.</summary>
    private static void Model(Checks v, ModelSpec spec)
    {
        v.Required(SpecKeys.Vocab, spec.Vocab, "the vocabulary size", 2, MaxDimension);
        v.Required(SpecKeys.Context, spec.Context, "the context length in tokens", 1, MaxDimension);
        v.Required(SpecKeys.Width, spec.Width, "the embedding width (d_model)", 1, MaxDimension);
        v.Probability(SpecKeys.Dropout, spec.Dropout);
        v.OptionalProbability(SpecKeys.EmbeddingDropout, spec.EmbeddingDropout);
        v.Defined(SpecKeys.Init, spec.Init);
        v.Range(SpecKeys.PadVocabTo, spec.PadVocabTo, 0, 65_536);
        if (spec.BigramBuckets != 0)
        {
            v.Range(SpecKeys.BigramBuckets, spec.BigramBuckets, 2, MaxDimension);
        }

        if (spec.BigramDim != 0)
        {
            v.Range(SpecKeys.BigramDim, spec.BigramDim, 1, MaxDimension);
            if (spec.BigramBuckets == 0)
            {
                v.Add(DiagnosticDescriptors.Conflict, SpecKeys.BigramDim, "bigram_dim sets the width of the hashed bigram table, but there is none; set bigram_buckets or drop bigram_dim");
            }
        }

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
    }

    /// <summary>Positions: the table's length, RoPE's base.</summary>
    private static void Positions(Checks v, ModelSpec spec)
    {
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
                SpecKeys.BigramBuckets => "[TokenEmbedding(BigramBuckets = ...)]",
                SpecKeys.BigramDim => "[TokenEmbedding(BigramDim = ...)]",
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
