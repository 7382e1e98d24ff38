using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Model;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>YAML specs: the same spec model as attributes, and errors located in the YAML file.</summary>
[HoldTensors]
public class YamlTests
{
    private const string BabyGptAttributes = """
        using SlmGen;
        namespace Same;
        [Model(Vocab = 65, Context = 256, Dropout = 0.2, Init = InitScheme.Gpt2)]
        [TokenEmbedding(Dim = 384)]
        [Positions(PositionKind.Learned)]
        [TransformerBlocks(Layers = 6, Heads = 6, FfnMultiplier = 4, Activation = Act.Gelu, Norm = NormKind.LayerNorm, PreNorm = true)]
        [FinalNorm(NormKind.LayerNorm)]
        [LMHead(TiedToEmbedding = true)]
        public partial class BabyGpt { }
        """;

    private const string BabyGptYaml = """
        name: BabyGpt
        namespace: Same
        vocab: 65
        context: 256
        dropout: 0.2
        init: gpt2
        embedding: { dim: 384 }
        positions: learned
        layers:
          - transformer: { layers: 6, heads: 6, ffn: 4x, activation: gelu, norm: layernorm, pre_norm: true }
        final_norm: layernorm
        head: tied
        """;

    [Fact]
    public void A_yaml_spec_and_the_equivalent_attributed_class_generate_identical_code_and_costs()
    {
        var fromAttributes = GeneratorRun.Of(new[] { ("/0/BabyGpt.cs", BabyGptAttributes) });
        var fromYaml = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/baby-gpt.yaml", BabyGptYaml) });

        var a = fromAttributes.ModelAndCosts("Same.BabyGpt");
        var y = fromYaml.ModelAndCosts("Same.BabyGpt");
        Assert.Equal(a, y);
        Assert.Contains("public const long ParameterCount = 10_770_816L;", y);
        Assert.Contains("public const long ForwardFlopsPerToken = 23_642_880L;", y);
        Assert.Contains("public const long TrainingFlopsPerToken = 72_108_288L;", y);
        Assert.Empty(fromYaml.CompileErrors);
        Assert.Empty(fromAttributes.CompileErrors);
        Assert.True(fromYaml.DeclaresFromYaml("Same.BabyGpt"));
    }

