using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// Every diagnostic: it fires at the right place with the right message, and its valid neighbour (the same
/// declaration with the problem fixed) gets no diagnostic of that ID.
/// </summary>
public class DiagnosticTests
{
    private static GeneratorRun Attributes(string attributes, string className = "M", string modifiers = "public partial", IDictionary<string, string>? properties = null) =>
        GeneratorRun.Of(new[] { ("/0/M.cs", $"using SlmGen;\nnamespace Demo;\n{attributes}\n{modifiers} class {className} {{ }}\n") }, properties: properties);

    private static Diagnostic Single(GeneratorRun run, string id)
    {
        Assert.Empty(run.Exceptions);
        var matches = run.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matches.Count == 1, $"expected one {id}, got: {string.Join(" | ", run.GeneratorDiagnostics)}");
        return matches[0];
    }

    private static void None(GeneratorRun run, string id)
    {
        Assert.Empty(run.Exceptions);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == id);
        Assert.Empty(run.CompileErrors);
    }

    private static string At(Diagnostic d)
    {
        var text = d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan);
        return text;
    }

    private const string Base = "[Model(Vocab = 65, Context = 64)]\n[TokenEmbedding(Dim = 64)]";

    [Theory]
    [InlineData("public class", "it must be declared 'partial'")]
    [InlineData("public static partial class", "static or abstract")]
    public void SLM0001_class_shape(string modifiers, string reason)
    {
        var d = Single(Attributes(Base, modifiers: modifiers.Replace(" class", string.Empty)), "SLM0001");
        Assert.Contains(reason, d.GetMessage());
        Assert.Equal("M", At(d));
        None(Attributes(Base), "SLM0001");
    }

    [Fact]
    public void SLM0001_generic_and_nested_classes()
    {
        var generic = GeneratorRun.Of(new[] { ("/0/M.cs", "using SlmGen;\nnamespace Demo;\n" + Base + "\npublic partial class M<T> { }\n") });
        Assert.Contains("generic", Single(generic, "SLM0001").GetMessage());
        var nested = GeneratorRun.Of(new[] { ("/0/M.cs", "using SlmGen;\nnamespace Demo;\npublic partial class Outer {\n" + Base + "\npublic partial class M { } }\n") });
        Assert.Contains("nested", Single(nested, "SLM0001").GetMessage());
    }

    [Fact]
    public void SLM0002_missing_heads_is_reported_at_the_blocks_attribute()
    {
        var d = Single(Attributes(Base + "\n[TransformerBlocks(Layers = 2)]"), "SLM0002");
        Assert.Equal("TransformerBlocks(Layers = 2)", At(d));
        Assert.Equal("[TransformerBlocks] is missing Heads: the number of attention heads", d.GetMessage());
        None(Attributes(Base + "\n[TransformerBlocks(Layers = 2, Heads = 4)]"), "SLM0002");
    }

    [Fact]
    public void SLM0003_out_of_range_values_at_their_argument()
    {
        var d = Single(Attributes("[Model(Vocab = 65, Context = -4)]\n[TokenEmbedding(Dim = 64)]"), "SLM0003");
        Assert.Equal("Context = -4", At(d));
        Assert.Contains("Model.Context is -4; it must be between 1 and", d.GetMessage());
        var dropout = Single(Attributes(Base + "\n[Dense(8, Dropout = 1.5)]"), "SLM0003");
        Assert.Equal("Dropout = 1.5", At(dropout));
        None(Attributes("[Model(Vocab = 65, Context = 4)]\n[TokenEmbedding(Dim = 64)]\n[Dense(8, Dropout = 0.5)]"), "SLM0003");
        var embedding = Single(Attributes("[Model(Vocab = 65, Context = 4, EmbeddingDropout = 1.0)]\n[TokenEmbedding(Dim = 64)]"), "SLM0003");
        Assert.Equal("EmbeddingDropout = 1.0", At(embedding));
        var ffn = Single(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 4, FfnDropout = 2)]"), "SLM0003");
        Assert.Equal("FfnDropout = 2", At(ffn));
        None(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 4, FfnDropout = 0.1)]"), "SLM0003");
    }

    [Fact]
    public void SLM0004_heads_that_do_not_divide_the_width()
    {
        var d = Single(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 6)]"), "SLM0004");
        Assert.Equal("Heads = 6", At(d));
        Assert.Equal("6 heads do not divide the model width 64 (head dimension 10.666667); use a head count that divides 64, for example 4", d.GetMessage());
        None(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 8)]"), "SLM0004");
    }

    [Fact]
    public void SLM0005_odd_head_dimension_with_rope()
    {
        var d = Single(Attributes("[Model(Vocab = 65, Context = 64)]\n[TokenEmbedding(Dim = 60)]\n[Positions(PositionKind.Rope)]\n[TransformerBlocks(Layers = 1, Heads = 4)]"), "SLM0005");
        Assert.Equal("Heads = 4", At(d));
        Assert.Contains("the head dimension is 15", d.GetMessage());
        None(Attributes("[Model(Vocab = 65, Context = 64)]\n[TokenEmbedding(Dim = 60)]\n[Positions(PositionKind.Rope)]\n[TransformerBlocks(Layers = 1, Heads = 6)]"), "SLM0005");
    }

    [Fact]
    public void SLM0006_context_longer_than_the_position_table()
    {
        var d = Single(Attributes(Base + "\n[Positions(PositionKind.Learned, Length = 32)]"), "SLM0006");
        Assert.Equal("Length = 32", At(d));
        Assert.Equal("The context is 64 tokens but the learned position table has 32 rows; make the table at least as long as the context", d.GetMessage());
        None(Attributes(Base + "\n[Positions(PositionKind.Learned, Length = 128)]"), "SLM0006");
    }

    [Fact]
    public void SLM0007_tied_head_after_a_width_change()
    {
        var d = Single(Attributes(Base + "\n[Dense(32)]\n[LMHead(TiedToEmbedding = true)]"), "SLM0007");
        Assert.Equal("TiedToEmbedding = true", At(d));
        Assert.Contains("(64 wide) but its input is 32 wide", d.GetMessage());
        None(Attributes(Base + "\n[Dense(64)]\n[LMHead(TiedToEmbedding = true)]"), "SLM0007");
    }

    [Fact]
    public void SLM0008_flatten_window_wider_than_the_context()
    {
        var d = Single(Attributes(Base + "\n[ContextFlatten(Window = 100)]"), "SLM0008");
        Assert.Equal("Window = 100", At(d));
        None(Attributes(Base + "\n[ContextFlatten(Window = 64)]"), "SLM0008");
    }

    [Fact]
    public void SLM0009_cost_overflow_is_reported_not_thrown()
    {
        var d = Single(Attributes("[Model(Vocab = 16000000, Context = 16000000)]\n[TokenEmbedding(Dim = 16000000)]\n[Positions(PositionKind.Learned)]\n[TransformerBlocks(Layers = 100000, Heads = 1)]"), "SLM0009");
        Assert.Contains("overflows a 64-bit count", d.GetMessage());
        Assert.StartsWith("Model(", At(d));
        None(Attributes("[Model(Vocab = 50000, Context = 2048)]\n[TokenEmbedding(Dim = 4096)]\n[TransformerBlocks(Layers = 32, Heads = 32)]"), "SLM0009");
    }

    [Fact]
    public void SLM0010_blocks_after_a_flatten()
    {
        var d = Single(Attributes(Base + "\n[ContextFlatten]\n[TransformerBlocks(Layers = 1, Heads = 4)]"), "SLM0010");
        Assert.Equal("TransformerBlocks(Layers = 1, Heads = 4)", At(d));
        Assert.Contains("need a sequence", d.GetMessage());
        None(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 4)]\n[ContextFlatten]"), "SLM0010");
    }

    [Fact]
    public void SLM0011_two_specs_of_one_model()
    {
        var run = GeneratorRun.Of(
            new[] { ("/0/M.cs", "using SlmGen;\nnamespace Test.Models;\n" + Base + "\npublic partial class Same { }\n") },
            new[] { ("/specs/same.yaml", "vocab: 65\ncontext: 8\nembedding: 8\n") });
        var d = Single(run, "SLM0011");
        Assert.Equal("/specs/same.yaml", d.Location.GetLineSpan().Path);
        Assert.Contains("attributes on Test.Models.Same", d.GetMessage());
    }

    [Fact]
    public void SLM0012_contradicting_settings()
    {
        var d = Single(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 4, FfnHidden = 128, FfnMultiplier = 2)]"), "SLM0012");
        Assert.Equal("FfnMultiplier = 2", At(d));
        var tied = Single(Attributes(Base + "\n[LMHead(TiedToEmbedding = true, Bias = true)]"), "SLM0012");
        Assert.Equal("Bias = true", At(tied));
        None(Attributes(Base + "\n[TransformerBlocks(Layers = 1, Heads = 4, FfnHidden = 128)]"), "SLM0012");
    }

    [Fact]
    public void SLM0100_over_the_parameter_budget_names_figure_budget_ratio_and_largest_component()
    {
        var babyGpt = "[Model(Vocab = 65, Context = 256)]\n[TokenEmbedding(Dim = 384)]\n[Positions(PositionKind.Learned)]\n" +
                      "[TransformerBlocks(Layers = 6, Heads = 6)]\n[FinalNorm(NormKind.LayerNorm)]\n[LMHead(TiedToEmbedding = true)]";
        var d = Single(Attributes(babyGpt + "\n[Budget(MaxParameters = 10_000_000)]", "BabyGpt"), "SLM0100");
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("BabyGpt has 10,770,816 parameters, 1.08x its budget of 10,000,000; 66% of them are in the transformer MLPs: cutting them by 11% fits the budget (a smaller ffn or a tapering ffn_last, fewer blocks, or blocks shared with block_repeat)", d.GetMessage());
        Assert.StartsWith("Model(", At(d));
        None(Attributes(babyGpt + "\n[Budget(MaxParameters = 11_000_000)]", "BabyGpt"), "SLM0100");
    }

    [Fact]
    public void Project_budgets_apply_and_the_model_budget_wins()
    {
        var model = Base + "\n[TransformerBlocks(Layers = 2, Heads = 4)]";
        var project = new Dictionary<string, string> { ["SlmGenMaxParameters"] = "50k" };
        Assert.Contains("its budget of 50,000", Single(Attributes(model, properties: project), "SLM0100").GetMessage());
        None(Attributes(model + "\n[Budget(MaxParameters = 200_000)]", properties: project), "SLM0100");
    }

    [Fact]
    public void SLM0101_to_SLM0104_the_other_budgets()
    {
        var model = Base + "\n[Positions(PositionKind.Learned)]\n[TransformerBlocks(Layers = 2, Heads = 4)]";
        var run = Attributes(model + "\n[Budget(MaxForwardFlopsPerToken = 100_000, MaxTrainingFlops = 1e9, TrainingTokens = 1_000_000, MaxWeightBytes = 100_000, MaxKvCacheBytes = 1000)]");
        Assert.Contains("forward FLOPs per token", Single(run, "SLM0101").GetMessage());
        Assert.Contains("FLOPs to train on 1,000,000 tokens", Single(run, "SLM0102").GetMessage());
        Assert.Contains("bytes in fp32", Single(run, "SLM0103").GetMessage());
        Assert.Contains("KV cache for a full context of 64 tokens takes 32,768 bytes", Single(run, "SLM0104").GetMessage());
        var fine = Attributes(model + "\n[Budget(MaxForwardFlopsPerToken = 100_000_000, MaxTrainingFlops = 1e15, TrainingTokens = 1_000_000, MaxWeightBytes = 100_000_000, MaxKvCacheBytes = 100_000)]");
        foreach (var id in new[] { "SLM0101", "SLM0102", "SLM0103", "SLM0104" })
        {
            None(fine, id);
        }
    }

    [Fact]
    public void SLM0105_a_project_budget_that_is_not_a_number()
    {
        var run = Attributes(Base, properties: new Dictionary<string, string> { ["SlmGenMaxParameters"] = "lots" });
        Assert.Contains("SlmGenMaxParameters is 'lots'", Single(run, "SLM0105").GetMessage());
        None(Attributes(Base, properties: new Dictionary<string, string> { ["SlmGenMaxParameters"] = "12M" }), "SLM0105");
    }

    [Fact]
    public void SLM0106_a_training_budget_without_tokens()
    {
        var d = Single(Attributes(Base + "\n[Budget(MaxTrainingFlops = 1e12)]"), "SLM0106");
        Assert.Equal("MaxTrainingFlops = 1e12", At(d));
        None(Attributes(Base + "\n[Budget(MaxTrainingFlops = 1e15, TrainingTokens = 1000)]"), "SLM0106");
    }

    [Fact]
    public void SLM0200_embedding_heavy_models_get_advice_with_the_share()
    {
        var d = Single(Attributes("[Model(Vocab = 50000, Context = 64)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 2, Heads = 4)]"), "SLM0200");
        Assert.Equal(DiagnosticSeverity.Info, d.Severity);
        Assert.Contains("hold 6,400,000 of 6,499,968 parameters (98%)", d.GetMessage());
        None(Attributes("[Model(Vocab = 500, Context = 64)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 2, Heads = 4)]\n[LMHead(TiedToEmbedding = true)]"), "SLM0200");
    }

    [Fact]
    public void SLM0201_attention_dominated_forward_pass()
    {
        var d = Single(Attributes("[Model(Vocab = 65, Context = 4096)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 2, Heads = 4)]\n[LMHead(TiedToEmbedding = true)]"), "SLM0201");
        Assert.Contains("at context 4,096", d.GetMessage());
        None(Attributes("[Model(Vocab = 65, Context = 64)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 2, Heads = 4)]\n[LMHead(TiedToEmbedding = true)]"), "SLM0201");
    }

    [Fact]
    public void SLM0202_training_length_far_from_twenty_tokens_per_parameter()
    {
        var model = Base + "\n[TransformerBlocks(Layers = 2, Heads = 4)]\n[LMHead(TiedToEmbedding = true)]";
        var d = Single(Attributes(model + "\n[Budget(TrainingTokens = 1000)]"), "SLM0202");
        Assert.Equal("TrainingTokens = 1000", At(d));
        Assert.Contains("far from the compute-optimal ~20", d.GetMessage());
        None(Attributes(model + "\n[Budget(TrainingTokens = 2_000_000)]"), "SLM0202");
    }

    [Fact]
    public void SLM0203_shared_blocks_reused_many_times()
    {
        var d = Single(Attributes("[Model(Vocab = 65, Context = 512)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 1, Heads = 4, Repeat = 12)]"), "SLM0203");
        Assert.Equal("Repeat = 12", At(d));
        None(Attributes("[Model(Vocab = 65, Context = 512)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 12, Heads = 4)]"), "SLM0203");
    }

    [Fact]
    public void Diagnostics_in_yaml_point_at_the_node()
    {
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[]
        {
            ("/specs/b.yaml", "vocab: 65\ncontext: 64\nembedding: 64\nlayers:\n  - transformer: { layers: 2, heads: 4 }\nbudget:\n  max_parameters: 1k\n"),
        });
        var d = Single(run, "SLM0100");
        Assert.Equal("/specs/b.yaml", d.Location.GetLineSpan().Path);
        Assert.Contains("its budget of 1,000", d.GetMessage());
    }
}
