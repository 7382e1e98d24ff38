using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// Grammar-based fuzzing: names (keywords, contextual keywords, escapes, Unicode letters and marks, digits,
/// separators, line breaks, surrogate pairs, very long names) as YAML class names and namespaces, as C# class
/// names and namespaces, and as MSBuild RootNamespace; and YAML documents drawn from a grammar of block and
/// flow collections, anchors and aliases, quoting, comments, documents and every key of the schema. Every
/// round: no generator exception, no compiler error inside generated code, every diagnostic of a spec located
/// in its file, and a generated model's class named exactly as declared. Seeds are fixed.
/// </summary>
[HoldTensors]
public class GrammarFuzzTests
{
    private static readonly string[] Keywords = { "class", "namespace", "int", "string", "void", "event", "object", "base", "this", "new", "params", "operator" };
    private static readonly string[] Contextual = { "record", "required", "file", "scoped", "extension", "field", "var", "dynamic", "value", "async", "await", "partial", "global", "nameof", "when", "_" };
    private static readonly string[] Fragments = { "Model", "Gpt", "Linear", "Tensor", "Embedding", "torch", "nn", "SlmGen", "TorchSharp", "System", "Costs", "Logits", "wte", "Ελληνικά", "模型", "Ñandú", "x", "A1", "__", "e\u0301", "\u2028", " ", "-", ".", "😀", "\t", "\"", "'", "#", ":", "0" };

