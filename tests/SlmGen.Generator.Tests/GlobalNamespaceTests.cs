using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// What no spelling of generated code can survive — a type that takes a root namespace's name in the global
/// namespace, or TorchSharp/SlmGen.Runtime under an extern alias — is one located SLM0025, never compiler errors
/// inside generated files; and generated code does not grow by a constructor call per block.
/// </summary>
[HoldTensors]
public class GlobalNamespaceTests
{
    private const string Model = """
        using SlmGen;
        namespace Acme;
        [Model(Vocab = 32, Context = 8)]
        [TokenEmbedding(Dim = 16)]
        [TransformerBlocks(Layers = 1, Heads = 2)]
        [LMHead(TiedToEmbedding = true)]
        public partial class Small { }
        """;

    private static void AssertBlockedWithoutErrorsInGeneratedCode(GeneratorRun run, string? file, int line)
    {
        Assert.Empty(run.Exceptions);
        var found = run.GeneratorDiagnostics.Where(d => d.Id == "SLM0025").ToList();
        Assert.True(found.Count > 0, string.Join("; ", run.GeneratorDiagnostics));
        if (file is not null)
        {
            Assert.Contains(found, d => d.Location.GetLineSpan().Path == file && d.Location.GetLineSpan().StartLinePosition.Line + 1 == line);
        }

        Assert.DoesNotContain(run.HintNames, h => h.EndsWith(".g.cs", System.StringComparison.Ordinal));
        Assert.DoesNotContain(run.CompileErrors, d => d.Location.SourceTree?.FilePath.Contains(".g.cs", System.StringComparison.Ordinal) == true);
    }

    [Theory]
    [InlineData("System")]
    [InlineData("TorchSharp")]
    public void A_global_type_named_like_a_root_namespace_is_one_located_diagnostic(string name)
    {
        var run = GeneratorRun.Of(new[] { ("/u/Model.cs", Model), ("/u/Hide.cs", $"// a user's type\npublic class {name} {{ }}\n") });
        AssertBlockedWithoutErrorsInGeneratedCode(run, "/u/Hide.cs", 2);
    }

    [Theory]
    [InlineData("System")]
    [InlineData("TorchSharp")]
    [InlineData("SlmGen")]
    public void A_YAML_model_beside_a_global_type_named_like_a_root_namespace_is_not_generated_either(string name)
    {
        var run = GeneratorRun.Of(new[] { ("/u/Hide.cs", $"public class {name} {{ }}\n") }, new[] { ("/u/specs/a.yaml", "vocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - dense: 8\n") });
        AssertBlockedWithoutErrorsInGeneratedCode(run, "/u/Hide.cs", 1);
    }

    [Theory]
    [InlineData("TorchSharp")]
    [InlineData("SlmGen.Runtime")]
    public void A_reference_under_an_extern_alias_is_one_diagnostic(string assembly)
    {
        var compilation = GeneratorRun.CreateCompilation(new[] { ("/u/Model.cs", Model.Replace("using SlmGen;", assembly == "SlmGen.Runtime" ? "extern alias rt;\nusing rt::SlmGen;" : "using SlmGen;")) });
        var references = compilation.References.Select(r => r.Display is { } d && System.IO.Path.GetFileNameWithoutExtension(d) == assembly ? r.WithAliases(new[] { "rt" }) : r);
        var aliased = compilation.WithReferences(references);
        var driver = GeneratorRun.CreateDriver(aliased, System.Array.Empty<(string, string)>());
        driver = driver.RunGeneratorsAndUpdateCompilation(aliased, out var output, out var diagnostics);
        var run = new GeneratorRun(aliased, output, driver.GetRunResult(), diagnostics);
        AssertBlockedWithoutErrorsInGeneratedCode(run, null, 0);
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "SLM0025" && d.GetMessage().Contains(assembly));
    }

    [Fact]
    public void A_long_stack_of_varying_blocks_is_built_from_a_table_and_compiles()
    {
        const int blocks = 20_000;
        var heads = string.Join(", ", Enumerable.Range(0, blocks).Select(i => i % 2 == 0 ? "1" : "2"));
        var yaml = $"name: Deep\nvocab: 32\ncontext: 8\nembedding: 16\nlayers:\n  - transformer: {{ layers: {blocks}, heads: [{heads}], ffn: 8 }}\nhead: tied\n";
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/u/specs/deep.yaml", yaml) });
        Assert.Empty(run.Exceptions);
        Assert.Empty(run.CompileErrors);
        var module = run.Model("Test.Models.Deep");
        Assert.Equal(1, module.Split("new global::SlmGen.Layers.TransformerBlock(").Length - 1);
        Assert.True(module.Length < blocks * 20, $"{module.Length:N0} characters for {blocks:N0} blocks");

        // The cost rows are summed over the blocks (exact totals), not three rows a block.
        var costs = run.Costs("Test.Models.Deep");
        Assert.DoesNotContain("blocks[", costs);
        Assert.Contains("ParameterCount = 28_640_512L;", costs); // 20,000 × (1,088 attention + 280 FFN + 64 norms) + 512 embedding
    }
}
