using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using SlmGen.Generator.Model;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>Generator behaviour checked through the Roslyn testing package (diagnostics at marked spans, generated text).</summary>
public class RoslynHarnessTests
{
    [Fact]
    public async Task Heads_that_do_not_divide_the_width_are_an_error_at_the_heads_argument()
    {
        var test = new GeneratorTest("""
            using SlmGen;
            namespace Demo;
            [Model(Vocab = 65, Context = 64)]
            [TokenEmbedding(Dim = 128)]
            [TransformerBlocks(Layers = 2, {|#0:Heads = 5|})]
            public partial class Tiny { }
            """);
        test.ExpectedDiagnostics.Add(
            new DiagnosticResult("SLM0004", DiagnosticSeverity.Error).WithLocation(0).WithArguments("5", "128", "25.6", "4"));
        await test.RunAsync();
    }

    [Fact]
    public async Task A_class_that_is_not_partial_is_an_error_at_its_name()
    {
        var test = new GeneratorTest("""
            using SlmGen;
            namespace Demo;
            [Model(Vocab = 65, Context = 64)]
            [TokenEmbedding(Dim = 32)]
            public class {|#0:Tiny|} { }
            """);
        test.ExpectedDiagnostics.Add(
            new DiagnosticResult("SLM0001", DiagnosticSeverity.Error).WithLocation(0)
                .WithArguments("Tiny", "it must be declared 'partial' so that the generator can add the module code"));
        await test.RunAsync();
    }

    [Fact]
    public async Task A_missing_embedding_is_an_error_at_the_model_attribute()
    {
        var test = new GeneratorTest("""
            using SlmGen;
            namespace Demo;
            [{|#0:Model(Vocab = 65, Context = 64)|}]
            public partial class Tiny { }
            """);
        test.ExpectedDiagnostics.Add(
            new DiagnosticResult("SLM0002", DiagnosticSeverity.Error).WithLocation(0)
                .WithArguments("Model 'Tiny'", "[TokenEmbedding(Dim = ...)]", "the embedding width (d_model)"));
        await test.RunAsync();
    }

    [Fact]
    public async Task A_bigram_model_generates_the_expected_module()
    {
        var source = """
            using SlmGen;
            namespace Demo;
            [{|#0:Model(Vocab = 10, Context = 4)|}]
            [TokenEmbedding(Dim = 8)]
            public partial class Bigram { }
            """;
        var plain = source.Replace("{|#0:", string.Empty).Replace("|}", string.Empty);
        var reference = GeneratorRun.Of(new[] { ("/0/Model.cs", plain) });
        var expected = reference.ModelAndCosts("Demo.Bigram");
        Assert.Contains("public const long ParameterCount = 160L;", expected);
        Assert.Contains("public const long ForwardFlopsPerToken = 160L;", expected);

        var test = new GeneratorTest(source, checkGeneratedSources: true);
        test.TestState.GeneratedSources.Add((typeof(ModelGenerator), Identifiers.HintName("Demo.Bigram", string.Empty), reference.Model("Demo.Bigram")));
        test.TestState.GeneratedSources.Add((typeof(ModelGenerator), Identifiers.HintName("Demo.Bigram", "Costs"), reference.Costs("Demo.Bigram")));
        test.TestState.GeneratedSources.Add((typeof(ModelGenerator), "SlmGen.Catalog.g.cs",
            GeneratorRun.Of(new[] { ("/0/Model.cs", plain) }).Generated("SlmGen.Catalog.g.cs")));
        // A bigram model with its own head matrix is all embedding and head: the advice says so (info severity), with what tying and factorising save.
        test.ExpectedDiagnostics.Add(new DiagnosticResult("SLM0200", DiagnosticSeverity.Info).WithLocation(0).WithArguments("Bigram", "160", "160", "100%", "tying it to the embedding ([LMHead(TiedToEmbedding = true)]) saves 80 parameters; factorising it through rank 2 ([LMHead(Rank = r)]) saves 44"));
        await test.RunAsync();
    }
}
