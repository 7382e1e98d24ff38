using System;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;
using SlmGen.Generation;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The design vocabulary of today's compact models (issue 27): squared-ReLU MLPs, parameter-free RMSNorm, QK-norm
/// without its scale, per-head query gains, partial RoPE, branch scales, residual mixing with x₀, parallel blocks,
/// U-Net skips and logit soft-capping — declared in YAML and attributes, costed exactly, built as declared.
/// </summary>
[HoldTensors]
public class CompactVocabularyTests
{
    private const string Modern = """
        name: Modern
        namespace: Test.Models
        vocab: 65
        context: 16
        embedding: 32
        positions: rope
        layers:
          - transformer: { layers: 5, heads: 4, kv_heads: 2, ffn: 2x, activation: relu2, norm: rmsnorm_free, attention_bias: false, ffn_bias: false, packed_qkv: false, qk_norm: true, qk_norm_weight: false, query_gain: 1.5, rope_dims: 4, branch_scales: true, residual_mix: true, depth_scaled_norms: true, unet_skips: true }
        final_norm: rmsnorm_free
        head: { tied: true, softcap: 15 }
        """;

    private static GeneratorRun Run(string yaml) => GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/m.yaml", yaml) });

    private static SlmModel Build(string yaml)
    {
        var run = Run(yaml);
        Assert.Empty(run.CompileErrors);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        return Assert.Single(ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray()))).Create();
    }

    [Fact]
    public void Every_lever_at_once_has_the_parameters_and_flops_the_layers_have()
    {
        using var model = Build(Modern);
        // Per block: q 32×32, k and v 32×16, output 32×32 (3,072); 4 query gains; MLP 2 × 32×64 (4,096); branch
        // scales 2 × 32 and the residual mix 2 × 32 (128); no norm parameters. 5 blocks, 2 U-Net skips × 32, a
        // tied 65 × 32 embedding: 5 × 7,300 + 64 + 2,080 = 38,644.
        Assert.Equal(38_644L, model.Cost.Parameters);
        Assert.Equal(model.Cost.Parameters, model.CountParameters());
        var measured = CostProbe.Measure(model, batch: 1);
        Assert.Equal(model.Cost.ForwardFlopsPerToken, measured.ForwardFlopsPerPrediction);
        Assert.Equal(model.Cost.TrainingFlopsPerToken, measured.TrainingFlopsPerPrediction);

        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("blocks.0.attn.q_gain", names);
        Assert.Contains("blocks.4.attn_scale", names);
        Assert.Contains("blocks.4.mlp_scale", names);
        Assert.Contains("blocks.2.resid_mix", names);
        Assert.Contains("blocks_skip_weights", names);
        Assert.DoesNotContain(names, n => n.Contains("norm", StringComparison.Ordinal) || n.StartsWith("ln_", StringComparison.Ordinal)); // parameter-free norms

        // Initialisation: gains at their declared value, mixes at (1, 0), skip weights at one — whatever the scheme.
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.True(p["blocks.1.attn.q_gain"].allclose(full(4, 1.5f)));
        Assert.True(p["blocks.1.resid_mix"][0].allclose(ones(32)) && p["blocks.1.resid_mix"][1].allclose(zeros(32)));
        Assert.True(p["blocks_skip_weights"].allclose(ones(2, 32)));
    }

    [Fact]
    public void Gpt2_initialisation_leaves_mixes_and_skip_weights_as_declared()
    {
        using var model = Build(Modern.Replace("positions: rope", "positions: rope\ninit: gpt2"));
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.True(p["blocks_skip_weights"].allclose(ones(2, 32)));
        Assert.True(p["blocks.3.resid_mix"][1].allclose(zeros(32)));
        Assert.True(p["blocks.3.attn.q_proj.weight"].std().item<float>() is > 0.01f and < 0.03f); // the matrices do get N(0, 0.02)
    }

    [Fact]
    public void The_unet_forward_is_the_documented_one()
    {
        // Blocks 0 … k-1 keep their outputs; block k + j adds skip weight j times the output of block k-1-j; with five
        // blocks (k = 2) block 4 receives nothing. Recomputed here from the blocks themselves.
        torch.manual_seed(3);
        using var model = Build(Modern);
        using (no_grad())
        {
            var w = model.named_parameters().Single(x => x.name == "blocks_skip_weights").parameter;
            w.copy_(randn(2, 32));
        }

        model.eval();
        using var idx = randint(0, 65, new long[] { 2, 16 });
        using var features = model.Features(idx);
        var blocks = model.modules().OfType<TransformerBlock>().ToList();
        var weights = model.named_parameters().Single(x => x.name == "blocks_skip_weights").parameter;
        var embedding = model.named_modules().Single(m => m.name == "wte").module as TorchSharp.Modules.Embedding;
        var x = embedding!.call(idx);
        var x0 = x;
        var outputs = new Tensor[5];
        for (var i = 0; i < 5; i++)
        {
            if (i == 2) x = x + (weights[0] * outputs[1]);
            if (i == 3) x = x + (weights[1] * outputs[0]);
            x = blocks[i].Apply(x, 0, x0);
            outputs[i] = x;
        }

        var expected = (x.to(ScalarType.Float32) * (x.to(ScalarType.Float32).pow(2).mean(new long[] { -1 }, keepdim: true) + 1e-6).rsqrt()); // ln_f, parameter-free
        Assert.True(features.allclose(expected, rtol: 1e-5, atol: 1e-6), $"max difference {(features - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Soft_capped_scores_are_cap_times_tanh_and_bounded()
    {
        using var model = Build(Modern.Replace("softcap: 15", "softcap: 0.5"));
        using var idx = randint(0, 65, new long[] { 2, 16 });
        model.eval();
        using var logits = model.Logits(idx, lastPositionOnly: false);
        Assert.True(logits.abs().max().item<float>() <= 0.5f);
        var table = model.named_parameters().Single(x => x.name == "wte.weight").parameter;
        using var raw = model.Features(idx).matmul(table.t());
        Assert.True(logits.allclose((raw / 0.5).tanh() * 0.5, atol: 1e-6));
    }

    [Fact]
    public void Partial_rope_turns_the_first_dimensions_and_passes_the_rest()
    {
        using var rope = new RotaryEmbedding(context: 16, headDim: 4, theta: 10000);
        using var x = randn(1, 2, 8, 10);
        using var y = rope.Rotate(x, 3);
        Assert.True(y.narrow(3, 4, 6).allclose(x.narrow(3, 4, 6), rtol: 0, atol: 0));
        Assert.True(y.narrow(3, 0, 4).allclose(rope.Rotate(x.narrow(3, 0, 4).contiguous(), 3)));
        Assert.False(y.narrow(3, 0, 4).allclose(x.narrow(3, 0, 4)));
    }

    [Fact]
    public void Squared_relus_and_the_parameter_free_norm_compute_what_they_say()
    {
        using var x = tensor(new float[] { -2, -0.5f, 0, 1.5f, 3 });
        Assert.Equal(new float[] { 0, 0, 0, 2.25f, 9 }, Activations.Apply(Act.ReluSquared, x).data<float>().ToArray());
        Assert.Equal(new float[] { 1, 0.0625f, 0, 2.25f, 9 }, Activations.Apply(Act.LeakyReluSquared, x).data<float>().ToArray());

        using var norm = new RmsNorm(6, learnedScale: false);
        Assert.Empty(norm.parameters());
        using var y = norm.call(randn(3, 6) * 7);
        Assert.True(y.pow(2).mean(new long[] { -1 }).allclose(ones(3), rtol: 1e-4));
    }

    [Fact]
    public void Residual_mixing_at_its_initial_value_changes_nothing_and_can_take_x0_only()
    {
        torch.manual_seed(9);
        var config = BlockConfig.Blank with
        {
            Width = 16,
            Attention = new AttentionConfig(2, 2, 8, false, false, 0, 8, null, 0),
            FeedForward = new FeedForwardConfig(32, Act.ReluSquared, false, 0, 0),
            Norm = new NormConfig(NormKind.RmsNorm, false, true),
            Sharing = new SharingConfig(1, 1, 0),
        };
        using var plain = new TransformerBlock(config);
        using var mixing = new TransformerBlock(config with { ResidualMix = true });
        using (no_grad())
        {
            foreach (var (name, p) in plain.named_parameters())
            {
                mixing.named_parameters().Single(x => x.name == name).parameter.copy_(p);
            }
        }

        using var x = randn(2, 8, 16);
        using var x0 = randn(2, 8, 16);
        Assert.True(mixing.Apply(x, 0, x0).allclose(plain.call(x), atol: 1e-6));
        using (no_grad())
        {
            var mix = mixing.named_parameters().Single(p => p.name == "resid_mix").parameter;
            mix[0].zero_();
            mix[1].fill_(1);
        }

        Assert.True(mixing.Apply(x, 0, x0).allclose(plain.call(x0), atol: 1e-6));
        Assert.Throws<ArgumentException>(() => mixing.call(x));
    }

    [Fact]
    public void A_parallel_block_adds_both_branches_of_the_same_input()
    {
        torch.manual_seed(4);
        var config = BlockConfig.Blank with
        {
            Width = 16,
            Attention = new AttentionConfig(2, 2, 8, true, true, 0, 8, null, 0),
            FeedForward = new FeedForwardConfig(32, Act.Gelu, true, 0, 0),
            Norm = new NormConfig(NormKind.LayerNorm, true, true),
            Sharing = new SharingConfig(1, 1, 0),
            Parallel = true,
            BranchScales = true,
        };
        using var block = new TransformerBlock(config);
        using (no_grad())
        {
            block.named_parameters().Single(p => p.name == "mlp_scale").parameter.fill_(2);
        }

        using var x = randn(2, 8, 16);
        var norms = block.named_modules().Where(m => m.name is "ln_1" or "ln_2").ToDictionary(m => m.name, m => (nn.Module<Tensor, Tensor>)m.module);
        using var expected = x + block.Attention.call(norms["ln_1"].call(x)) + (2 * block.Mlp.call(norms["ln_2"].call(x)));
        Assert.True(block.call(x).allclose(expected, atol: 1e-6));
    }

    [Fact]
    public void Depth_scaled_norms_scale_block_i_by_one_over_the_root_of_i_plus_one()
    {
        using var model = Build(Modern);
        var blocks = model.modules().OfType<TransformerBlock>().ToList();
        Assert.Equal(Enumerable.Range(0, 5), blocks.Select(b => b.Config.Depth));
        Assert.Equal(1 / Math.Sqrt(4), blocks[3].Config.NormOutputScale, 12);

        // A parallel pre-norm block at depth 3: x + attn(ln_1(x) / 2) + mlp(ln_2(x) / 2).
        torch.manual_seed(8);
        var config = BlockConfig.Blank with
        {
            Width = 16,
            Attention = new AttentionConfig(2, 2, 8, true, false, 0, 8, null, 0),
            FeedForward = new FeedForwardConfig(32, Act.LeakyReluSquared, false, 0, 0),
            Norm = new NormConfig(NormKind.RmsNormFree, false, true),
            Sharing = new SharingConfig(1, 1, 0),
            Parallel = true,
            DepthScaledNorms = true,
            Depth = 3,
        };
        using var block = new TransformerBlock(config);
        using var x = randn(2, 8, 16);
        using var normed = x * (x.pow(2).mean(new long[] { -1 }, keepdim: true) + 1e-6).rsqrt() / 2;
        Assert.True(block.call(x).allclose(x + block.Attention.call(normed) + block.Mlp.call(normed), atol: 1e-5));
    }

    private const string Values = """
        name: Values
        namespace: Test.Models
        vocab: 65
        context: 16
        embedding: 32
        positions: rope
        layers:
          - transformer: { layers: 3, heads: 4, kv_heads: 2, ffn: 2x, norm: rmsnorm, packed_qkv: true, value_residual: true }
        head: tied
        """;

    [Fact]
    public void Value_residual_gives_each_later_block_one_lambda_that_mixes_block_zero_values()
    {
        using var mixing = Build(Values);
        using var plain = Build(Values.Replace(", value_residual: true", string.Empty));
        // One λ for each of blocks 1 and 2, initialised to 0.5; block 0 has none.
        Assert.Equal(plain.Cost.Parameters + 2, mixing.Cost.Parameters);
        Assert.Equal(mixing.Cost.Parameters, mixing.CountParameters());
        var measured = CostProbe.Measure(mixing, batch: 1);
        Assert.Equal((plain.Cost.ForwardFlopsPerToken, plain.Cost.TrainingFlopsPerToken), (measured.ForwardFlopsPerPrediction, measured.TrainingFlopsPerPrediction));
        var lambdas = mixing.named_parameters().Where(p => p.name.EndsWith("value_lambda", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "blocks.1.attn.value_lambda", "blocks.2.attn.value_lambda" }, lambdas.Select(p => p.name));
        Assert.All(lambdas, p => Assert.Equal(0.5f, p.parameter.item<float>()));
        Assert.Single(mixing.Cost.Components, c => c.Name == "blocks.value_residual" && c.Parameters == 2 && c.ForwardFlopsPerToken == 0);

        // With every λ at zero the model is the plain one; at λ = 0.5 it is not, and λ learns.
        using (no_grad())
        {
            foreach (var (name, p) in plain.named_parameters())
            {
                mixing.named_parameters().Single(x => x.name == name).parameter.copy_(p);
            }

            foreach (var (_, p) in lambdas)
            {
                p.zero_();
            }
        }

        mixing.eval();
        plain.eval();
        using var idx = randint(0, 65, new long[] { 2, 16 });
        Assert.True(mixing.Logits(idx, false).allclose(plain.Logits(idx, false), atol: 1e-6));
        using (no_grad())
        {
            lambdas[1].parameter.fill_(0.5f);
        }

        Assert.False(mixing.Logits(idx, false).allclose(plain.Logits(idx, false), atol: 1e-4));
        mixing.train();
        mixing.Logits(idx, false).square().mean().backward();
        Assert.True(lambdas[1].parameter.grad is { } g && g.abs().item<float>() > 0);

        // Decoding with the KV cache mixes the new positions' values as the full window does.
        mixing.eval();
        var full = TextGenerator.Generate(mixing, new[] { 3, 4 }, 20, SamplingOptions.Greedy with { Cache = KvCacheMode.Off });
        var cached = TextGenerator.Generate(mixing, new[] { 3, 4 }, 20, SamplingOptions.Greedy);
        Assert.Equal(full, cached);
    }

    [Fact]
    public void Value_residual_needs_later_blocks_one_pass_and_equal_value_widths()
    {
        foreach (var (to, words) in new[]
        {
            ("layers: 1, heads: 4", "a stack of one block"),
            ("layers: 3, repeat: 2, heads: 4", "shared stack"),
            ("layers: 3, head_dim: 8, heads: [4, 4, 2], kv_heads: [2, 2, 1]", "block 2"),
        })
        {
            var yaml = Values.Replace("layers: 3, heads: 4, kv_heads: 2", to);
            var run = Run(yaml);
            Assert.Empty(run.Exceptions);
            var d = run.GeneratorDiagnostics.FirstOrDefault(x => x.Id == "SLM0012" && x.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(words, StringComparison.Ordinal));
            Assert.True(d is not null, $"{to}: {string.Join("; ", run.GeneratorDiagnostics)}");
            var span = d!.Location.GetLineSpan();
            Assert.Equal("/specs/m.yaml", span.Path);
            Assert.Contains("value_residual", yaml.Split('\n')[span.StartLinePosition.Line], StringComparison.Ordinal);
            Assert.False(run.Declares("Test.Models.Values"));
        }

        // The attribute front-end declares the same model.
        const string attributes = """
            using SlmGen;
            namespace Test.Models;
            [Model(Vocab = 65, Context = 16)]
            [TokenEmbedding(Dim = 32)]
            [Positions(PositionKind.Rope)]
            [TransformerBlocks(Layers = 3, Heads = 4, KvHeads = 2, FfnMultiplier = 2, Norm = NormKind.RmsNorm, PackedQkv = true, ValueResidual = true)]
            [LMHead(TiedToEmbedding = true)]
            public partial class Values { }
            """;
        var fromAttributes = GeneratorRun.Of(new[] { ("/0/Values.cs", attributes) }, Array.Empty<(string, string)>());
        Assert.Empty(fromAttributes.CompileErrors);
        Assert.Equal(Run(Values).ModelAndCosts("Test.Models.Values"), fromAttributes.ModelAndCosts("Test.Models.Values"));

        // Equal k/v widths with different query heads are fine.
        var ok = Run(Values.Replace("layers: 3, heads: 4, kv_heads: 2", "layers: 3, head_dim: 8, heads: [4, 2, 2], kv_heads: [2, 2, 2]"));
        Assert.DoesNotContain(ok.GeneratorDiagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Empty(ok.CompileErrors);
    }

    private const string Bigrams = """
        name: Bigrams
        namespace: Test.Models
        vocab: 65
        context: 16
        embedding: { dim: 32, bigram_buckets: 11, bigram_dim: 8 }
        positions: learned
        layers:
          - transformer: { layers: 2, heads: 4, ffn: 2x }
        head: tied
        """;

    [Fact]
    public void Hashed_bigrams_cost_their_table_and_projection_and_start_as_no_change()
    {
        using var bigrams = Build(Bigrams);
        using var plain = Build(Bigrams.Replace(", bigram_buckets: 11, bigram_dim: 8", string.Empty));
        // An 11 × 8 table and an 8 → 32 projection; the projection's FLOPs at every position (2·8·32 forward).
        Assert.Equal(plain.Cost.Parameters + (11 * 8) + (8 * 32), bigrams.Cost.Parameters);
        Assert.Equal(bigrams.Cost.Parameters, bigrams.CountParameters());
        Assert.Equal(plain.Cost.ForwardFlopsPerToken + (2 * 8 * 32), bigrams.Cost.ForwardFlopsPerToken);
        var measured = CostProbe.Measure(bigrams, batch: 1);
        Assert.Equal((bigrams.Cost.ForwardFlopsPerToken, bigrams.Cost.TrainingFlopsPerToken), (measured.ForwardFlopsPerPrediction, measured.TrainingFlopsPerPrediction));
        var p = bigrams.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.Equal(new long[] { 11, 8 }, p["bigram.embed.weight"].shape);
        Assert.True(p["bigram.proj.weight"].count_nonzero().item<long>() == 0); // no change at the start
        Assert.Equal(ParameterRole.Embedding, ParameterRoles.Of(bigrams).Single(r => r.Name == "bigram.embed.weight").Role);
        Assert.Equal(ParameterRole.Matrix, ParameterRoles.Of(bigrams).Single(r => r.Name == "bigram.proj.weight").Role);

        // The documented hash: the first position takes bucket 10; then ((36313·x_t) XOR (27191·x_(t−1))) mod 10.
        var layer = bigrams.modules().OfType<BigramHash>().Single();
        using var ids = tensor(new long[] { 3, 5, 7, 64 }).view(1, 4);
        long H(long previous, long current) => ((36_313 * current) ^ (27_191 * previous)) % 10;
        Assert.Equal(new[] { 10, H(3, 5), H(5, 7), H(7, 64) }, layer.Hash(ids, null).data<long>().ToArray());

        // At the start the model is the plain one; once the projection is not zero it is not.
        using (no_grad())
        {
            foreach (var (name, q) in plain.named_parameters())
            {
                p[name].copy_(q);
            }
        }

        bigrams.eval();
        plain.eval();
        using var idx = randint(0, 65, new long[] { 2, 16 });
        Assert.True(bigrams.Logits(idx, false).allclose(plain.Logits(idx, false), atol: 1e-6));
        using (no_grad())
        {
            nn.init.normal_(p["bigram.proj.weight"], 0, 0.5);
            nn.init.normal_(p["bigram.embed.weight"], 0, 1);
        }

        Assert.False(bigrams.Logits(idx, false).allclose(plain.Logits(idx, false), atol: 1e-4));

        // Decoding with the KV cache hashes each new token with the one before it, as the full window does.
        var full = TextGenerator.Generate(bigrams, new[] { 3, 4, 9 }, 20, SamplingOptions.Greedy with { Cache = KvCacheMode.Off });
        var cached = TextGenerator.Generate(bigrams, new[] { 3, 4, 9 }, 20, SamplingOptions.Greedy);
        Assert.Equal(full, cached);
    }

    [Fact]
    public void Bigram_settings_are_checked_where_they_are_written_and_attributes_say_the_same()
    {
        foreach (var (to, id, key) in new[]
        {
            ("bigram_buckets: 1, bigram_dim: 8", "SLM0003", "bigram_buckets"),
            ("bigram_buckets: 11, bigram_dim: -2", "SLM0003", "bigram_dim"),
            ("bigram_dim: 8", "SLM0012", "bigram_dim"),
        })
        {
            var yaml = Bigrams.Replace("bigram_buckets: 11, bigram_dim: 8", to);
            var run = Run(yaml);
            Assert.Empty(run.Exceptions);
            var d = run.GeneratorDiagnostics.FirstOrDefault(x => x.Id == id);
            Assert.True(d is not null, $"{to}: {string.Join("; ", run.GeneratorDiagnostics)}");
            var span = d!.Location.GetLineSpan();
            Assert.Equal("/specs/m.yaml", span.Path);
            Assert.Contains(key, yaml.Split('\n')[span.StartLinePosition.Line].Substring(Math.Max(0, span.StartLinePosition.Character - key.Length - 4)), StringComparison.Ordinal);
            Assert.False(run.Declares("Test.Models.Bigrams"));
        }

        const string attributes = """
            using SlmGen;
            namespace Test.Models;
            [Model(Vocab = 65, Context = 16)]
            [TokenEmbedding(Dim = 32, BigramBuckets = 11, BigramDim = 8)]
            [Positions(PositionKind.Learned)]
            [TransformerBlocks(Layers = 2, Heads = 4, FfnMultiplier = 2)]
            [LMHead(TiedToEmbedding = true)]
            public partial class Bigrams { }
            """;
        var fromAttributes = GeneratorRun.Of(new[] { ("/0/Bigrams.cs", attributes) }, Array.Empty<(string, string)>());
        Assert.Empty(fromAttributes.CompileErrors);
        Assert.Equal(Run(Bigrams).ModelAndCosts("Test.Models.Bigrams"), fromAttributes.ModelAndCosts("Test.Models.Bigrams"));
    }

    [Fact]
    public void Attributes_and_yaml_declare_the_same_model()
    {
        const string attributes = """
            using SlmGen;
            namespace Test.Models;
            [Model(Vocab = 65, Context = 16)]
            [TokenEmbedding(Dim = 32)]
            [Positions(PositionKind.Rope)]
            [TransformerBlocks(Layers = 5, Heads = 4, KvHeads = 2, FfnMultiplier = 2, Activation = Act.ReluSquared, Norm = NormKind.RmsNormFree, AttentionBias = false, FfnBias = false, PackedQkv = false,
                QkNorm = true, QkNormWeight = false, QueryGain = 1.5, RopeDims = 4, BranchScales = true, ResidualMix = true, DepthScaledNorms = true, UNetSkips = true)]
            [FinalNorm(NormKind.RmsNormFree)]
            [LMHead(TiedToEmbedding = true, SoftCap = 15)]
            public partial class Modern { }
            """;
        var fromAttributes = GeneratorRun.Of(new[] { ("/0/Modern.cs", attributes) }, Array.Empty<(string, string)>());
        Assert.Empty(fromAttributes.CompileErrors);
        Assert.Equal(Run(Modern).ModelAndCosts("Test.Models.Modern"), fromAttributes.ModelAndCosts("Test.Models.Modern"));
    }

    [Theory]
    [InlineData("qk_norm: true, qk_norm_weight: false", "qk_norm: false, qk_norm_weight: false", "SLM0012", "qk_norm_weight")]
    [InlineData("query_gain: 1.5", "query_gain: -1", "SLM0003", "query_gain")]
    [InlineData("rope_dims: 4", "rope_dims: 3", "SLM0003", "rope_dims")]
    [InlineData("rope_dims: 4", "rope_dims: 10", "SLM0003", "rope_dims")]
    [InlineData("unet_skips: true", "unet_skips: true, repeat: 2", "SLM0012", "unet_skips")]
    [InlineData("layers: 5", "layers: 1", "SLM0012", "unet_skips")]
    [InlineData("branch_scales: true", "branch_scales: true, parallel: true, pre_norm: false", "SLM0012", "parallel")]
    [InlineData("softcap: 15", "softcap: -3", "SLM0003", "softcap")]
    [InlineData("depth_scaled_norms: true", "depth_scaled_norms: true, pre_norm: false", "SLM0012", "depth_scaled_norms")]
    public void A_misused_option_gets_a_located_diagnostic(string from, string to, string id, string key)
    {
        var yaml = Modern.Replace(from, to);
        var run = Run(yaml);
        Assert.Empty(run.Exceptions);
        var diagnostic = run.GeneratorDiagnostics.FirstOrDefault(d => d.Id == id);
        Assert.True(diagnostic is not null, $"expected {id}, got {string.Join("; ", run.GeneratorDiagnostics)}");
        var span = diagnostic!.Location.GetLineSpan();
        Assert.Equal("/specs/m.yaml", span.Path);
        var line = yaml.Split('\n')[span.StartLinePosition.Line];
        Assert.Contains(key, line.Substring(Math.Max(0, span.StartLinePosition.Character - key.Length - 4)), StringComparison.Ordinal);
        Assert.False(run.Declares("Test.Models.Modern"));
    }

    [Fact]
    public void Rope_dims_need_rotary_positions_and_soft_caps_need_scores()
    {
        var learned = Run(Modern.Replace("positions: rope", "positions: learned"));
        Assert.Contains(learned.GeneratorDiagnostics, d => d.Id == "SLM0012" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("rope_dims"));
        var grouped = Run(Modern.Replace("head: { tied: true, softcap: 15 }", "head: { groups: 5, softcap: 15 }"));
        Assert.Contains(grouped.GeneratorDiagnostics, d => d.Id == "SLM0012" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("grouped head"));
    }
}