    public static TheoryData<int> Seeds() => new() { 31, 32, 33, 34 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Fuzzed_names_in_yaml_never_break_the_build(int seed)
    {
        var rng = new Random(seed);
        var specs = new List<(string, string)>();
        var declared = new Dictionary<string, string>();
        for (var i = 0; i < 150; i++)
        {
            var name = Name(rng);
            var ns = rng.Next(3) == 0 ? null : string.Join(".", Enumerable.Range(0, rng.Next(1, 4)).Select(_ => Name(rng)));
            var path = $"/fuzz/names/n{i}.yaml";
            declared[path] = name;
            specs.Add((path, $"name: {Quote(name)}\n" + (ns is null ? string.Empty : $"namespace: {Quote(ns)}\n") + "vocab: 16\ncontext: 4\nembedding: 8\n"));
        }

        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), specs, rng.Next(2) == 0 ? null : new Dictionary<string, string> { ["RootNamespace"] = Name(rng) });
        AssertSound(run, seed);
        Assert.Contains(run.Output.SyntaxTrees, t => t.FilePath.EndsWith(".Declaration.g.cs", StringComparison.Ordinal)); // some names pass
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "SLM0024");                                                   // and some do not
        foreach (var tree in run.Output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".Declaration.g.cs", StringComparison.Ordinal)))
        {
            var cls = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax>().Single();
            var text = tree.ToString();
            var path = text.Substring(text.IndexOf("YAML spec ", StringComparison.Ordinal) + "YAML spec ".Length).Split('\n')[0].TrimEnd('.', '\r');
            Assert.True(declared.ContainsKey(path), $"seed {seed}: unknown path {path}");
            Assert.Equal(declared[path].Trim().TrimStart('@'), cls.Identifier.ValueText); // surrounding white space is not part of a name
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Fuzzed_names_in_csharp_never_break_the_build(int seed)
    {
        var rng = new Random(seed);
        var source = new StringBuilder("using SlmGen;\n");
        var count = 0;
        for (var i = 0; i < 80; i++)
        {
            var name = Identifier(rng);
            var ns = string.Join(".", Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Identifier(rng)));
            source.Append($"namespace {ns} {{\n[Model(Vocab = 16, Context = 4)]\n[TokenEmbedding(Dim = 8)]\npublic partial class {name} {{ }}\n}}\n");
            count++;
        }

        var run = GeneratorRun.Of(new[] { ("/fuzz/Names.cs", source.ToString()) });
        Assert.Empty(run.Exceptions);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id is "CS8784" or "CS8785");
        var generatedErrors = run.CompileErrors.Where(d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true).ToList();
        Assert.True(generatedErrors.Count == 0, $"seed {seed}: {string.Join("\n", generatedErrors.Take(5))}");
        Assert.True(count > 0);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Fuzzed_yaml_documents_never_break_the_build(int seed)
    {
        var rng = new Random(seed);
        var specs = Enumerable.Range(0, 200).Select(i => ($"/fuzz/yaml/d{i}.yaml", Document(rng))).ToList();
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), specs);
        AssertSound(run, seed);
    }

    private static void AssertSound(GeneratorRun run, int seed)
    {
        Assert.Empty(run.Exceptions);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id is "CS8784" or "CS8785");
        var generatedErrors = run.CompileErrors.Where(d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true).ToList();
        Assert.True(generatedErrors.Count == 0, $"seed {seed}: generated code does not compile: {string.Join("\n", generatedErrors.Take(5))}");
        Assert.Empty(run.CompileErrors);
        foreach (var d in run.GeneratorDiagnostics.Where(d => d.Id.StartsWith("SLM00", StringComparison.Ordinal)))
        {
            Assert.StartsWith("/fuzz/", d.Location.GetLineSpan().Path);
        }
    }

    // --- Grammars ---------------------------------------------------------------------------------------

    private static string Name(Random rng)
    {
        switch (rng.Next(8))
        {
            case 0: return Keywords[rng.Next(Keywords.Length)];
            case 1: return "@" + Keywords[rng.Next(Keywords.Length)];
            case 2: return Contextual[rng.Next(Contextual.Length)];
            case 3: return new string('N', rng.Next(400, 700));
            default:
                var sb = new StringBuilder();
                for (var i = rng.Next(1, 5); i > 0; i--)
                {
                    sb.Append(Fragments[rng.Next(Fragments.Length)]);
                }

                return sb.ToString();
        }
    }

    /// <summary>Names the C# parser takes as an identifier token (so that the source itself parses).</summary>
    private static string Identifier(Random rng)
    {
        while (true)
        {
            var candidate = rng.Next(4) switch
            {
                0 => "@" + Keywords[rng.Next(Keywords.Length)],
                1 => Fragments[rng.Next(Fragments.Length)] + Fragments[rng.Next(Fragments.Length)],
                2 => "M" + rng.Next(1000).ToString(CultureInfo.InvariantCulture),
                _ => Fragments[rng.Next(Fragments.Length)],
            };
            var bare = candidate.TrimStart('@');
            if (SyntaxFacts.IsValidIdentifier(bare) && (candidate.StartsWith("@", StringComparison.Ordinal) || SyntaxFacts.GetKeywordKind(bare) == SyntaxKind.None)
                && !Contextual.Contains(bare) && bare != "SlmGen" && bare != "TorchSharp" && bare != "System")
            {
                return candidate;
            }
        }
    }

    private static string Quote(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\t' => "\\t",
                '\u2028' => "\\L",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }

    private static readonly string[] Keys = SlmGen.Generator.Model.SettingsTable.All.Select(s => s.Key).Distinct()
        .Concat(new[] { "flatten", "dense", "transformer", "kind", "unknown", "Vocab", "<<", "? x", "" }).ToArray();

    private static readonly string[] Scalars =
    {
        "0", "1", "-1", "4", "16", "65", "3.5", "1e3", "1e400", "12M", "64Ki", "9e18", "99999999999999999999", ".nan", ".inf", "-.inf", "0x10", "1_000",
        "4x", "0.5x", "true", "false", "yes", "null", "~", "", "tied", "rope", "learned", "gelu", "swiglu", "layernorm", "none", "'quoted'", "\"dq\"",
        "|\n  literal", ">\n  folded", "&a 3", "*a", "*missing", "!!str 5", "!custom x", "[]", "{}", "[1, [2, [3]]]", "{ a: { b: { c: d } } }",
    };

    private static string Document(Random rng)
    {
        var sb = new StringBuilder();
        if (rng.Next(10) == 0)
        {
            sb.Append("%YAML 1.2\n---\n");
        }

        Mapping(rng, sb, 0, rng.Next(1, 8), depth: 0);
        if (rng.Next(12) == 0)
        {
            sb.Append("---\n");
            Mapping(rng, sb, 0, 2, depth: 0);
        }

        if (rng.Next(15) == 0)
        {
            sb.Append(new string('[', rng.Next(20, 60)));
        }

        return sb.ToString();
    }

    private static void Mapping(Random rng, StringBuilder sb, int indent, int entries, int depth)
    {
        for (var i = 0; i < entries; i++)
        {
            sb.Append(' ', indent).Append(Keys[rng.Next(Keys.Length)]).Append(':');
            Value(rng, sb, indent, depth + 1);
            if (rng.Next(8) == 0)
            {
                sb.Append(' ', indent).Append("# a comment\n");
            }
        }
    }

    private static void Value(Random rng, StringBuilder sb, int indent, int depth)
    {
        var choice = depth > 36 ? 0 : rng.Next(6);
        switch (choice)
        {
            case 0:
            case 1:
                var scalar = Scalars[rng.Next(Scalars.Length)];
                sb.Append(scalar.Length == 0 ? string.Empty : " " + scalar.Replace("\n", "\n" + new string(' ', indent))).Append('\n');
                break;
            case 2:
                sb.Append(rng.Next(4) == 0 ? " &a\n" : "\n");
                Mapping(rng, sb, indent + 2, rng.Next(1, 4), depth);
                break;
            case 3:
                sb.Append('\n');
                for (var i = rng.Next(1, 4); i > 0; i--)
                {
                    sb.Append(' ', indent + 2).Append("- ").Append(Keys[rng.Next(Keys.Length)]).Append(':');
                    Value(rng, sb, indent + 4, depth + 1);
                }

                break;
            default:
                sb.Append(' ').Append(Flow(rng, depth)).Append('\n');
                break;
        }
    }

    private static string Flow(Random rng, int depth)
    {
        if (depth > 40 || rng.Next(3) == 0)
        {
            var s = Scalars[rng.Next(Scalars.Length)];
            return s.Contains('\n', StringComparison.Ordinal) || s.Length == 0 ? "x" : s;
        }

        return rng.Next(2) == 0
            ? "[" + string.Join(", ", Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Flow(rng, depth + 1))) + "]"
            : "{ " + string.Join(", ", Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Keys[rng.Next(Keys.Length)].Replace("? ", string.Empty) + ": " + Flow(rng, depth + 1))) + " }";
    }
}
