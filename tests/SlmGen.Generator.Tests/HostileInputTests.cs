using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// A corpus of hostile inputs — names, namespaces, user types that shadow every short name generated code
/// could use, class shapes, YAML structure and depth, numbers, budgets, file names and MSBuild properties.
/// Each runs next to a valid attributed model and a valid YAML model, and must give: no generator exception
/// (CS8784/CS8785), no compiler error inside generated code, the expected SLM diagnostic at the expected
/// file and line (or, for a valid input, its model), and both neighbours generated.
/// </summary>
[HoldTensors]
public class HostileInputTests
{
    private const string Usings = "using SlmGen;\n";

    /// <summary>What a case must produce.</summary>
    /// <param name="Id">The SLM diagnostic expected, or null for a valid input whose model must be generated.</param>
    /// <param name="File">Where the diagnostic must be (its path); null: anywhere.</param>
    /// <param name="Line">Its 1-based line; 0: any.</param>
    /// <param name="Model">For a valid input, the full name of the model that must be generated.</param>
    /// <param name="UserErrors">True when the C# compiler itself rejects the user's code too (at the user's code).</param>
    public sealed record Case(
        string Name,
        (string Path, string Text)[] Sources,
        (string Path, string Yaml)[] Specs,
        string? Id,
        string? File,
        int Line,
        string? Model,
        bool UserErrors = false,
        Dictionary<string, string>? Properties = null)
    {
        public override string ToString() => Name;
    }

    private static readonly Dictionary<string, Case> Corpus = Build().ToDictionary(c => c.Name);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Corpus.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void The_corpus_has_at_least_100_inputs() => Assert.True(Corpus.Count >= 100, $"{Corpus.Count} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_hostile_input_gets_its_diagnostic_and_harms_no_neighbour(string name)
    {
        var c = Corpus[name];
        var sources = c.Sources.Append(("/n/Neighbour.cs", Usings + """
            namespace Neighbours;
            [Model(Vocab = 32, Context = 8)]
            [TokenEmbedding(Dim = 16)]
            [Positions(PositionKind.Learned)]
            [TransformerBlocks(Layers = 1, Heads = 2)]
            [LMHead(TiedToEmbedding = true)]
            public partial class AttributeNeighbour { }
            """));
        var specs = c.Specs.Append(("/n/specs/yaml-neighbour.yaml", "namespace: Neighbours\nvocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - dense: 8\n"));
        var run = GeneratorRun.Of(sources, specs, c.Properties);

        Assert.Empty(run.Exceptions);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id is "CS8784" or "CS8785");
        var inGenerated = run.CompileErrors.Where(d => d.Location.SourceTree is { } tree && !c.Sources.Any(s => s.Path == tree.FilePath) && tree.FilePath != "/n/Neighbour.cs").ToList();
        Assert.True(inGenerated.Count == 0, $"{name}: errors in generated code: {string.Join("\n", inGenerated.Take(5))}");
        if (!c.UserErrors)
        {
            Assert.True(run.CompileErrors.Count == 0, $"{name}: compile errors: {string.Join("\n", run.CompileErrors.Take(5))}");
        }

        Assert.True(run.Declares("Neighbours.AttributeNeighbour"), $"{name}: the attribute neighbour was not generated");
        Assert.True(run.Declares("Neighbours.YamlNeighbour"), $"{name}: the YAML neighbour was not generated");

        if (c.Id is null)
        {
            var errors = run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, $"{name}: unexpected {string.Join("; ", errors)}");
            Assert.True(run.Declares(c.Model!), $"{name}: {c.Model} was not generated; generated {string.Join(", ", run.HintNames)}");
            return;
        }

