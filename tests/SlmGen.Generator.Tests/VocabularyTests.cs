using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>The tokenizer a spec declares and the vocabulary padding (pad_vocab_to), from both front-ends.</summary>
[HoldTensors]
public class VocabularyTests
{
    private static GeneratorRun Yaml(string yaml) => GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { ("/specs/v.yaml", yaml) });

    private const string Spec = """
        name: V
        vocab: 65
        context: 8
        embedding: 16
        layers:
          - transformer: { layers: 1, heads: 2 }
        head: tied

        """;

    [Fact]
    public void Padding_rounds_the_vocabulary_up_with_exact_costs_and_keeps_the_declared_size()
    {
        var padded = Yaml(Spec + "pad_vocab_to: 64\n");
        Assert.Empty(padded.CompileErrors);
        var costs = padded.Costs("Test.Models.V");
        Assert.Contains("public const int VocabularySize = 128;", costs);
        Assert.Contains("public override int DeclaredVocab => 65;", costs);
        var plain = Yaml(Spec).Costs("Test.Models.V");
        Assert.DoesNotContain("DeclaredVocab", plain);

        // 63 more embedding rows (tied head: no head weights), and the head's FLOPs over 128 logits instead of 65.
        long Constant(string text, string name) => long.Parse(text.Split('\n').Single(l => l.Contains($"const long {name} =")).Split('=')[1].Trim(' ', ';', 'L').Replace("_", string.Empty));
        Assert.Equal(63 * 16, Constant(costs, "ParameterCount") - Constant(plain, "ParameterCount"));
        Assert.Equal(2 * 16 * 63, Constant(costs, "ForwardFlopsPerToken") - Constant(plain, "ForwardFlopsPerToken"));

        var attributes = GeneratorRun.Of(new[] { ("/0/V.cs", """
            using SlmGen;
            namespace Test.Models;
            [Model(Vocab = 65, Context = 8, PadVocabTo = 64, Tokenizer = "chars")]
            [TokenEmbedding(Dim = 16)]
            [TransformerBlocks(Layers = 1, Heads = 2)]
            [LMHead(TiedToEmbedding = true)]
            public partial class V { }
            """) });
        Assert.Empty(attributes.CompileErrors);
        Assert.Contains("public const int VocabularySize = 128;", attributes.Costs("Test.Models.V"));
        Assert.Contains("public override string? Tokenizer => \"chars\";", attributes.Costs("Test.Models.V"));
    }

    [Fact]
    public void Logits_that_dominate_activation_memory_get_advice_and_their_bytes_are_in_the_report()
    {
        var big = Yaml(Spec.Replace("vocab: 65", "vocab: 50257").Replace("context: 8", "context: 128"));
        var d = big.GeneratorDiagnostics.Single(x => x.Id == "SLM0206");
        Assert.Equal("V: the logits of one sequence (128 positions × 50,257 tokens) take 24.5 MiB in fp32, 99% of its training activations, and the loss keeps as much again; a chunked loss (TrainingOptions.LossChunk, slmgen train --loss-chunk) keeps one chunk's, or a smaller vocabulary shrinks them", d.GetMessage());
        Assert.DoesNotContain(Yaml(Spec).GeneratorDiagnostics, x => x.Id == "SLM0206");
        var report = big.Generated("Catalog.g.cs");
        Assert.Contains("\\\"logitsBytesPerSequenceFp32\\\": 25731584", report);
        Assert.Contains("\\\"logitsBytesPerSequenceBf16\\\": 12865792", report);
    }

    [Fact]
    public void A_declared_tokenizer_is_recorded_and_needs_room_for_its_ids()
    {
        var ok = Yaml(Spec.Replace("vocab: 65", "vocab: 50257") + "tokenizer: gpt2\npad_vocab_to: 64\n");
        Assert.Empty(ok.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("\\\"tokenizer\\\": \\\"gpt2\\\"", ok.Costs("Test.Models.V"));
        Assert.Contains("public const int VocabularySize = 50304;", ok.Costs("Test.Models.V"));

        var small = Yaml(Spec + "tokenizer: gpt2\n");
        var d = small.GeneratorDiagnostics.Single(x => x.Id == "SLM0019");
        Assert.Equal("The vocabulary of V is 65, but the gpt2 tokenizer produces ids up to 50,256: declare vocab of at least 50,257 (pad_vocab_to rounds it up)", d.GetMessage());
        Assert.Equal(1, d.Location.GetLineSpan().StartLinePosition.Line); // at vocab:
        Assert.Empty(small.CompileErrors);

        var bad = Yaml(Spec + "pad_vocab_to: -8\n");
        Assert.Contains(bad.GeneratorDiagnostics, x => x.Id == "SLM0007" || x.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void A_grouped_head_costs_two_small_matrices_and_refuses_tied_factorised_or_biased_heads()
    {
        var grouped = Yaml(Spec.Replace("vocab: 65", "vocab: 1000").Replace("head: tied", "head: { groups: 10 }"));
        Assert.Empty(grouped.CompileErrors);
        var costs = grouped.Costs("Test.Models.V");
        var full = Yaml(Spec.Replace("vocab: 65", "vocab: 1000").Replace("head: tied", "head: untied")).Costs("Test.Models.V");
        long Constant(string text, string name) => long.Parse(text.Split('\n').Single(l => l.Contains($"const long {name} =")).Split('=')[1].Trim(' ', ';', 'L').Replace("_", string.Empty));
        // 16 × (10 groups + 100 ids a group) instead of 16 × 1,000.
        Assert.Equal((16 * 1000) - (16 * 110), Constant(full, "ParameterCount") - Constant(costs, "ParameterCount"));
        Assert.Equal(2 * ((16 * 1000) - (16 * 110)), Constant(full, "ForwardFlopsPerToken") - Constant(costs, "ForwardFlopsPerToken"));
        Assert.Contains("new global::SlmGen.Layers.GroupedHead(16, 10, 1000)", grouped.Model("Test.Models.V"));
        Assert.Contains("public override global::TorchSharp.torch.Tensor Loss(", grouped.Model("Test.Models.V"));

        // Conditioned on the group: a gate per group (10 × 16 more), the loss's FLOPs unchanged, the full distribution
        // scoring every group's 100 positions.
        var conditioned = Yaml(Spec.Replace("vocab: 65", "vocab: 1000").Replace("head: tied", "head: { groups: 10, conditioned: true }"));
        Assert.Empty(conditioned.CompileErrors);
        var c = conditioned.Costs("Test.Models.V");
        Assert.Equal(16 * 10, Constant(c, "ParameterCount") - Constant(costs, "ParameterCount"));
        Assert.Equal(Constant(costs, "TrainingFlopsPerToken"), Constant(c, "TrainingFlopsPerToken"));
        Assert.Equal(2 * 16 * (10 * 100 - 100), Constant(c, "ForwardFlopsPerToken") - Constant(costs, "ForwardFlopsPerToken"));
        Assert.Contains("new global::SlmGen.Layers.GroupedHead(16, 10, 1000, conditioned: true)", conditioned.Model("Test.Models.V"));
        static string Fingerprint(string costs) => costs.Split('\n').Single(l => l.Contains("const string SpecFingerprint =")).Split('"')[1];
        Assert.NotEqual(Fingerprint(costs), Fingerprint(c));

        foreach (var head in new[] { "{ groups: 10, tied: true }", "{ groups: 10, rank: 4 }", "{ groups: 10, bias: true }", "{ groups: 1 }", "{ groups: 5000 }", "{ conditioned: true }", "{ rank: 4, conditioned: true }" })
        {
            var bad = Yaml(Spec.Replace("vocab: 65", "vocab: 1000").Replace("head: tied", "head: " + head));
            Assert.Contains(bad.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Empty(bad.CompileErrors);
        }
    }

    [Fact]
    public void A_training_budget_in_characters_becomes_tokens_with_the_declared_compression()
    {
        // 2.5 characters a token: 10M characters are 4M tokens; the report also gives the figures per character.
        var run = Yaml(Spec + "budget: { max_training_flops: 1e12, training_characters: 10M, characters_per_token: 2.5 }\n");
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        var report = run.Generated("Catalog.g.cs");
        long Constant(string name) => long.Parse(run.Costs("Test.Models.V").Split('\n').Single(l => l.Contains($"const long {name} =")).Split('=')[1].Trim(' ', ';', 'L').Replace("_", string.Empty));
        var flops = Constant("TrainingFlopsPerToken") * 4_000_000L;
        Assert.Contains($"\\\"metric\\\": \\\"training_flops\\\", \\\"value\\\": {flops}", report);
        Assert.Contains("\\\"perCharacter\\\": { \\\"charactersPerToken\\\": 2.5", report);

        // A character tokenizer needs no declared compression; any other does, and tokens and characters are exclusive.
        Assert.Empty(Yaml(Spec + "tokenizer: chars\nbudget: { max_training_flops: 1e12, training_characters: 10M }\n").GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains(Yaml(Spec + "budget: { max_training_flops: 1e12, training_characters: 10M }\n").GeneratorDiagnostics, d => d.Id == "SLM0006" || d.Severity == DiagnosticSeverity.Error);
        Assert.Contains(Yaml(Spec + "budget: { training_tokens: 5, training_characters: 10M, characters_per_token: 2 }\n").GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Contains(Yaml(Spec + "budget: { training_characters: 10M, characters_per_token: -1 }\n").GeneratorDiagnostics, d => d.Id == "SLM0003");
    }
}
