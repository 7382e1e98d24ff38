using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Generator.Parsing;

/// <summary>
/// The YAML front-end: reads one spec file (one model) into the same <see cref="ModelSpec"/> the attribute
/// front-end produces. Every problem is a diagnostic located at the offending node (file, line, column);
/// nothing here throws.
/// </summary>
internal static class YamlSpecReader
{
    private static readonly string[] RootKeys = { "name", "namespace", "vocab", "context", "dropout", "embedding_dropout", "init", "embedding", "positions", "layers", "final_norm", "head", "budget" };
    private static readonly string[] EmbeddingKeys = { "dim" };
    private static readonly string[] PositionKeys = { "kind", "length", "base" };
    private static readonly string[] FlattenKeys = { "window" };
    private static readonly string[] DenseKeys = { "units", "activation", "bias", "dropout" };
    private static readonly string[] TransformerKeys = { "layers", "repeat", "heads", "ffn", "ffn_hidden", "ffn_multiplier", "activation", "norm", "norm_bias", "pre_norm", "packed_qkv", "attention_bias", "ffn_bias", "dropout", "ffn_dropout" };
    private static readonly string[] NormKeys = { "kind", "bias" };
    private static readonly string[] HeadKeys = { "tied", "bias", "rank" };
    private static readonly string[] BudgetKeys = { "max_parameters", "max_forward_flops_per_token", "max_training_flops", "training_tokens", "max_weight_bytes", "max_kv_cache_bytes" };
    private static readonly string[] LayerKinds = { "flatten", "dense", "transformer" };

    private static readonly (string Name, Act Value)[] Activations =
    {
        ("relu", Act.Relu), ("gelu", Act.Gelu), ("silu", Act.Silu), ("swish", Act.Silu), ("swiglu", Act.SwiGlu), ("tanh", Act.Tanh), ("identity", Act.Identity), ("linear", Act.Identity), ("none", Act.Identity),
    };

    private static readonly (string Name, NormKind Value)[] NormNames =
    {
        ("layernorm", NormKind.LayerNorm), ("layer_norm", NormKind.LayerNorm), ("ln", NormKind.LayerNorm), ("rmsnorm", NormKind.RmsNorm), ("rms_norm", NormKind.RmsNorm), ("rms", NormKind.RmsNorm), ("none", NormKind.None),
    };

    private static readonly (string Name, PositionKind Value)[] PositionNames =
    {
        ("learned", PositionKind.Learned), ("absolute", PositionKind.Learned), ("sinusoidal", PositionKind.Sinusoidal), ("sin", PositionKind.Sinusoidal), ("rope", PositionKind.Rope), ("rotary", PositionKind.Rope), ("none", PositionKind.None),
    };

    private static readonly (string Name, InitScheme Value)[] InitNames =
    {
        ("torch", InitScheme.TorchDefault), ("pytorch", InitScheme.TorchDefault), ("default", InitScheme.TorchDefault), ("gpt2", InitScheme.Gpt2), ("nanogpt", InitScheme.Gpt2),
    };

    /// <param name="path">The file's path (diagnostics point there).</param>
    /// <param name="displayPath">The path reports and generated comments show (relative to the project).</param>
    public static ParsedSpec Read(string path, string displayPath, SourceText? text, string defaultNamespace, CancellationToken ct)
    {
        var reader = new Reader(path, displayPath, defaultNamespace);
        try
        {
            return reader.Read(text?.ToString(), ct);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Defensive: a reader bug must surface as a diagnostic, never as a generator failure (CS8785).
            reader.Report(DiagnosticDescriptors.YamlSyntax, null, $"{ex.GetType().Name}: {ex.Message}");
            return new ParsedSpec(null, reader.Diagnostics.ToEquatableArray());
        }
    }