        var found = run.GeneratorDiagnostics.Where(d => d.Id == c.Id).ToList();
        Assert.True(found.Count > 0, $"{name}: expected {c.Id}, got {string.Join("; ", run.GeneratorDiagnostics)}");
        if (c.File is not null)
        {
            Assert.Contains(found, d => d.Location.GetLineSpan().Path == c.File && (c.Line == 0 || d.Location.GetLineSpan().StartLinePosition.Line + 1 == c.Line));
        }
    }

    // --- The corpus -----------------------------------------------------------------------------------

    private const string Body = "[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 1, Heads = 2)]\n[LMHead(TiedToEmbedding = true)]\n";

    private static Case Valid(string name, string ns, string cls, string extra = "", bool userErrors = false, string decl = "public partial class") =>
        new(name, new[] { ("/u/Model.cs", Usings + (ns.Length > 0 ? $"namespace {ns};\n" : string.Empty) + extra + "\n[Model(Vocab = 32, Context = 8)]\n" + Body + $"{decl} {cls} {{ }}\n") },
            Array.Empty<(string, string)>(), null, null, 0, Unescape(ns.Length > 0 ? ns + "." + cls : cls), userErrors);

    /// <param name="line">The line in <paramref name="source"/> (the using line before it is counted here).</param>
    private static Case AttributeError(string name, string source, string id, int line, bool userErrors = false) =>
        new(name, new[] { ("/u/Model.cs", Usings + source) }, Array.Empty<(string, string)>(), id, "/u/Model.cs", line + 1, null, userErrors);

    private static Case ValidSource(string name, string source, string model) =>
        new(name, new[] { ("/u/Model.cs", Usings + source) }, Array.Empty<(string, string)>(), null, null, 0, model);

    private static Case Yaml(string name, string yaml, string? id, int line, string? model = null, string path = "/u/specs/spec.yaml", Dictionary<string, string>? properties = null) =>
        new(name, Array.Empty<(string, string)>(), new[] { (path, yaml) }, id, id is null ? null : path, line, model, false, properties);

    private static string Unescape(string name) => string.Join(".", name.Split('.').Select(p => p.TrimStart('@')));

    private const string YamlModel = "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: { layers: 1, heads: 2 }\nhead: tied\n";

    private static IEnumerable<Case> Build()
    {
        // 1. Model names that are C# or TorchSharp/SlmGen names (attributes): valid, fully qualified code keeps them apart.
        foreach (var cls in new[] { "Linear", "Embedding", "Tensor", "Module", "SlmModel", "ModelCost", "ComponentCost", "Dense", "TransformerBlock", "Act", "NormKind", "InitScheme", "torch", "nn", "Enumerable", "DisposeScope", "ModuleList", "Dropout", "LayerNorm", "RmsNorm", "TiedHead", "PositionIds", "ModuleStack", "@class", "@int", "@namespace", "Ελληνικό", "模型", "_x", "Catalog", "Declaration", "GeneratedCode" })
        {
            yield return Valid("class " + cls, "Acme.Models", cls);
        }

        // 2. Namespaces that shadow the roots generated code uses, or are keywords.
        foreach (var ns in new[] { "Acme.TorchSharp", "Acme.SlmGen", "Acme.System", "Acme.Layers", "Acme.Modules", "@namespace.Models", "@class", "TorchSharp.Models", "SlmGen.Models", "SlmGen", "System.Models", "Acme.torch.nn" })
        {
            yield return Valid("namespace " + ns, ns, "Small");
        }

        yield return Valid("global namespace", string.Empty, "GlobalModel");
        yield return Valid("lower-case name", "Acme", "tiny", userErrors: false);

        // 3. User types beside the model that shadow every short name the generated code could use.
        foreach (var type in new[] { "Tensor", "Embedding", "Linear", "Dense", "Dropout", "LayerNorm", "RmsNorm", "ModuleList<T>", "TransformerBlock", "ContextFlatten", "TiedHead", "FactorizedHead", "SinusoidalPositions", "PositionIds", "ModelCost", "ComponentCost", "SlmModel", "Act", "NormKind", "InitScheme", "Enumerable", "DisposeScope", "torch", "nn", "Math", "Object", "GeneratedCodeAttribute", "ModelDescriptor", "ModuleStack" })
        {
            yield return Valid("user type " + type, "Acme.Shadows", "Shadowed", extra: $"public class {type} {{ }}");
        }

        yield return ValidSource("user namespaces TorchSharp, SlmGen and System inside",
            "namespace Acme.TorchSharp { public class torch { } }\nnamespace Acme.SlmGen { public class Layers { } }\nnamespace Acme.System { public class CodeDom { } }\n" +
            $"namespace Acme {{\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class Inner {{ }}\n}}\n", "Acme.Inner");
        yield return Valid("user extension methods named like tensor calls", "Acme.Ext", "Extended",
            extra: "public static class E { public static int call(this object o, object x) => 0; public static int select(this object o, int a, int b) => 0; public static int MoveToOuter(this object o, object t) => 0; }");

        // 4. Names C# refuses or that would capture generated references.
        foreach (var cls in new[] { "required", "file", "scoped", "record", "var", "dynamic" })
        {
            yield return AttributeError("class name " + cls, $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class {cls} {{ }}\n", "SLM0024", 6, userErrors: true);
        }

        foreach (var cls in new[] { "ParameterCount", "Costs", "Cost", "Logits", "Fingerprint", "wte", "blocks", "lm_head" })
        {
            yield return AttributeError("class named like a generated member " + cls, $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class {cls} {{ }}\n", "SLM0024", 2);
        }

        yield return AttributeError("300-character name", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class {new string('M', 300)} {{ }}\n", "never", 0) with { Id = null, File = null, Model = "Acme." + new string('M', 300) };
        yield return AttributeError("600-character name", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class {new string('M', 600)} {{ }}\n", "SLM0024", 6, userErrors: true);

        // 5. Two models whose names differ only in case, and file-name collisions of the past.
        yield return new Case("names differing in case", new[] { ("/u/Model.cs", Usings + $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class Foo {{ }}\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class foo {{ }}\n") },
            Array.Empty<(string, string)>(), null, null, 0, "Acme.foo");
        yield return new Case("Declaration beside its namesake", Array.Empty<(string, string)>(),
            new[] { ("/u/specs/foo.yaml", "name: Foo\nnamespace: M\n" + YamlModel), ("/u/specs/declaration.yaml", "name: Declaration\nnamespace: M.Foo\n" + YamlModel) }, "SLM0024", "/u/specs/foo.yaml", 1, null);
        yield return new Case("Declaration beside its namesake, other namespace", Array.Empty<(string, string)>(),
            new[] { ("/u/specs/foo.yaml", "name: Foo\nnamespace: M\n" + YamlModel), ("/u/specs/declaration.yaml", "name: Declaration\nnamespace: M.Bar\n" + YamlModel) }, null, null, 0, "M.Foo.Declaration".Replace("Foo", "Bar"));
        yield return Valid("model Catalog in namespace SlmGen", "SlmGen", "Catalog");
        yield return new Case("YAML names differing in case", Array.Empty<(string, string)>(),
            new[] { ("/u/specs/a.yaml", "name: Abc\n" + YamlModel), ("/u/specs/b.yaml", "name: ABC\n" + YamlModel) }, null, null, 0, "Test.Models.ABC");

        // 5b. Names written with Unicode escapes are the names they spell; formatting characters C# ignores make no new name.
        yield return ValidSource("class name with a Unicode escape", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class M\\u00f6del1 {{ }}\n", "Acme.M\u00f6del1");
        yield return ValidSource("keyword written with an escape", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class @\\u0069nt {{ }}\n", "Acme.int");
        yield return new Case("YAML names differing by a soft hyphen", Array.Empty<(string, string)>(),
            new[] { ("/u/specs/a.yaml", "name: Model\n" + YamlModel), ("/u/specs/b.yaml", "name: \"Mo\\u00ADdel\"\n" + YamlModel) }, "SLM0011", "/u/specs/b.yaml", 0, null);
        yield return new Case("YAML names differing by a zero-width joiner", Array.Empty<(string, string)>(),
            new[] { ("/u/specs/a.yaml", "name: Zed\n" + YamlModel), ("/u/specs/b.yaml", "name: \"Z\\u200Ded\"\n" + YamlModel) }, "SLM0011", "/u/specs/b.yaml", 0, null);

        // 5c. Derived figures that would be infinite or saturate, and settings that would be silently ignored.
        yield return Yaml("denormal characters per token", YamlModel + "budget: { training_characters: 1000, characters_per_token: 5e-324 }\n", "SLM0003", 7);
        yield return Yaml("characters per token of zero point zero zero zero one", YamlModel + "budget: { training_characters: 1000, characters_per_token: 0.0001 }\n", "SLM0003", 7);
        yield return Yaml("character budget beyond 64-bit tokens", YamlModel + "budget: { training_characters: 9000000000000000000, characters_per_token: 0.001, max_training_flops: 1e20 }\n", "SLM0003", 7);
        yield return Yaml("heads_last on a one-block stack", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: { layers: 1, heads: 2, heads_last: 4 }\nhead: tied\n", "SLM0018", 5);
        yield return Yaml("ffn_hidden_last on a one-block stack", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: { layers: 1, heads: 2, ffn_hidden_last: 64 }\nhead: tied\n", "SLM0018", 5);
        yield return ValidSource("HeadsPerBlock = null, the property's default", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 2, Heads = 2, HeadsPerBlock = null)]\n[LMHead(TiedToEmbedding = true)]\npublic partial class NullList { }\n", "Acme.NullList");

        // 6. Class shapes.
        yield return AttributeError("record", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial record R {{ }}\n", "SLM0001", 6);
        yield return AttributeError("record struct", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial record struct R {{ }}\n", "SLM0001", 6, userErrors: true);
        yield return AttributeError("struct", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial struct S {{ }}\n", "SLM0001", 6, userErrors: true);
        yield return AttributeError("interface", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial interface I {{ }}\n", "SLM0001", 6, userErrors: true);
        yield return AttributeError("primary constructor", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class P(int size) {{ public int Size => size; }}\n", "SLM0001", 6);
        yield return AttributeError("not partial", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public class NotPartial {{ }}\n", "SLM0001", 6);
        yield return AttributeError("static", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public static partial class S {{ }}\n", "SLM0001", 6);
        yield return AttributeError("abstract", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public abstract partial class A {{ }}\n", "SLM0001", 6);
        yield return AttributeError("generic", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class G<T> {{ }}\n", "SLM0001", 6);
        yield return AttributeError("nested", $"namespace Acme;\npublic partial class Outer {{\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class Inner {{ }}\n}}\n", "SLM0001", 7);
        yield return AttributeError("file-local", $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}file partial class F {{ }}\n", "SLM0001", 6);
        yield return AttributeError("derives from another class", $"namespace Acme;\npublic class Base {{ }}\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class D : Base {{ }}\n", "SLM0001", 7);
        yield return Valid("derives from SlmModel", "Acme", "Derived", decl: "public partial class Derived : global::SlmGen.SlmModel { }\npublic partial class");
        yield return Valid("internal sealed", "Acme", "Sealed", decl: "internal sealed partial class");
        yield return Valid("implements an interface", "Acme", "WithInterface", extra: "public interface IMarker { }", decl: "public partial class WithInterface : IMarker { }\npublic partial class");

        // 7. Attributes in the wrong place.
        yield return AttributeError("layer attributes without [Model]", "namespace Acme;\n[TokenEmbedding(Dim = 16)]\n[Dense(8)]\npublic partial class NoModel { }\n", "SLM0014", 2);
        yield return AttributeError("budget without [Model]", "namespace Acme;\n[Budget(MaxParameters = 10)]\npublic class NoModel { }\n", "SLM0014", 2);
        yield return new Case("layer attributes on two partial declarations",
            new[] { ("/u/A.cs", Usings + "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\npublic partial class Split { }\n"), ("/u/B.cs", Usings + "namespace Acme;\n[Dense(8)]\npublic partial class Split { }\n") },
            Array.Empty<(string, string)>(), "SLM0015", "/u/B.cs", 3, null);
        foreach (var member in new[] { "public const long ParameterCount = 1;", "public static int Costs => 1;", "public int Logits() => 1;", "private int wte;", "private int lm_head;", "public int SpecFingerprint;", "public Clash() { }", "private int blocks;" })
        {
            yield return AttributeError("member clash " + member, $"namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n{Body}public partial class Clash {{\n    {member}\n}}\n", "SLM0016", 7);
        }

        yield return Valid("harmless user members", "Acme", "Friendly", decl: "public partial class Friendly { public Friendly(int seed) : this() { } public string Describe() => nameof(Friendly); }\npublic partial class");

        // 8. Settings out of range or contradicting (attributes).
        yield return AttributeError("missing vocab", $"namespace Acme;\n[Model(Context = 8)]\n{Body}public partial class M {{ }}\n", "SLM0002", 2);
        yield return AttributeError("heads do not divide", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 1, Heads = 3)]\npublic partial class M { }\n", "SLM0004", 4);
        yield return AttributeError("FFN multiplier rounds to 0", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 1, Heads = 2, FfnMultiplier = 1e-8)]\npublic partial class M { }\n", "SLM0003", 4);
        yield return AttributeError("negative dense", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[Dense(-5)]\npublic partial class M { }\n", "SLM0003", 4);
        yield return AttributeError("explicit dropout -1", "namespace Acme;\n[Model(Vocab = 32, Context = 8, EmbeddingDropout = -1)]\n[TokenEmbedding(Dim = 16)]\npublic partial class M { }\n", "SLM0003", 2);
        yield return AttributeError("dropout NaN", "namespace Acme;\n[Model(Vocab = 32, Context = 8, Dropout = double.NaN)]\n[TokenEmbedding(Dim = 16)]\npublic partial class M { }\n", "SLM0003", 2);
        yield return AttributeError("undefined enum", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[Dense(8, Activation = (Act)42)]\npublic partial class M { }\n", "SLM0003", 4);
        yield return AttributeError("blocks after flatten", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[ContextFlatten]\n[TransformerBlocks(Layers = 1, Heads = 2)]\npublic partial class M { }\n", "SLM0010", 5);
        yield return AttributeError("costs overflow", "namespace Acme;\n[Model(Vocab = 16000000, Context = 16000000)]\n[TokenEmbedding(Dim = 16000000)]\n[TransformerBlocks(Layers = 100000, Heads = 1)]\npublic partial class M { }\n", "SLM0009", 2);
        yield return AttributeError("training budget overflows decimal", "namespace Acme;\n[Model(Vocab = 50000, Context = 4096)]\n[TokenEmbedding(Dim = 4096)]\n[TransformerBlocks(Layers = 64, Heads = 32)]\n[Budget(MaxTrainingFlops = 1e20, TrainingTokens = 9_000_000_000_000_000_000)]\npublic partial class M { }\n", "SLM0102", 2);
        yield return AttributeError("negative budget", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[Budget(MaxParameters = -1)]\npublic partial class M { }\n", "SLM0003", 4);
        yield return AttributeError("attribute argument of the wrong type", "namespace Acme;\n[Model(Vocab = \"many\", Context = 8)]\n[TokenEmbedding(Dim = 16)]\npublic partial class M { }\n", "SLM0002", 2, userErrors: true);
        yield return ValidSource("per-position dense before a flatten",
            "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[Dense(24)]\n[ContextFlatten(Window = 4)]\n[Dense(8)]\npublic partial class DenseFirst { }\n", "Acme.DenseFirst");

        // 9. YAML structure.
        yield return Yaml("valid YAML", YamlModel, null, 0, "Test.Models.Spec");
        yield return Yaml("block nesting 100,000 deep", "vocab: 32\nlayers:\n" + string.Concat(Enumerable.Range(0, 100_000).Select(i => new string(' ', 2 + (i % 60)) + "- \n")), "SLM0020", 0);
        yield return Yaml("flow nesting 100,000 deep", "vocab: " + new string('[', 100_000) + new string(']', 100_000) + "\n", "SLM0020", 1);
        yield return Yaml("flow mappings 100,000 deep", "vocab: " + string.Concat(Enumerable.Repeat("{a: ", 100_000)) + "1" + new string('}', 100_000) + "\n", "SLM0020", 1);
        yield return Yaml("nesting 40 deep", "vocab: " + new string('[', 40) + new string(']', 40) + "\n", "SLM0020", 1);
        yield return Yaml("alias cycle", "vocab: 32\ncontext: 8\nembedding: 16\nlayers: &a\n  - *a\n", "SLM0020", 5);
        yield return Yaml("complex key", "? [a, b]\n: 1\nvocab: 32\n", "SLM0020", 1);
        yield return Yaml("anchors reused", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - dense: &d { units: 8 }\n  - dense: *d\n", null, 0, "Test.Models.Spec");
        yield return Yaml("many aliases", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - &l { dense: 16 }\n" + string.Concat(Enumerable.Repeat("  - *l\n", 500)), null, 0, "Test.Models.Spec");
        yield return Yaml("two documents", YamlModel + "---\n" + YamlModel, "SLM0020", 8);
        yield return Yaml("empty file", string.Empty, "SLM0020", 1);
        yield return Yaml("only a comment", "# nothing\n", "SLM0020", 1);
        yield return Yaml("a list at the root", "- vocab: 32\n", "SLM0022", 1);
        yield return Yaml("a scalar at the root", "hello\n", "SLM0022", 1);
        yield return Yaml("tab indentation", "vocab: 32\nlayers:\n\t- dense: 8\n", "SLM0020", 3);
        yield return Yaml("unclosed flow", "vocab: [\n", "SLM0020", 0);
        yield return Yaml("duplicate key", "vocab: 32\nvocab: 33\ncontext: 8\nembedding: 16\n", "SLM0020", 0);
        yield return Yaml("unknown key", "vocab: 32\ncontext: 8\nembedding: 16\nvocabulary: 3\n", "SLM0021", 4);
        yield return Yaml("unknown layer kind", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - lstm: 3\n", "SLM0023", 5);
        yield return Yaml("layer with two kinds", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - { dense: 8, flatten: 2 }\n", "SLM0022", 5);
        yield return Yaml("UTF-8 BOM and CRLF", "\uFEFFvocab: 32\r\ncontext: 8\r\nembedding: 16\r\n", null, 0, "Test.Models.Spec");
        yield return Yaml("unicode in values", "vocab: 32\ncontext: 8\nembedding: 16\nhead: ťied\n", "SLM0023", 4);
        yield return Yaml("very long value", "vocab: 32\ncontext: 8\nembedding: 16\nhead: " + new string('x', 100_000) + "\n", "SLM0023", 4);
        yield return Yaml("2,000 layers", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n" + string.Concat(Enumerable.Repeat("  - dense: 16\n", 2_000)), null, 0, "Test.Models.Spec");

        // 10. YAML numbers and validation holes.
        yield return Yaml("dropout -1", "vocab: 32\ncontext: 8\nembedding: 16\ndropout: -1\n", "SLM0003", 4);
        yield return Yaml("embedding_dropout -1", "vocab: 32\ncontext: 8\nembedding: 16\nembedding_dropout: -1\n", "SLM0003", 4);
        yield return Yaml("dense dropout -1", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - dense: { units: 8, dropout: -1 }\n", "SLM0003", 5);
        yield return Yaml("ffn and ffn_multiplier", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: { layers: 1, heads: 2, ffn: 4x, ffn_multiplier: 2 }\n", "SLM0012", 5);
        yield return Yaml("ffn and ffn_hidden", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: { layers: 1, heads: 2, ffn: 64, ffn_hidden: 256 }\n", "SLM0012", 5);
        yield return Yaml("ffn multiplier rounding to 0", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: { layers: 1, heads: 2, ffn: 0.00000001x }\n", "SLM0003", 5);
        yield return Yaml("NaN", "vocab: 32\ncontext: 8\nembedding: 16\ndropout: .nan\n", "SLM0022", 4);
        yield return Yaml("infinity", "vocab: 32\ncontext: 8\nembedding: 16\nbudget: { max_training_flops: .inf }\n", "SLM0022", 4);
        yield return Yaml("1e400", "vocab: 32\ncontext: 8\nembedding: 16\nbudget: { max_training_flops: 1e400 }\n", "SLM0022", 4);
        yield return Yaml("huge whole number", "vocab: 99999999999999999999999\ncontext: 8\nembedding: 16\n", "SLM0003", 1);
        yield return Yaml("vocab over int", "vocab: 3000000000\ncontext: 8\nembedding: 16\n", "SLM0003", 1);
        yield return Yaml("negative context", "vocab: 32\ncontext: -8\nembedding: 16\n", "SLM0003", 2);
        yield return Yaml("fractional units", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - dense: 8.5\n", "SLM0022", 5);
        yield return Yaml("training tokens 9e18", "vocab: 50000\ncontext: 4096\nembedding: 4096\nlayers:\n  - transformer: { layers: 64, heads: 32 }\nbudget: { max_training_flops: 1e20, training_tokens: 9e18 }\n", "SLM0102", 1);
        yield return Yaml("cost overflow", "vocab: 16M\ncontext: 16M\nembedding: 16M\nlayers:\n  - transformer: { layers: 100000, heads: 1 }\n", "SLM0009", 1);
        yield return Yaml("flatten wider than context", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - flatten: 9\n", "SLM0008", 5);
        yield return Yaml("rope without attention", "vocab: 32\ncontext: 8\nembedding: 16\npositions: rope\n", "SLM0012", 4);
        yield return Yaml("odd rope head", "vocab: 32\ncontext: 8\nembedding: 18\npositions: rope\nlayers:\n  - transformer: { layers: 1, heads: 2 }\n", "SLM0005", 6);
        yield return Yaml("tied head after a dense", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - dense: 8\nhead: tied\n", "SLM0007", 6);

        // 11. Names and namespaces in YAML, file names, RootNamespace.
        foreach (var bad in new[] { "required", "file", "scoped", "extension", "class", "1abc", "a-b", "a b", "Costs", "Logits" })
        {
            yield return Yaml("YAML name " + bad, $"name: \"{bad}\"\n" + YamlModel, "SLM0024", 1);
        }

        yield return Yaml("YAML name @class", "name: \"@class\"\n" + YamlModel, null, 0, "Test.Models.class");
        yield return Yaml("YAML namespace @namespace.Models", "namespace: \"@namespace.Models\"\n" + YamlModel, null, 0, "namespace.Models.Spec");
        yield return Yaml("YAML namespace with a keyword", "namespace: namespace.Models\n" + YamlModel, "SLM0024", 1);
        yield return Yaml("YAML namespace with a dash", "namespace: My-App\n" + YamlModel, "SLM0024", 1);
        yield return Yaml("YAML model System in the global namespace", "name: System\nnamespace: \"\"\n" + YamlModel, "SLM0022", 2);
        yield return Yaml("YAML model Layers in SlmGen", "name: Layers\nnamespace: SlmGen\n" + YamlModel, "SLM0024", 1);
        yield return Yaml("YAML model TorchSharp.torch", "name: torch\nnamespace: TorchSharp\n" + YamlModel, "SLM0024", 1);
        yield return Yaml("file name with U+2028", YamlModel, null, 0, "Test.Models.Linesep", path: "/u/specs/line\u2028sep.yaml");
        yield return Yaml("file name with quotes and backslashes", YamlModel, null, 0, "Test.Models.Quotenamex", path: "/u/specs/quote\"name\\x.yaml");
        yield return Yaml("file name with spaces", YamlModel, null, 0, "Test.Models.MySmallModel", path: "/u/specs/my small model.yaml");
        yield return Yaml("file name of 300 characters", YamlModel, null, 0, "Test.Models.A" + new string('b', 299), path: "/u/specs/a" + new string('b', 299) + ".yaml");
        yield return Yaml("file name starting with a digit", YamlModel, null, 0, "Test.Models.Model2Layer", path: "/u/specs/2-layer.yaml");
        yield return Yaml("file name of symbols only", YamlModel, null, 0, "Test.Models.Model", path: "/u/specs/---.yaml");
        yield return Yaml("file name with non-Latin letters", YamlModel, null, 0, "Test.Models.Модель", path: "/u/specs/модель.yaml");
        yield return Yaml("RootNamespace with a dash", YamlModel, "SLM0024", 1, properties: new() { ["RootNamespace"] = "My-App" });
        yield return Yaml("RootNamespace that is a keyword", YamlModel, "SLM0024", 1, properties: new() { ["RootNamespace"] = "My.class" });
        yield return Yaml("RootNamespace escaped", YamlModel, null, 0, "My.class.Spec", properties: new() { ["RootNamespace"] = "My.@class" });
        yield return Yaml("RootNamespace with a dash but the spec names its namespace", "namespace: Fine\n" + YamlModel, null, 0, "Fine.Spec", properties: new() { ["RootNamespace"] = "My-App" });

        // 12. The compact-model levers: bad combinations, located.
        const string Blocks = "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: ";
        yield return Yaml("kv_heads not dividing heads", Blocks + "{ layers: 1, heads: 4, kv_heads: 3 }\n", "SLM0017", 5);
        yield return Yaml("kv_heads above heads", Blocks + "{ layers: 1, heads: 2, kv_heads: 4 }\n", "SLM0003", 5);
        yield return Yaml("kv_heads 0", Blocks + "{ layers: 1, heads: 2, kv_heads: 0 }\n", "SLM0003", 5);
        yield return Yaml("heads list of the wrong length", Blocks + "{ layers: 3, heads: [1, 2] }\n", "SLM0003", 5);
        yield return Yaml("heads list with a bad entry", Blocks + "{ layers: 2, heads: [2, x] }\n", "SLM0022", 5);
        yield return Yaml("heads list and heads_last", Blocks + "{ layers: 2, heads: [2, 4], heads_last: 8 }\n", "SLM0012", 5);
        yield return Yaml("interpolated heads not dividing the width", Blocks + "{ layers: 3, heads: 1, heads_last: 5 }\n", "SLM0004", 5);
        yield return Yaml("interpolated heads with a head size", Blocks + "{ layers: 3, heads: 1, heads_last: 5, head_dim: 8 }\n", null, 0, "Test.Models.Spec");
        yield return Yaml("ffn list mixing multipliers and widths", Blocks + "{ layers: 2, heads: 2, ffn: [2x, 64] }\n", "SLM0012", 5);
        yield return Yaml("ffn list and ffn_last", Blocks + "{ layers: 2, heads: 2, ffn: [2x, 4x], ffn_last: 8x }\n", "SLM0012", 5);
        yield return Yaml("ffn_last twice", Blocks + "{ layers: 2, heads: 2, ffn_last: 8x, ffn_hidden_last: 64 }\n", "SLM0012", 5);
        yield return Yaml("ffn multiplier with a width to interpolate to", Blocks + "{ layers: 2, heads: 2, ffn: 2x, ffn_hidden_last: 64 }\n", "SLM0012", 5);
        yield return Yaml("lora without sharing", Blocks + "{ layers: 2, heads: 2, lora_rank: 4 }\n", "SLM0012", 5);
        yield return Yaml("block_repeat 0", Blocks + "{ layers: 2, heads: 2, block_repeat: 0 }\n", "SLM0003", 5);
        yield return Yaml("odd head size with RoPE", "vocab: 32\ncontext: 8\nembedding: 16\npositions: rope\nlayers:\n  - transformer: { layers: 1, heads: 2, head_dim: 5 }\n", "SLM0005", 6);
        yield return Yaml("all levers at once", Blocks + "{ layers: 3, heads: [2, 4, 4], kv_heads: [1, 2, 1], head_dim: 8, ffn: [1x, 2x, 3x], block_repeat: 2, repeat: 2, lora_rank: 2 }\n", null, 0, "Test.Models.Spec");
        yield return Yaml("KV cache over the weights", "vocab: 32\ncontext: 4096\nembedding: 16\nlayers:\n  - transformer: { layers: 4, heads: 2 }\n", "SLM0205", 1);
        yield return AttributeError("HeadsPerBlock with Heads", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 2, Heads = 2, HeadsPerBlock = new[] { 2, 4 })]\npublic partial class M { }\n", "SLM0012", 4);
        yield return AttributeError("KvHeads not dividing", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 1, Heads = 4, KvHeads = 3)]\npublic partial class M { }\n", "SLM0017", 4);
        yield return ValidSource("attribute levers", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 2, HeadsPerBlock = new[] { 2, 4 }, KvHeadsPerBlock = new[] { 1, 2 }, HeadDim = 8, FfnMultiplierPerBlock = new[] { 1.5, 2.5 }, BlockRepeat = 2, LoraRank = 2)]\npublic partial class Levers { }\n", "Acme.Levers");

        yield return Yaml("quantization of parts the model lacks", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { dense: 4 }\n", "SLM0018", 4) with { Model = "Test.Models.Spec" };
        yield return Yaml("quantization to 7 bits", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { embedding: 7 }\n", "SLM0003", 4);
        yield return Yaml("a negative scale group", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { embedding: 4, group: -8 }\n", "SLM0003", 4);
        yield return Yaml("an unknown quantiser", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { embedding: 4, method: awq }\n", "SLM0023", 4);
        yield return Yaml("an unknown grid", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { embedding: 4, grid: nf4 }\n", "SLM0023", 4);
        yield return AttributeError("a grid out of its enum", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[Quantization(Embedding = 4, Grid = (QuantGrid)7)]\npublic partial class M { }\n", "SLM0003", 4);
        yield return ValidSource("a stretched grid by attribute", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[TransformerBlocks(Layers = 1, Heads = 2)]\n[Quantization(Attention = 2, Mlp = 3, Embedding = 8, Group = 8, Grid = QuantGrid.Stretched)]\npublic partial class Seq { }\n", "Acme.Seq");
        yield return Yaml("a scale group without quantised parts", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { group: 32 }\n", "SLM0018", 4) with { Model = "Test.Models.Spec" };
        yield return Yaml("an artifact over its cap", "vocab: 3000\ncontext: 8\nembedding: 64\nbudget: { max_artifact_bytes: 100000 }\n", "SLM0107", 4);
        yield return AttributeError("a storage type out of its enum", "namespace Acme;\n[Model(Vocab = 32, Context = 8)]\n[TokenEmbedding(Dim = 16)]\n[Quantization(Embedding = 4, Scales = (StoreType)9)]\npublic partial class M { }\n", "SLM0003", 4);
        yield return Yaml("quantization shorthand", Blocks + "{ layers: 1, heads: 2 }\nquantization: 3\n", null, 0, "Test.Models.Spec");
        yield return Yaml("quantization of a tied head apart from the embedding", "vocab: 32\ncontext: 8\nembedding: 16\nhead: tied\nquantization: { head: 4, embedding: 8 }\n", "SLM0012", 5);
        yield return Yaml("quantization with an unknown part", "vocab: 32\ncontext: 8\nembedding: 16\nquantization: { norms: 4 }\n", "SLM0021", 4);
        yield return AttributeError("Quantization without [Model]", "namespace Acme;\n[Quantization(Mlp = 4)]\npublic partial class NoModel { }\n", "SLM0014", 2);

        // A YAML model beside a C# class of the same name: a partial one extends it (documented); others are the compiler's errors at the user's class.
        yield return new Case("YAML model extended by a partial class", new[] { ("/u/Extra.cs", "namespace Test.Models;\npublic partial class Spec { public int Extra => 1; }\n") },
            new[] { ("/u/specs/spec.yaml", YamlModel) }, null, null, 0, "Test.Models.Spec");
        foreach (var (what, type, id) in new[]
                 {
                     ("a non-partial class", "public class Spec { }", "SLM0001"),
                     ("a partial class with another base", "public partial class Spec : System.Exception { }", "SLM0001"),
                     ("a struct", "public struct Spec { }", "SLM0001"),
                     ("an enum", "public enum Spec { A }", "SLM0001"),
                     ("an internal partial class", "internal partial class Spec { }", "SLM0001"),
                     ("a static partial class", "public static partial class Spec { }", "SLM0001"),
                     ("a partial record", "public partial record Spec { }", "SLM0001"),
                     ("a partial class with a primary constructor", "public partial class Spec(int n) { }", "SLM0001"),
                     ("a partial class declaring ParameterCount", "public partial class Spec { public const long ParameterCount = 1; }", "SLM0016"),
                     ("a partial class declaring a parameterless constructor", "public partial class Spec { public Spec() { } }", "SLM0016"),
                 })
        {
            yield return new Case("YAML model beside " + what, new[] { ("/u/Extra.cs", "namespace Test.Models;\n" + type + "\n") },
                new[] { ("/u/specs/spec.yaml", YamlModel) }, id, "/u/Extra.cs", 2, null);
        }

        // 13. MSBuild properties: odd project folders (only the report's display path depends on them).
        foreach (var dir in new[] { "/u/we#ird %20 dir?", "relative/dir", "C:\\Projects\\App", "/", "\0bad", "/u/specs/spec.yaml/deeper" })
        {
            yield return Yaml("MSBuildProjectDirectory " + dir, YamlModel, null, 0, "Test.Models.Spec", properties: new() { ["MSBuildProjectDirectory"] = dir });
        }

        // 14. Project budget properties.
        yield return Yaml("project budget garbage", YamlModel, "SLM0105", 0, properties: new() { ["SlmGenMaxParameters"] = "lots" }) with { File = null };
        yield return Yaml("project budget exceeded", YamlModel, "SLM0100", 1, properties: new() { ["SlmGenMaxParameters"] = "10" });
        yield return Yaml("project training budget 1e30", YamlModel, null, 0, "Test.Models.Spec", properties: new() { ["SlmGenMaxTrainingFlops"] = "1e30", ["SlmGenTrainingTokens"] = "9e18" });
    }
}
