using System;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using YamlDotNet.RepresentationModel;
using T = SlmGen.Generator.Model.SettingsTable;

namespace SlmGen.Generator.Parsing.Yaml;

/// <summary>
/// The YAML front-end: reads one spec file (one model) into the same <see cref="ModelSpec"/> the attribute
/// front-end produces, section by section. Allowed keys and defaults come from <see cref="SettingsTable"/>;
/// loading and structural limits are <see cref="YamlDocumentLoader"/>'s, typed values <see cref="YamlValues"/>'.
/// Every problem is a diagnostic located at the offending node (file, line, column); nothing here throws.
/// </summary>
internal sealed class YamlSpecReader
{
    private readonly YamlContext context;
    private readonly SpecBuilder b;
    private readonly YamlValues values;

    private YamlSpecReader(YamlContext context, SpecBuilder builder)
    {
        this.context = context;
        b = builder;
        values = new YamlValues(context, builder);
    }

    /// <param name="path">The file's path (diagnostics point there).</param>
    /// <param name="displayPath">The path reports and generated comments show (relative to the project).</param>
    public static ParsedSpec Read(string path, string displayPath, SourceText? text, string defaultNamespace, CancellationToken ct)
    {
        var context = new YamlContext(path);
        try
        {
            var root = YamlDocumentLoader.Load(text?.ToString(), context, ct);
            if (root is null)
            {
                return new ParsedSpec(null, context.Diagnostics.ToEquatableArray());
            }

            var builder = new SpecBuilder(defaultNamespace, ClassNameFromFile(path), SpecSource.Yaml, displayPath);
            builder.Set(SpecKeys.Declaration, "the spec", context.Location(root));
            new YamlSpecReader(context, builder).ReadRoot(root);
            if (!builder.Has(T.Name.Key) && Identifiers.ClassNameProblem(builder.ClassName) is { } problem)
            {
                context.Report(DiagnosticDescriptors.InvalidName, context.Location(root), builder.ClassName, "class",
                    $" (made from the file name: {problem}; give the model a name with name:)");
            }

            return new ParsedSpec(context.Diagnostics.Count == 0 ? builder.Build() : null, context.Diagnostics.ToEquatableArray());
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Defensive: a reader bug must surface as a diagnostic, never as a generator failure (CS8785).
            context.Report(DiagnosticDescriptors.YamlSyntax, null, $"{ex.GetType().Name}: {ex.Message}");
            return new ParsedSpec(null, context.Diagnostics.ToEquatableArray());
        }
    }