    /// <summary>The class name a file gets when it names none: its name in PascalCase (<c>baby-gpt.yaml</c> → <c>BabyGpt</c>).</summary>
    public static string ClassNameFromFile(string path)
    {
        var stem = Path.GetFileNameWithoutExtension(path);
        var parts = stem.Split(new[] { '-', '_', '.', ' ' }, StringSplitOptions.RemoveEmptyEntries);
        var name = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));
        name = new string(name.Where(c => char.IsLetterOrDigit(c) || c == '_').ToArray());
        if (name.Length == 0 || char.IsDigit(name[0]))
        {
            name = "Model" + name;
        }

        return name;
    }

    private sealed class Reader
    {
        private readonly string path;
        private readonly string displayPath;
        private readonly string defaultNamespace;

        public Reader(string path, string displayPath, string defaultNamespace)
        {
            this.path = path;
            this.displayPath = displayPath;
            this.defaultNamespace = defaultNamespace;
        }

        public List<DiagnosticInfo> Diagnostics { get; } = new();

        public ParsedSpec Read(string? text, CancellationToken ct)
        {
            if (text is null)
            {
                Report(DiagnosticDescriptors.YamlSyntax, null, "the file could not be read");
                return Done(null);
            }

            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (YamlException ex)
            {
                var inner = ex;
                while (inner.InnerException is YamlException deeper)
                {
                    inner = deeper;
                }

                var message = inner.Message.Replace("\r", string.Empty).Replace("\n", " ");
                var location = Location(inner.Start, inner.End);
                var tab = FirstIndentingTab(text);
                if (tab is not null && message.IndexOf("tab", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    location = tab;
                    message += " (YAML does not allow tabs for indentation; use spaces)";
                }

                Report(DiagnosticDescriptors.YamlSyntax, location, message);
                return Done(null);
            }

            ct.ThrowIfCancellationRequested();
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            {
                Report(DiagnosticDescriptors.YamlSyntax, null, "the file holds no model (an empty document)");
                return Done(null);
            }

            if (stream.Documents.Count > 1)
            {
                Report(DiagnosticDescriptors.YamlSyntax, Location(stream.Documents[1].RootNode), "a spec file holds one model; split the documents into separate files");
            }

            if (stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(stream.Documents[0].RootNode), "the spec", "a mapping of settings (vocab: ..., context: ..., layers: ...)", Describe(stream.Documents[0].RootNode));
                return Done(null);
            }

            var builder = new SpecBuilder(defaultNamespace, ClassNameFromFile(path), SpecSource.Yaml, displayPath);
            builder.Set(SpecKeys.Declaration, "the spec", Location(root));
            ReadRoot(root, builder);
            return Done(Diagnostics.Count == 0 ? builder.Build() : null);
        }

        private ParsedSpec Done(ModelSpec? spec) => new(spec, Diagnostics.ToEquatableArray());

        private void ReadRoot(YamlMappingNode root, SpecBuilder b)
        {
            foreach (var (key, value) in Entries(root, RootKeys, "the spec"))
            {
                switch (key)
                {
                    case "name":
                        if (Text(value, key) is { } name)
                        {
                            if (IsIdentifier(name))
                            {
                                b.ClassName = name;
                            }
                            else
                            {
                                Report(DiagnosticDescriptors.InvalidName, Location(value), name, "class", IsKeyword(name) ? " (it is a keyword)" : string.Empty);
                            }
                        }

                        break;
                    case "namespace":
                        if (Text(value, key) is { } ns)
                        {
                            if (ns.Split('.').All(IsIdentifier))
                            {
                                b.Namespace = ns;
                            }
                            else
                            {
                                Report(DiagnosticDescriptors.InvalidName, Location(value), ns, "namespace", string.Empty);
                            }
                        }

                        break;
                    case "vocab":
                        b.Vocab = Int(value, key, b, SpecKeys.Vocab);
                        break;
                    case "context":
                        b.Context = Int(value, key, b, SpecKeys.Context);
                        break;
                    case "dropout":
                        b.Dropout = Double(value, key, b, SpecKeys.Dropout);
                        break;
                    case "embedding_dropout":
                        b.EmbeddingDropout = Double(value, key, b, SpecKeys.EmbeddingDropout);
                        break;
                    case "init":
                        b.Init = Enum(value, key, "initialisation", InitNames, b, SpecKeys.Init);
                        break;
                    case "embedding":
                        b.Set(SpecKeys.Embedding, "embedding", Location(value));
                        if (value is YamlMappingNode em)
                        {
                            foreach (var (k, v) in Entries(em, EmbeddingKeys, "embedding"))
                            {
                                b.Width = Int(v, "embedding." + k, b, SpecKeys.Width);
                            }
                        }
                        else
                        {
                            b.Width = Int(value, "embedding", b, SpecKeys.Width);
                        }

                        break;
                    case "positions":
                        ReadPositions(value, b);
                        break;
                    case "layers":
                        ReadLayers(value, b);
                        break;
                    case "final_norm":
                        ReadFinalNorm(value, b);
                        break;
                    case "head":
                        ReadHead(value, b);
                        break;
                    case "budget":
                        ReadBudget(value, b);
                        break;
                }
            }
        }

        private void ReadPositions(YamlNode value, SpecBuilder b)
        {
            b.Set(SpecKeys.Positions, "positions", Location(value));
            if (value is not YamlMappingNode map)
            {
                b.Positions = new PositionSpec(Enum(value, "positions", "position kind", PositionNames, b, SpecKeys.Positions), 0, 0);
                return;
            }

            var kind = PositionKind.None;
            int length = 0;
            double rope = 0;
            var hasKind = false;
            foreach (var (k, v) in Entries(map, PositionKeys, "positions"))
            {
                switch (k)
                {
                    case "kind":
                        kind = Enum(v, "positions.kind", "position kind", PositionNames, b, SpecKeys.Positions);
                        hasKind = true;
                        break;
                    case "length":
                        length = Int(v, "positions.length", b, SpecKeys.PositionsLength);
                        break;
                    case "base":
                        rope = Double(v, "positions.base", b, SpecKeys.RopeBase);
                        break;
                }
            }

            if (!hasKind)
            {
                Report(DiagnosticDescriptors.Missing, Location(map), "positions", "'kind'", "learned, sinusoidal, rope or none");
            }

            b.Positions = new PositionSpec(kind, length, rope);
        }

        private void ReadLayers(YamlNode value, SpecBuilder b)
        {
            if (value is not YamlSequenceNode seq)
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(value), "layers", "a list of layers (- flatten, - dense: ..., - transformer: ...)", Describe(value));
                return;
            }

            foreach (var item in seq.Children)
            {
                string kind;
                YamlNode? body;
                if (item is YamlScalarNode scalar)
                {
                    kind = scalar.Value ?? string.Empty;
                    body = null;
                }
                else if (item is YamlMappingNode m && m.Children.Count == 1)
                {
                    var entry = m.Children.First();
                    kind = (entry.Key as YamlScalarNode)?.Value ?? string.Empty;
                    body = entry.Value;
                }
                else
                {
                    Report(DiagnosticDescriptors.YamlWrongType, Location(item), "layers[" + b.Layers.Count + "]",
                        "one layer: a kind (flatten, dense, transformer) with its settings, e.g. '- dense: { units: 256 }'", Describe(item));
                    continue;
                }

                var index = b.Layers.Count;
                var display = "layers[" + index + "]";
                if (!LayerKinds.Contains(kind))
                {
                    Report(DiagnosticDescriptors.YamlUnknownValue, Location(item is YamlMappingNode mm ? mm.Children.First().Key : item), "layer kind", kind, string.Join(", ", LayerKinds));
                    continue;
                }

                var key = b.NextLayer(display + " (" + kind + ")", Location(item));
                switch (kind)
                {
                    case "flatten":
                        b.Layers.Add(new FlattenSpec(index, ReadFlatten(body, key, display, b)));
                        break;
                    case "dense":
                        b.Layers.Add(ReadDense(body, item, index, key, display, b));
                        break;
                    case "transformer":
                        b.Layers.Add(ReadTransformer(body, item, index, key, display, b));
                        break;
                }
            }
        }

        private int ReadFlatten(YamlNode? body, string key, string display, SpecBuilder b)
        {
            if (body is null || body is YamlScalarNode { Value: null or "" })
            {
                return 0;
            }

            if (body is YamlMappingNode map)
            {
                var window = 0;
                foreach (var (k, v) in Entries(map, FlattenKeys, display))
                {
                    window = Int(v, display + "." + k, b, key + ".window");
                }

                return window;
            }

            return Int(body, display + ".window", b, key + ".window");
        }

        private DenseSpec ReadDense(YamlNode? body, YamlNode item, int index, string key, string display, SpecBuilder b)
        {
            int units = 0;
            var act = Act.Relu;
            var bias = true;
            double dropout = -1;
            if (body is YamlMappingNode map)
            {
                foreach (var (k, v) in Entries(map, DenseKeys, display))
                {
                    var where = display + "." + k;
                    switch (k)
                    {
                        case "units": units = Int(v, where, b, key + ".units"); break;
                        case "activation": act = Enum(v, where, "activation", Activations, b, key + ".activation"); break;
                        case "bias": bias = Bool(v, where, b, key + ".bias"); break;
                        case "dropout": dropout = Double(v, where, b, key + ".dropout"); break;
                    }
                }
            }
            else if (body is not null)
            {
                units = Int(body, display + ".units", b, key + ".units");
            }

            if (!b.Has(key + ".units"))
            {
                Report(DiagnosticDescriptors.Missing, Location(item), display, "'units'", "the output width of the dense layer");
            }

            return new DenseSpec(index, units, act, bias, dropout);
        }

        private TransformerSpec ReadTransformer(YamlNode? body, YamlNode item, int index, string key, string display, SpecBuilder b)
        {
            int layers = 0, repeat = 0, heads = 0, ffnHidden = 0;
            double ffnMultiplier = 0, dropout = -1, ffnDropout = 0;
            var act = Act.Gelu;
            var norm = NormKind.LayerNorm;
            bool normBias = true, preNorm = true, packed = true, attnBias = true, ffnBias = true;
            if (body is YamlMappingNode map)
            {
                foreach (var (k, v) in Entries(map, TransformerKeys, display))
                {
                    var where = display + "." + k;
                    switch (k)
                    {
                        case "layers": layers = Int(v, where, b, key + ".layers"); break;
                        case "repeat": repeat = Int(v, where, b, key + ".repeat"); break;
                        case "heads": heads = Int(v, where, b, key + ".heads"); break;
                        case "ffn":
                            var text = (v as YamlScalarNode)?.Value?.Trim() ?? string.Empty;
                            if (text.EndsWith("x", StringComparison.OrdinalIgnoreCase))
                            {
                                ffnMultiplier = Double(v, where, b, key + ".ffn_multiplier", text.Substring(0, text.Length - 1));
                            }
                            else
                            {
                                ffnHidden = Int(v, where, b, key + ".ffn_hidden");
                            }

                            break;
                        case "ffn_hidden": ffnHidden = Int(v, where, b, key + ".ffn_hidden"); break;
                        case "ffn_multiplier":
                            var m = (v as YamlScalarNode)?.Value?.Trim() ?? string.Empty;
                            ffnMultiplier = Double(v, where, b, key + ".ffn_multiplier", m.EndsWith("x", StringComparison.OrdinalIgnoreCase) ? m.Substring(0, m.Length - 1) : null);
                            break;
                        case "activation": act = Enum(v, where, "activation", Activations, b, key + ".activation"); break;
                        case "norm": norm = Enum(v, where, "norm", NormNames, b, key + ".norm"); break;
                        case "norm_bias": normBias = Bool(v, where, b, key + ".norm_bias"); break;
                        case "pre_norm": preNorm = Bool(v, where, b, key + ".pre_norm"); break;
                        case "packed_qkv": packed = Bool(v, where, b, key + ".packed_qkv"); break;
                        case "attention_bias": attnBias = Bool(v, where, b, key + ".attention_bias"); break;
                        case "ffn_bias": ffnBias = Bool(v, where, b, key + ".ffn_bias"); break;
                        case "dropout": dropout = Double(v, where, b, key + ".dropout"); break;
                        case "ffn_dropout": ffnDropout = Double(v, where, b, key + ".ffn_dropout"); break;
                    }
                }
            }
            else
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(body ?? item), display, "the block settings (layers, heads, ...)", body is null ? "nothing" : Describe(body));
            }

            return new TransformerSpec(index, layers, repeat, heads, ffnHidden, ffnMultiplier, act, norm, normBias, preNorm, packed, attnBias, ffnBias, dropout, ffnDropout);
        }

        private void ReadFinalNorm(YamlNode value, SpecBuilder b)
        {
            b.Set(SpecKeys.FinalNorm, "final_norm", Location(value));
            if (value is YamlMappingNode map)
            {
                var kind = NormKind.None;
                var bias = true;
                foreach (var (k, v) in Entries(map, NormKeys, "final_norm"))
                {
                    if (k == "kind")
                    {
                        kind = Enum(v, "final_norm.kind", "norm", NormNames, b, SpecKeys.FinalNorm);
                    }
                    else
                    {
                        bias = Bool(v, "final_norm.bias", b, SpecKeys.FinalNorm + ".bias");
                    }
                }

                b.FinalNorm = new NormSpec(kind, bias);
                return;
            }

            b.FinalNorm = new NormSpec(Enum(value, "final_norm", "norm", NormNames, b, SpecKeys.FinalNorm), true);
        }

        private void ReadHead(YamlNode value, SpecBuilder b)
        {
            b.Set(SpecKeys.Head, "head", Location(value));
            if (value is YamlScalarNode scalar)
            {
                switch (scalar.Value?.Trim().ToLowerInvariant())
                {
                    case "tied":
                        b.Set(SpecKeys.HeadTied, "head", Location(value));
                        b.Head = new HeadSpec(true, false, 0);
                        return;
                    case "untied":
                    case "linear":
                        b.Head = HeadSpec.Default;
                        return;
                    case "bias":
                        b.Set(SpecKeys.HeadBias, "head", Location(value));
                        b.Head = new HeadSpec(false, true, 0);
                        return;
                    default:
                        Report(DiagnosticDescriptors.YamlUnknownValue, Location(value), "head", scalar.Value ?? string.Empty, "tied, untied, bias, or a mapping { tied, bias, rank }");
                        return;
                }
            }

            if (value is not YamlMappingNode map)
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(value), "head", "tied, untied, or a mapping { tied, bias, rank }", Describe(value));
                return;
            }

            bool tied = false, bias = false;
            var rank = 0;
            foreach (var (k, v) in Entries(map, HeadKeys, "head"))
            {
                switch (k)
                {
                    case "tied": tied = Bool(v, "head.tied", b, SpecKeys.HeadTied); break;
                    case "bias": bias = Bool(v, "head.bias", b, SpecKeys.HeadBias); break;
                    case "rank": rank = Int(v, "head.rank", b, SpecKeys.HeadRank); break;
                }
            }

            b.Head = new HeadSpec(tied, bias, rank);
        }

        private void ReadBudget(YamlNode value, SpecBuilder b)
        {
            b.Set(SpecKeys.Budget, "budget", Location(value));
            if (value is not YamlMappingNode map)
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(value), "budget", "a mapping of budgets (max_parameters: 12M, ...)", Describe(value));
                return;
            }

            long maxParams = 0, maxFwd = 0, tokens = 0, maxBytes = 0, maxKv = 0;
            double maxTrain = 0;
            foreach (var (k, v) in Entries(map, BudgetKeys, "budget"))
            {
                var where = "budget." + k;
                var key = SpecKeys.Budgets(k);
                switch (k)
                {
                    case "max_parameters": maxParams = Long(v, where, b, key); break;
                    case "max_forward_flops_per_token": maxFwd = Long(v, where, b, key); break;
                    case "max_training_flops": maxTrain = Double(v, where, b, key); break;
                    case "training_tokens": tokens = Long(v, where, b, key); break;
                    case "max_weight_bytes": maxBytes = Long(v, where, b, key); break;
                    case "max_kv_cache_bytes": maxKv = Long(v, where, b, key); break;
                }
            }

            b.Budget = new BudgetSpec(maxParams, maxFwd, maxTrain, tokens, maxBytes, maxKv);
        }

        // --- Scalars ----------------------------------------------------------------------------------

        private IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string[] allowed, string where)
        {
            var seen = new HashSet<string>();
            foreach (var entry in map.Children)
            {
                if (entry.Key is not YamlScalarNode { Value: { } name })
                {
                    Report(DiagnosticDescriptors.YamlWrongType, Location(entry.Key), where, "plain keys", Describe(entry.Key));
                    continue;
                }

                if (!allowed.Contains(name))
                {
                    Report(DiagnosticDescriptors.YamlUnknownKey, Location(entry.Key), name, where, string.Join(", ", allowed));
                    continue;
                }

                if (!seen.Add(name))
                {
                    Report(DiagnosticDescriptors.YamlSyntax, Location(entry.Key), $"the key '{name}' appears twice in {where}");
                    continue;
                }

                yield return (name, entry.Value);
            }
        }

        private string? Text(YamlNode node, string where)
        {
            if (node is YamlScalarNode { Value: { Length: > 0 } value })
            {
                return value.Trim();
            }

            Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "a name", Describe(node));
            return null;
        }

        private int Int(YamlNode node, string where, SpecBuilder b, string key)
        {
            var value = Long(node, where, b, key);
            if (value > int.MaxValue || value < int.MinValue)
            {
                Report(DiagnosticDescriptors.OutOfRange, Location(node), where, (node as YamlScalarNode)?.Value ?? value.ToString(), $"at most {Analysis.SpecValidator.MaxDimension:N0}");
                return 0;
            }

            return (int)value;
        }

        private long Long(YamlNode node, string where, SpecBuilder b, string key)
        {
            b.Set(key, where, Location(node));
            if (node is not YamlScalarNode { Value: { } text })
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "a whole number (128, 10_000, 12M)", Describe(node));
                return 0;
            }

            if (!HumanNumbers.TryParseWhole(text, out var value, out var problem))
            {
                if (problem == "too large")
                {
                    Report(DiagnosticDescriptors.OutOfRange, Location(node), where, text, "less than 9.2e18");
                }
                else
                {
                    Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "a whole number (128, 10_000, 12M)", $"'{text}' ({problem})");
                }

                return 0;
            }

            return value;
        }

        private double Double(YamlNode node, string where, SpecBuilder b, string key, string? textOverride = null)
        {
            b.Set(key, where, Location(node));
            if (node is not YamlScalarNode { Value: { } text })
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "a number", Describe(node));
                return 0;
            }

            if (!HumanNumbers.TryParse(textOverride ?? text, out var value))
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "a number (0.1, 1e15, 4x for a multiplier)", $"'{text}'");
                return 0;
            }

            return value;
        }

        private bool Bool(YamlNode node, string where, SpecBuilder b, string key)
        {
            b.Set(key, where, Location(node));
            switch ((node as YamlScalarNode)?.Value?.Trim().ToLowerInvariant())
            {
                case "true":
                case "yes":
                case "on":
                    return true;
                case "false":
                case "no":
                case "off":
                    return false;
                default:
                    Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "true or false", Describe(node));
                    return false;
            }
        }

        private T Enum<T>(YamlNode node, string where, string what, (string Name, T Value)[] names, SpecBuilder b, string key)
        {
            b.Set(key, where, Location(node));
            var text = (node as YamlScalarNode)?.Value?.Trim();
            if (text is null)
            {
                Report(DiagnosticDescriptors.YamlWrongType, Location(node), where, "a name (" + string.Join(", ", names.Select(n => n.Name).Distinct()) + ")", Describe(node));
                return names[0].Value;
            }

            foreach (var (name, value) in names)
            {
                if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }

            Report(DiagnosticDescriptors.YamlUnknownValue, Location(node), what, text, string.Join(", ", names.Select(n => n.Name)));
            return names[0].Value;
        }

        // --- Locations --------------------------------------------------------------------------------

        public void Report(DiagnosticDescriptor descriptor, LocationInfo? location, params object?[] args) =>
            Diagnostics.Add(DiagnosticInfo.Create(descriptor, location ?? FileStart(), args));

        /// <summary>The first tab in a line's leading white space, where YAML refuses it.</summary>
        private LocationInfo? FirstIndentingTab(string text)
        {
            var line = 0;
            var lineStart = 0;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '\n')
                {
                    line++;
                    lineStart = i + 1;
                }
                else if (c == '\t')
                {
                    var prefix = text.Substring(lineStart, i - lineStart);
                    if (prefix.Trim().Length == 0 || prefix.TrimEnd().EndsWith("-", StringComparison.Ordinal))
                    {
                        var pos = new LinePosition(line, i - lineStart);
                        return new LocationInfo(path, new TextSpan(i, 1), new LinePositionSpan(pos, new LinePosition(line, pos.Character + 1)));
                    }
                }
            }

            return null;
        }

        private LocationInfo FileStart() => new(path, new TextSpan(0, 0), new LinePositionSpan(LinePosition.Zero, LinePosition.Zero));

        private LocationInfo Location(YamlNode node) => Location(node.Start, node.End);

        private LocationInfo Location(Mark start, Mark end)
        {
            var s = (int)Math.Max(0, start.Index);
            var e = (int)Math.Max(s, end.Index);
            var startPos = new LinePosition((int)Math.Max(0, start.Line - 1), (int)Math.Max(0, start.Column - 1));
            var endPos = new LinePosition((int)Math.Max(0, end.Line - 1), (int)Math.Max(0, end.Column - 1));
            if (endPos < startPos)
            {
                endPos = startPos;
            }

            return new LocationInfo(path, TextSpan.FromBounds(s, e), new LinePositionSpan(startPos, endPos));
        }

        private static string Describe(YamlNode node) => node switch
        {
            YamlScalarNode { Value: null or "" } => "an empty value",
            YamlScalarNode s => $"'{s.Value}'",
            YamlSequenceNode => "a list",
            YamlMappingNode => "a mapping",
            _ => "a value",
        };

        private static bool IsIdentifier(string name) => SyntaxFacts.IsValidIdentifier(name) && !IsKeyword(name);

        private static bool IsKeyword(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None;
    }
}