    [Fact]
    public void Dropout_placement_is_the_same_from_yaml_and_attributes_and_reaches_the_generated_code()
    {
        const string attributes = """
            using SlmGen;
            namespace Same;
            [Model(Vocab = 65, Context = 32, Dropout = 0.1, EmbeddingDropout = 0)]
            [TokenEmbedding(Dim = 32)]
            [Positions(PositionKind.Learned)]
            [TransformerBlocks(Layers = 2, Heads = 4, FfnHidden = 64, Activation = Act.Relu, PreNorm = false, FfnDropout = 0.2)]
            [FinalNorm(NormKind.LayerNorm)]
            public partial class Placed { }
            """;
        const string yaml = """
            name: Placed
            namespace: Same
            vocab: 65
            context: 32
            dropout: 0.1
            embedding_dropout: 0
            embedding: 32
            positions: learned
            layers:
              - transformer: { layers: 2, heads: 4, ffn: 64, activation: relu, pre_norm: false, ffn_dropout: 0.2 }
            final_norm: layernorm
            """;
        var a = GeneratorRun.Of(new[] { ("/0/Placed.cs", attributes) }).ModelAndCosts("Same.Placed");
        var y = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/placed.yaml", yaml) });
        Assert.Equal(a, y.ModelAndCosts("Same.Placed"));
        Assert.Empty(y.CompileErrors);
        Assert.DoesNotContain("drop = global::TorchSharp.torch.nn.Dropout", a);                    // no dropout on the embeddings
        Assert.Contains("Dropout: 0.1, Context: 32", a);                   // blocks: 0.1 on the attention probabilities,
        Assert.Contains("Activation: global::SlmGen.Act.Relu, Bias: true, Dropout: 0.2,", a); // 0.2 in the FFN,
        Assert.Contains("ResidualDropout: 0.1),", a);                      // 0.1 on the residual branches

        // Left out, the embedding dropout is the model's, and there is no FFN dropout.
        var plain = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[]
        {
            ("/specs/placed.yaml", yaml.Replace("embedding_dropout: 0\n", string.Empty).Replace(", ffn_dropout: 0.2", string.Empty)),
        }).ModelAndCosts("Same.Placed");
        Assert.Contains("drop = global::TorchSharp.torch.nn.Dropout(0.1);", plain);
        Assert.Contains("Bias: true, Dropout: 0.0, WeightBits", plain); // no FFN dropout
    }

    [Fact]
    public void The_repository_specs_all_generate_and_compile()
    {
        var specs = System.IO.Directory.GetFiles(Repo.Path("specs"), "*.yaml", System.IO.SearchOption.AllDirectories)
            .OrderBy(f => f)
            .Select(f => (f, System.IO.File.ReadAllText(f)))
            .ToList();
        Assert.True(specs.Count >= 17, "expected the study's specs and baby GPT");
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), specs);
        Assert.Empty(run.Exceptions);
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(run.CompileErrors);
        Assert.Equal(specs.Count, run.HintNames.Count(h => h.EndsWith(".Declaration.g.cs", System.StringComparison.Ordinal)));
    }

    [Fact]
    public void The_documented_complete_example_generates_and_compiles()
    {
        var doc = System.IO.File.ReadAllText(Repo.Path("docs", "yaml-schema.md"));
        var section = doc[doc.IndexOf("## A complete example", System.StringComparison.Ordinal)..];
        var start = section.IndexOf("```yaml\n", System.StringComparison.Ordinal) + "```yaml\n".Length;
        var yaml = section[start..section.IndexOf("```", start, System.StringComparison.Ordinal)];
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/small-rope.yaml", yaml) });
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.True(run.Declares("MyApp.Models.SmallRope"));
        Assert.Empty(run.CompileErrors);
    }

    [Fact]
    public void A_yaml_spec_without_a_name_takes_its_class_name_from_the_file_and_the_root_namespace()
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[]
        {
            ("/specs/tiny-bigram_v2.yaml", "vocab: 10\ncontext: 8\nembedding: 16\n"),
        });
        Assert.True(run.Declares("Test.Models.TinyBigramV2"));
        Assert.Empty(run.CompileErrors);
    }

    [Fact]
    public void Human_friendly_numbers_and_comments_are_read()
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[]
        {
            ("/specs/n.yaml", """
                # a comment
                name: Numbers
                vocab: 1_000     # underscores
                context: 0.128k  # a suffix
                embedding: 64
                layers:
                  - transformer: { layers: 1, heads: 4, ffn: 2.5x }   # a multiplier
                budget:
                  max_parameters: 12M
                  max_training_flops: 1e15
                  training_tokens: 2.5B
                """),
        });
        var code = run.ModelAndCosts("Test.Models.Numbers");
        Assert.Contains("ContextLength = 128;", code);
        Assert.Contains("VocabularySize = 1000;", code);
        Assert.Contains("FeedForwardConfig(Hidden: 160,", code);
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    public static TheoryData<string, string, string, int, int> Malformed() => new()
    {
        // name, yaml, expected id, line, column (1-based) of the offending node
        { "unknown key", "vocab: 65\ncontext: 64\nembedding: 32\nlayerz: []\n", "SLM0021", 4, 1 },
        { "unknown layer kind", "vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - convolution: { size: 3 }\n", "SLM0023", 5, 5 },
        { "wrong type", "vocab: sixty-five\ncontext: 64\nembedding: 32\n", "SLM0022", 1, 8 },
        { "wrong type in a layer", "vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - transformer: { layers: 2, heads: { n: 4 } }\n", "SLM0022", 5, 38 },
        { "missing required value", "vocab: 65\ncontext: 64\nlayers: []\n", "SLM0002", 1, 1 },
        { "negative number", "vocab: 65\ncontext: -64\nembedding: 32\n", "SLM0003", 2, 10 },
        { "huge number", "vocab: 65\ncontext: 1e30\nembedding: 32\n", "SLM0003", 2, 10 },
        { "number out of range", "vocab: 65\ncontext: 64\nembedding: 32\ndropout: 1.5\n", "SLM0003", 4, 10 },
        { "embedding dropout out of range", "vocab: 65\ncontext: 64\nembedding: 32\nembedding_dropout: 1\n", "SLM0003", 4, 20 },
        { "FFN dropout out of range", "vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - transformer: { layers: 2, heads: 4, ffn_dropout: -0.5 }\n", "SLM0003", 5, 54 },
        { "tab indentation", "vocab: 65\nlayers:\n\t- dense: { units: 4 }\n", "SLM0020", 3, 1 },
        { "truncated file", "vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - transformer: { layers: 2, heads:", "SLM0020", 6, 1 },
        { "unknown activation", "vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - dense: { units: 4, activation: mish }\n", "SLM0023", 5, 36 },
        { "bad class name", "name: class\nvocab: 65\ncontext: 64\nembedding: 32\n", "SLM0024", 1, 7 },
        { "heads do not divide", "vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - transformer: { layers: 2, heads: 5 }\n", "SLM0004", 5, 38 },
        { "not a mapping", "- just\n- a list\n", "SLM0022", 1, 1 },
        { "duplicate key", "vocab: 65\nvocab: 66\ncontext: 64\nembedding: 32\n", "SLM0020", 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_spec_gives_a_located_diagnostic_and_no_exception(string name, string yaml, string id, int line, int column)
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/bad.yaml", yaml) });
        Assert.Empty(run.Exceptions);
        var diagnostic = run.GeneratorDiagnostics.FirstOrDefault(d => d.Id == id);
        Assert.True(diagnostic is not null, $"{name}: expected {id}, got {string.Join("; ", run.GeneratorDiagnostics)}");
        var span = diagnostic!.Location.GetLineSpan();
        Assert.Equal("/specs/bad.yaml", span.Path);
        Assert.Equal((line, column), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1));
        Assert.False(run.Declares("Test.Models.Bad"));
    }

    [Theory]
    [InlineData("vocab: 65\ncontext: 64\nembeding: 32\n", "Unknown key 'embeding' in the spec (did you mean 'embedding'?)")]
    [InlineData("vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - transformer: { layers: 2, haeds: 4 }\n", "(did you mean 'heads'?)")]
    [InlineData("vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - transfromer: { layers: 2, heads: 4 }\n", "(did you mean 'transformer'?)")]
    [InlineData("vocab: 65\ncontext: 64\nembedding: 32\nlayers:\n  - dense: { units: 4, activation: gleu }\n", "(did you mean 'gelu'?)")]
    public void A_misspelled_key_or_name_gets_the_closest_one_suggested(string yaml, string expected)
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/typo.yaml", yaml) });
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id is "SLM0021" or "SLM0023");
        Assert.Contains(expected, diagnostic.GetMessage());
    }

    [Fact]
    public void An_unknown_key_far_from_every_key_gets_no_suggestion()
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/typo.yaml", "vocab: 65\ncontext: 64\nembedding: 32\nzzzzqqq: 1\n") });
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "SLM0021");
        Assert.DoesNotContain("did you mean", diagnostic.GetMessage());
    }

    [Fact]
    public void A_bad_spec_does_not_break_the_other_specs()
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[]
        {
            ("/specs/bad.yaml", "vocab: [\n"),
            ("/specs/good.yaml", "vocab: 65\ncontext: 16\nembedding: 8\n"),
        });
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "SLM0020");
        Assert.True(run.Declares("Test.Models.Good"));
        Assert.Empty(run.CompileErrors);
    }

    [Fact]
    public void Two_specs_with_one_name_give_a_duplicate_error_and_one_model()
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[]
        {
            ("/specs/a.yaml", "name: Same\nvocab: 65\ncontext: 16\nembedding: 8\n"),
            ("/specs/b.yaml", "name: Same\nvocab: 65\ncontext: 32\nembedding: 8\n"),
        });
        var duplicate = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "SLM0011");
        Assert.Equal("/specs/b.yaml", duplicate.Location.GetLineSpan().Path);
        Assert.Single(run.HintNames, h => h == Identifiers.HintName("Test.Models.Same", string.Empty));
        Assert.Empty(run.CompileErrors);
    }
}