    /// <summary>The class name a file gets when it names none: its name in PascalCase (<c>baby-gpt.yaml</c> → <c>BabyGpt</c>).</summary>
    public static string ClassNameFromFile(string path)
    {
        var stem = Path.GetFileNameWithoutExtension(path);
        var parts = stem.Split(new[] { '-', '_', '.', ' ' }, StringSplitOptions.RemoveEmptyEntries);
        var name = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));
        name = new string(name.Where(c => char.IsLetterOrDigit(c) || c == '_').ToArray());
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            name = "Model" + name;
        }

        return name;
    }

    private void ReadRoot(YamlMappingNode root)
    {
        foreach (var (key, value, _) in values.Entries(root, T.Root, "the spec"))
        {
            switch (key)
            {
                case "name":
                    b.ClassName = Identifier(value, key, T.Name, "class", Identifiers.ClassNameProblem) ?? b.ClassName;
                    break;
                case "namespace":
                    b.Namespace = Identifier(value, key, T.Namespace, "namespace", Identifiers.NamespaceProblem) ?? b.Namespace;
                    break;
                case "vocab":
                    b.Vocab = values.Int(value, key, SpecKeys.Vocab);
                    break;
                case "context":
                    b.Context = values.Int(value, key, SpecKeys.Context);
                    break;
                case "dropout":
                    b.Dropout = values.Double(value, key, SpecKeys.Dropout);
                    break;
                case "embedding_dropout":
                    b.EmbeddingDropout = values.Double(value, key, SpecKeys.EmbeddingDropout);
                    break;
                case "init":
                    b.Init = values.Enum(value, key, "initialisation", YamlNames.Inits, SpecKeys.Init);
                    break;
                case "pad_vocab_to":
                    b.PadVocabTo = values.Int(value, key, SpecKeys.PadVocabTo);
                    break;
                case "tokenizer":
                    if (values.Text(value, key) is { } tokenizer)
                    {
                        b.Set(SpecKeys.Tokenizer, key, context.Location(value));
                        b.Tokenizer = tokenizer;
                    }

                    break;
                case "embedding":
                    ReadEmbedding(value);
                    break;
                case "positions":
                    ReadPositions(value);
                    break;
                case "layers":
                    ReadLayers(value);
                    break;
                case "final_norm":
                    ReadFinalNorm(value);
                    break;
                case "head":
                    ReadHead(value);
                    break;
                case "budget":
                    ReadBudget(value);
                    break;
                case "quantization":
                    ReadQuantization(value);
                    break;
            }
        }
    }

    private void ReadEmbedding(YamlNode value)
    {
        b.Set(SpecKeys.Embedding, "embedding", context.Location(value));
        if (value is YamlMappingNode map)
        {
            foreach (var (k, v, _) in values.Entries(map, T.EmbeddingSection, "embedding"))
            {
                switch (k)
                {
                    case "bigram_buckets":
                        b.BigramBuckets = values.Int(v, "embedding.bigram_buckets", SpecKeys.BigramBuckets);
                        break;
                    case "bigram_dim":
                        b.BigramDim = values.Int(v, "embedding.bigram_dim", SpecKeys.BigramDim);
                        break;
                    default:
                        b.Width = values.Int(v, "embedding." + k, SpecKeys.Width);
                        break;
                }
            }
        }
        else
        {
            b.Width = values.Int(value, "embedding", SpecKeys.Width);
        }
    }

    private void ReadPositions(YamlNode value)
    {
        b.Set(SpecKeys.Positions, "positions", context.Location(value));
        if (value is not YamlMappingNode map)
        {
            b.Positions = new PositionSpec(values.Enum(value, "positions", "position kind", YamlNames.Positions, SpecKeys.Positions), T.DefaultInt(T.PositionLength), T.DefaultDouble(T.RopeBase));
            return;
        }

        var kind = (PositionKind)T.DefaultInt(T.PositionKind);
        var length = T.DefaultInt(T.PositionLength);
        var rope = T.DefaultDouble(T.RopeBase);
        var hasKind = false;
        foreach (var (k, v, _) in values.Entries(map, T.PositionsSection, "positions"))
        {
            switch (k)
            {
                case "kind":
                    kind = values.Enum(v, "positions.kind", "position kind", YamlNames.Positions, SpecKeys.Positions);
                    hasKind = true;
                    break;
                case "length":
                    length = values.Int(v, "positions.length", SpecKeys.PositionsLength);
                    break;
                case "base":
                    rope = values.Double(v, "positions.base", SpecKeys.RopeBase);
                    break;
            }
        }

        if (!hasKind)
        {
            context.Report(DiagnosticDescriptors.Missing, context.Location(map), "positions", "'kind'", "learned, sinusoidal, rope or none");
        }

        b.Positions = new PositionSpec(kind, length, rope);
    }

    private void ReadLayers(YamlNode value)
    {
        if (value is not YamlSequenceNode seq)
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(value), "layers", "a list of layers (- flatten, - dense: ..., - transformer: ...)", YamlContext.Describe(value));
            return;
        }

        foreach (var item in seq.Children)
        {
            string kind;
            YamlNode? body;
            YamlNode kindNode;
            if (item is YamlScalarNode scalar)
            {
                kind = scalar.Value ?? string.Empty;
                body = null;
                kindNode = item;
            }
            else if (item is YamlMappingNode m && m.Children.Count == 1)
            {
                var entry = m.Children.First();
                kind = (entry.Key as YamlScalarNode)?.Value ?? string.Empty;
                body = entry.Value;
                kindNode = entry.Key;
            }
            else
            {
                context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(item), "layers[" + b.Layers.Count + "]",
                    "one layer: a kind (flatten, dense, transformer) with its settings, e.g. '- dense: { units: 256 }'", YamlContext.Describe(item));
                continue;
            }

            var index = b.Layers.Count;
            var display = "layers[" + index + "]";
            if (!T.LayerKinds.Contains(kind))
            {
                context.Report(DiagnosticDescriptors.YamlUnknownValue, context.Location(kindNode), "layer kind", YamlContext.Shorten(kind), string.Join(", ", T.LayerKinds), Suggestions.DidYouMean(kind, T.LayerKinds));
                continue;
            }

            var key = b.NextLayer(display + " (" + kind + ")", context.Location(item));
            switch (kind)
            {
                case T.FlattenSection:
                    b.Layers.Add(new FlattenSpec(index, ReadFlatten(body, key, display)));
                    break;
                case T.DenseSection:
                    b.Layers.Add(ReadDense(body, item, index, key, display));
                    break;
                case T.TransformerSection:
                    b.Layers.Add(ReadTransformer(body, item, index, key, display));
                    break;
            }
        }
    }

    private int ReadFlatten(YamlNode? body, string key, string display)
    {
        if (body is null || body is YamlScalarNode { Value: null or "" })
        {
            return T.DefaultInt(T.Window);
        }

        if (body is YamlMappingNode map)
        {
            var window = T.DefaultInt(T.Window);
            foreach (var (k, v, _) in values.Entries(map, T.FlattenSection, display))
            {
                window = values.Int(v, display + "." + k, key + ".window");
            }

            return window;
        }

        return values.Int(body, display + ".window", key + ".window");
    }

    private DenseSpec ReadDense(YamlNode? body, YamlNode item, int index, string key, string display)
    {
        var read = body is YamlMappingNode map ? ReadSection(map, T.DenseSection, display, key) : new SectionValues();
        if (body is not null and not YamlMappingNode)
        {
            read.Set(T.Units, values.Int(body, display + ".units", key + ".units")); // dense: 64
        }

        if (!b.Has(key + ".units"))
        {
            context.Report(DiagnosticDescriptors.Missing, context.Location(item), display, "'units'", "the output width of the dense layer");
        }

        return SpecBinding.Dense(index, read);
    }

    private TransformerSpec ReadTransformer(YamlNode? body, YamlNode item, int index, string key, string display)
    {
        var read = new SectionValues();
        if (body is YamlMappingNode map)
        {
            string? ffnGiven = null;
            string? ffnLastGiven = null;
            foreach (var (k, v, keyNode) in values.Entries(map, T.TransformerSection, display))
            {
                var where = display + "." + k;
                if (k is "ffn_last" or "ffn_hidden_last" or "ffn_multiplier_last")
                {
                    if (ffnLastGiven is not null)
                    {
                        context.Report(DiagnosticDescriptors.Conflict, context.Location(keyNode),
                            $"{display} gives the last block's FFN width twice ('{ffnLastGiven}' and '{k}'); give one");
                        continue;
                    }

                    ffnLastGiven = k;
                }

                if (k is "ffn" or "ffn_hidden" or "ffn_multiplier")
                {
                    if (ffnGiven is not null)
                    {
                        context.Report(DiagnosticDescriptors.Conflict, context.Location(keyNode),
                            $"{display} gives the FFN width twice ('{ffnGiven}' and '{k}'); 'ffn', 'ffn_hidden' and 'ffn_multiplier' are spellings of one setting, give one");
                        continue;
                    }

                    ffnGiven = k;
                }

                // The FFN width's spellings (ffn: 4x | 1536 | a list of either) are the section's only special syntax;
                // every other key is read by its declaration in the settings table.
                switch (k)
                {
                    case "ffn" or "ffn_hidden" or "ffn_multiplier" when v is YamlSequenceNode list:
                        var (hidden, multipliers) = FfnList(list, where, key, k);
                        read.Set(T.FfnHiddenPerBlock, hidden);
                        read.Set(T.FfnMultiplierPerBlock, multipliers);
                        break;
                    case "ffn_last" when IsMultiplier(v): read.Set(T.FfnMultiplierLast, Multiplier(v, where, key + ".ffn_multiplier_last")); break;
                    case "ffn_last": read.Set(T.FfnHiddenLast, values.Int(v, where, key + ".ffn_hidden_last")); break;
                    case "ffn_multiplier_last": read.Set(T.FfnMultiplierLast, Multiplier(v, where, key + ".ffn_multiplier_last")); break;
                    case "ffn" when IsMultiplier(v): read.Set(T.FfnMultiplier, Multiplier(v, where, key + ".ffn_multiplier")); break;
                    case "ffn": read.Set(T.FfnHidden, values.Int(v, where, key + ".ffn_hidden")); break;
                    case "ffn_multiplier": read.Set(T.FfnMultiplier, Multiplier(v, where, key + ".ffn_multiplier")); break;
                    default:
                        var setting = SettingFor(T.TransformerSection, k, v);
                        read.Set(setting, Value(setting, v, where, key + "." + setting.SpecKey));
                        break;
                }
            }
        }
        else
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(body ?? item), display, "the block settings (layers, heads, ...)", body is null ? "nothing" : YamlContext.Describe(body));
        }

        return SpecBinding.Transformer(index, read);
    }

    /// <summary>A class or namespace name, unescaped, or null (with SLM0011 where it is not a valid one).</summary>
    private string? Identifier(YamlNode value, string key, Setting setting, string what, Func<string, string?> problemOf)
    {
        if (values.Text(value, key) is not { } text)
        {
            return null;
        }

        b.Set(setting.Key, key, context.Location(value));
        if (problemOf(text) is { } problem)
        {
            context.Report(DiagnosticDescriptors.InvalidName, context.Location(value), YamlContext.Shorten(text), what, " (" + problem + ")");
            return null;
        }

        return Identifiers.Unescape(text);
    }

    /// <summary>Every key of a section's mapping by its declaration in the settings table (where diagnostics point: <paramref name="key"/>.setting).</summary>
    private SectionValues ReadSection(YamlMappingNode map, string section, string display, string key)
    {
        var read = new SectionValues();
        foreach (var (k, v, _) in values.Entries(map, section, display))
        {
            var setting = SettingFor(section, k, v);
            read.Set(setting, Value(setting, v, display + "." + k, key + "." + setting.SpecKey));
        }

        return read;
    }

    /// <summary>The setting a key of a section stands for: its per-block list for a YAML list where it has one, else the scalar.</summary>
    private static Setting SettingFor(string section, string key, YamlNode node)
    {
        var candidates = T.OfKey(section, key).ToList();
        return candidates.FirstOrDefault(s => s.IsList == node is YamlSequenceNode) ?? candidates[0];
    }

    /// <summary>A setting's value read by its declared type (a per-block list, a whole number, a number, a flag or a name).</summary>
    private object Value(Setting setting, YamlNode node, string where, string key) => setting switch
    {
        { IsList: true } when node is YamlSequenceNode list => values.IntList(list, where, key),
        { Type: SettingType.Flag } => values.Bool(node, where, key),
        { Type: SettingType.Number } => values.Double(node, where, key),
        { AttributeDefault: long } => values.Long(node, where, key),
        { Type: SettingType.Name, Key: "activation" } => values.Enum(node, where, "activation", YamlNames.Activations, key),
        { Type: SettingType.Name } when setting == T.Norm => values.Enum(node, where, "norm", YamlNames.Norms, key),
        { Type: SettingType.Name } when setting == T.QuantScales || setting == T.QuantOthers => values.Enum(node, where, "storage type", YamlNames.StoreTypes, key),
        { Type: SettingType.Name } when setting == T.MaxTrainingTime || setting == T.MaxDecodeLatency => DurationValue(node, where, key),
        { Type: SettingType.Name } when setting == T.QuantMethod => values.Enum(node, where, "quantiser", YamlNames.Quantizers, key),
        { Type: SettingType.Name } when setting == T.QuantGrid => values.Enum(node, where, "grid", YamlNames.Grids, key),
        { Type: SettingType.Name } when setting == T.QuantCompression => values.Enum(node, where, "compression", YamlNames.Compressions, key),
        _ => values.Int(node, where, key),
    };

    /// <summary>A duration's text (checked by the validator, which reports it at this location).</summary>
    private string DurationValue(YamlNode node, string where, string key)
    {
        b.Set(key, where, context.Location(node));
        return values.Text(node, where) ?? string.Empty;
    }

    /// <summary>True for a multiple of the width written as such (<c>4x</c>).</summary>
    private static bool IsMultiplier(YamlNode node) => (node as YamlScalarNode)?.Value?.Trim().EndsWith("x", StringComparison.OrdinalIgnoreCase) ?? false;

    /// <summary>A multiplier, with or without its <c>x</c> (<c>4x</c>, <c>4</c>).</summary>
    private double Multiplier(YamlNode node, string where, string key)
    {
        var text = (node as YamlScalarNode)?.Value?.Trim() ?? string.Empty;
        return values.Double(node, where, key, IsMultiplier(node) ? text.Substring(0, text.Length - 1) : null);
    }

    /// <summary>
    /// An FFN width per block: <c>ffn: [2x, 3x, 4x]</c> or <c>ffn_multiplier: [2, 3, 4]</c> (multipliers),
    /// <c>ffn: [512, 768]</c> or <c>ffn_hidden: [...]</c> (widths); one kind per list.
    /// </summary>
    private (EquatableArray<int> Hidden, EquatableArray<double> Multipliers) FfnList(YamlSequenceNode list, string where, string key, string spelling)
    {
        var multipliers = spelling == "ffn_multiplier" || (spelling == "ffn" && list.Children.Count > 0 && IsMultiplier(list.Children[0]));
        if (multipliers)
        {
            b.Set(key + ".ffn_multiplier_list", where, context.Location(list));
            var m = new System.Collections.Generic.List<double>();
            foreach (var item in list.Children)
            {
                if (spelling == "ffn" && !IsMultiplier(item))
                {
                    context.Report(DiagnosticDescriptors.Conflict, context.Location(item), $"{where} mixes multipliers and widths; give every block a multiplier (4x) or every block a width (1536)");
                    continue;
                }

                m.Add(Multiplier(item, where, key + ".ffn_multiplier_list[]"));
            }

            return (EquatableArray<int>.Empty, m.ToEquatableArray());
        }

        return (values.IntList(list, where, key + ".ffn_hidden_list"), EquatableArray<double>.Empty);
    }

    private void ReadFinalNorm(YamlNode value)
    {
        b.Set(SpecKeys.FinalNorm, "final_norm", context.Location(value));
        if (value is YamlMappingNode map)
        {
            var kind = (NormKind)T.DefaultInt(T.FinalNormKind);
            var bias = T.DefaultBool(T.FinalNormBias);
            foreach (var (k, v, _) in values.Entries(map, T.FinalNormSection, "final_norm"))
            {
                if (k == "kind")
                {
                    kind = values.Enum(v, "final_norm.kind", "norm", YamlNames.Norms, SpecKeys.FinalNorm);
                }
                else
                {
                    bias = values.Bool(v, "final_norm.bias", SpecKeys.FinalNorm + ".bias");
                }
            }

            b.FinalNorm = new NormSpec(kind, bias);
            return;
        }

        b.FinalNorm = new NormSpec(values.Enum(value, "final_norm", "norm", YamlNames.Norms, SpecKeys.FinalNorm), T.DefaultBool(T.FinalNormBias));
    }

    private void ReadHead(YamlNode value)
    {
        b.Set(SpecKeys.Head, "head", context.Location(value));
        if (value is YamlScalarNode scalar)
        {
            switch (scalar.Value?.Trim().ToLowerInvariant())
            {
                case "tied":
                    b.Set(SpecKeys.HeadTied, "head", context.Location(value));
                    b.Head = new HeadSpec(true, false, 0);
                    return;
                case "untied":
                case "linear":
                    b.Head = HeadSpec.Default;
                    return;
                case "bias":
                    b.Set(SpecKeys.HeadBias, "head", context.Location(value));
                    b.Head = new HeadSpec(false, true, 0);
                    return;
                default:
                    context.Report(DiagnosticDescriptors.YamlUnknownValue, context.Location(value), "head", YamlContext.Shorten(scalar.Value ?? string.Empty), "tied, untied, bias, or a mapping { tied, bias, rank }", Suggestions.DidYouMean(scalar.Value ?? string.Empty, new[] { "tied", "untied", "bias" }));
                    return;
            }
        }

        if (value is not YamlMappingNode map)
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(value), "head", "tied, untied, or a mapping { tied, bias, rank, groups }", YamlContext.Describe(value));
            return;
        }

        b.Head = SpecBinding.Head(ReadSection(map, T.HeadSection, "head", SpecKeys.Head));
    }

    private void ReadQuantization(YamlNode value)
    {
        b.Set(SpecKeys.Quantization, "quantization", context.Location(value));
        if (value is YamlScalarNode)
        {
            // A number: the body's weights (attention, FFN, dense layers) at that precision.
            var bits = values.Int(value, "quantization", SpecKeys.Quant("attention"));
            b.Set(SpecKeys.Quant("mlp"), "quantization", context.Location(value));
            b.Set(SpecKeys.Quant("dense"), "quantization", context.Location(value));
            b.Quantization = new QuantSpec(bits, bits, bits, 0, 0);
            return;
        }

        if (value is not YamlMappingNode map)
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(value), "quantization", "bits (4), or a mapping { attention, mlp, dense, head, embedding }", YamlContext.Describe(value));
            return;
        }

        b.Quantization = SpecBinding.Quantization(ReadSection(map, T.QuantizationSection, "quantization", SpecKeys.Quantization));
    }

    private void ReadBudget(YamlNode value)
    {
        b.Set(SpecKeys.Budget, "budget", context.Location(value));
        if (value is not YamlMappingNode map)
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(value), "budget", "a mapping of budgets (max_parameters: 12M, ...)", YamlContext.Describe(value));
            return;
        }

        b.Budget = SpecBinding.Budget(ReadSection(map, T.BudgetSection, "budget", SpecKeys.Budget));
    }
}
