using System;
using System.IO;
using System.Linq;
using SlmGen.Generator.Tests.Infrastructure;
using SlmGen.Interop;
using SlmGen.Layers;
using TorchSharp;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The typed plan (src/SlmGen.Contract) from the spec to the layers: the generated model declares it, builds its
/// layers from it and exposes it; a lever added to a contract record (QK-norm) reaches the layer, the fingerprint,
/// the twin's JSON and the exports without being taught to each.
/// </summary>
[HoldTensors]
public class TypedPlanTests
{
    private const string Llama = """
        name: Qk
        namespace: Test.Models
        vocab: 40
        context: 16
        embedding: 32
        positions: rope
        layers:
          - transformer: { layers: 3, heads: 4, kv_heads: 2, ffn: 48, activation: swiglu, norm: rmsnorm, attention_bias: false, ffn_bias: false, qk_norm: true }
        final_norm: rmsnorm
        head: { tied: true }
        """;

    private static SlmModel Build(string yaml)
    {
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/qk.yaml", yaml) });
        Assert.Empty(run.CompileErrors);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        return Assert.Single(ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray()))).Create();
    }

    [Fact]
    public void Every_block_is_built_from_the_plan_the_model_exposes()
    {
        using var model = Build(Llama.Replace("ffn: 48,", "ffn: [32, 48, 64],"));
        var stack = model.Plan.OfType<StackStep>().Single();
        var blocks = model.modules().OfType<TransformerBlock>().ToList();
        Assert.Equal(3, blocks.Count);
        for (var i = 0; i < blocks.Count; i++)
        {
            Assert.Equal(stack.BlockAt(i), blocks[i].Config);
            Assert.Equal(stack.BlockAt(i).Attention, blocks[i].Attention.Config);
        }

        Assert.Equal(new long[] { 32, 48, 64 }, blocks.Select(b => b.Config.FeedForward.Hidden));
    }

    [Fact]
    public void A_long_plan_is_printed_compactly_and_still_equals_the_layers()
    {
        // More than PlanLiterals.NamedSteps steps: positional arguments, the same records.
        var layers = string.Concat(System.Linq.Enumerable.Range(0, 70).Select(i => $"  - dense: {{ units: {8 + (i % 5)}, activation: relu }}\n"));
        using var model = Build($"name: Long\nnamespace: Test.Models\nvocab: 16\ncontext: 4\nembedding: 8\nlayers:\n{layers}");
        var dense = model.Plan.OfType<DenseStep>().ToList();
        Assert.Equal(70, dense.Count);
        Assert.Equal(Enumerable.Range(0, 70).Select(i => (long)(8 + (i % 5))), dense.Select(d => d.OutWidth));
        Assert.Equal(model.Cost.Parameters, model.CountParameters());
    }

    [Fact]
    public void Qk_norm_reaches_the_layer_the_fingerprint_the_twin_json_and_the_export()
    {
        using var with = Build(Llama);
        using var without = Build(Llama.Replace(", qk_norm: true", string.Empty));
        var attention = with.modules().OfType<CausalSelfAttention>().First();
        Assert.True(attention.Config.QkNorm);
        Assert.Contains(with.named_parameters(), p => p.name == "blocks.0.attn.q_norm.weight" && p.parameter.shape.SequenceEqual(new long[] { 8 }));
        Assert.Equal(without.CountParameters() + (3 * 2 * 8), with.CountParameters()); // a scale of a head's size for q and for k, per block
        Assert.Equal(with.Cost.Parameters, with.CountParameters());
        Assert.NotEqual(without.Fingerprint, with.Fingerprint);
        Assert.Contains("\"qkNorm\": true", with.Architecture);
        Assert.DoesNotContain("qkNorm", without.Architecture);

        // transformers' Llama has no QK-norm: the export refuses rather than write a different model.
        Assert.Null(HuggingFaceExport.Unsupported(without));
        Assert.Contains("qkNorm", HuggingFaceExport.Unsupported(with));
    }

    [Fact]
    public void Qk_norm_from_attributes_generates_what_yaml_does()
    {
        var attributes = """
            using SlmGen;
            namespace Test.Models;
            [Model(Vocab = 40, Context = 16)]
            [TokenEmbedding(Dim = 32)]
            [Positions(PositionKind.Rope)]
            [TransformerBlocks(Layers = 3, Heads = 4, KvHeads = 2, FfnHidden = 48, Activation = Act.SwiGlu, Norm = NormKind.RmsNorm, AttentionBias = false, FfnBias = false, QkNorm = true)]
            [FinalNorm(NormKind.RmsNorm)]
            [LMHead(TiedToEmbedding = true)]
            public partial class Qk { }
            """;
        var a = GeneratorRun.Of(new[] { ("/0/Qk.cs", attributes) }).ModelAndCosts("Test.Models.Qk");
        var y = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/qk.yaml", Llama) }).ModelAndCosts("Test.Models.Qk");
        Assert.Equal(y, a);
        Assert.Contains("{ QkNorm = true }", a);
    }

    [Fact]
    public void Qk_norm_makes_attention_blind_to_the_scale_of_queries_and_keys()
    {
        // RMSNorm over each head removes any scale of q and k: multiplying their projection by 10 changes nothing
        // with QK-norm, and changes the scores (so the output) without it.
        foreach (var qkNorm in new[] { true, false })
        {
            torch.manual_seed(5);
            var config = new AttentionConfig(Heads: 2, KvHeads: 2, HeadDim: 8, PackedQkv: false, Bias: false, Dropout: 0, Context: 8, Rope: new RopeConfig(10000), WeightBits: 0) { QkNorm = qkNorm };
            using var attention = new CausalSelfAttention(16, config);
            using var x = torch.randn(2, 8, 16);
            using var before = attention.call(x);
            using (torch.no_grad())
            {
                var weights = attention.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                weights["q_proj.weight"].mul_(10);
                weights["k_proj.weight"].mul_(10);
            }

            using var after = attention.call(x);
            var change = (after - before).abs().max().item<float>();
            Assert.True(qkNorm ? change < 1e-4 : change > 1e-3, $"qk_norm {qkNorm}: change {change}");
        }
    }
}
