using System;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// Costs exact for every valid design: random valid specs (both front-ends) are generated, compiled,
/// loaded, instantiated with TorchSharp, and their parameter and FLOP constants compared with the module's
/// parameters and with the runtime counter's count of a real forward pass (CostProbe: per token, or per
/// prediction for flatten models, and with the head on the last position only).
/// </summary>
[HoldTensors]
public class CostTruthTests
{
    private const int Rounds = 8;
    private const int DesignsPerRound = 250;
    private const int LeverRounds = 4;

    /// <summary>Seeds 7000–7007: the layers of the first release; 8000–8003: with the compact-model levers too.</summary>
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Rounds; i++)
        {
            data.Add(7000 + i);
        }

        for (var i = 0; i < LeverRounds; i++)
        {
            data.Add(8000 + i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_valid_designs_have_exactly_the_costs_TorchSharp_measures(int seed) => Check(seed, recent: false);

    /// <summary>
    /// Seeds 8100–8101: the levers with QK-norm and the compact-model vocabulary of issue 27 (squared ReLUs,
    /// parameter-free norms, query gains, partial RoPE, branch scales, residual mixing, parallel blocks, U-Net skips,
    /// value residual, soft-capped heads, hashed bigrams), against TorchSharp's modules, the runtime counter and the
    /// PyTorch records (results/flops-twins: the cost report SLMGEN_TWIN_EXPORT writes, counted by
    /// scripts/gpu/flops_twins.py on the H200).
    /// </summary>
    [Theory]
    [InlineData(8100)]
    [InlineData(8101)]
    public void Random_designs_with_the_recent_levers_have_exactly_the_costs_TorchSharp_measures(int seed) => Check(seed, recent: true);

    /// <summary>
    /// Seed 8200: grouped heads, conditioned on the group or not, with the recent levers, against TorchSharp's modules
    /// and the runtime counter, and against PyTorch's FlopCounterMode (results/flops-twins/cuda-h100.jsonl).
    /// </summary>
    [Fact]
    public void Random_designs_with_grouped_and_conditioned_heads_have_exactly_the_costs_TorchSharp_measures() => Check(8200, recent: true, grouped: true);

    private static void Check(int seed, bool recent, bool grouped = false)
    {
        var designs = new RandomDesigns(seed, levers: seed >= 8000, recent: recent, grouped: grouped);
        var sources = new System.Text.StringBuilder("using SlmGen;\nnamespace Truth;\n");
        var specs = new System.Collections.Generic.List<(string, string)>();
        for (var i = 0; i < DesignsPerRound; i++)
        {
            var (yaml, attributes) = designs.Next($"D{seed}_{i}");
            if (yaml is not null)
            {
                specs.Add(($"/specs/d{i}.yaml", yaml));
            }
            else
            {
                sources.Append(attributes);
            }
        }

        var run = GeneratorRun.Of(new[] { ("/0/Designs.cs", sources.ToString()) }, specs);
        var errors = run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, $"seed {seed}: valid designs were refused: {string.Join("\n", errors.Take(5))}");
        Assert.Empty(run.CompileErrors);

        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Take(5)));
        var assembly = System.Reflection.Assembly.Load(image.ToArray());
        var models = ModelCatalog.For(assembly);
        Assert.Equal(DesignsPerRound, models.Count);

        // For the PyTorch twin check on the GPU machine (scripts/gpu/flops_twins.py): the cost report of these designs.
        if (Environment.GetEnvironmentVariable("SLMGEN_TWIN_EXPORT") is { Length: > 0 } export)
        {
            var json = (string)assembly.GetType("SlmGen.Generated.SlmGenCostReport")!.GetField("Json")!.GetValue(null)!;
            Directory.CreateDirectory(export);
            File.WriteAllText(Path.Combine(export, $"random-{seed}.json"), json);
        }

        foreach (var descriptor in models)
        {
            using var model = descriptor.Create();
            var cost = descriptor.Cost;
            Assert.True(cost.Parameters == model.CountParameters(), $"{descriptor.Name}: parameters {cost.Parameters} vs module {model.CountParameters()}\n{Describe(run, descriptor)}");

            var measured = CostProbe.Measure(model, batch: 1);
            Assert.True(cost.ForwardFlopsPerToken == measured.ForwardFlopsPerPrediction && cost.TrainingFlopsPerToken == measured.TrainingFlopsPerPrediction,
                $"{descriptor.Name}: FLOPs {cost.ForwardFlopsPerToken}/{cost.TrainingFlopsPerToken} vs measured {measured.ForwardFlopsPerPrediction}/{measured.TrainingFlopsPerPrediction}\n{Describe(run, descriptor)}");
            Assert.Equal(cost.PositionsPerWindow, measured.Predictions);

            var last = CostProbe.Measure(model, batch: 1, lastPositionOnly: true);
            Assert.True(cost.ForwardFlopsPerWindow(lastPositionOnly: true) == last.ForwardFlops, $"{descriptor.Name}: last-position FLOPs\n{Describe(run, descriptor)}");
        }

        if (recent)
        {
            // The recent levers were drawn: QK-norm, the residual-stream vectors and U-Net skips, soft-capped heads.
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Description.Contains("QK-norm (parameter-free)")));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Name.EndsWith("_skip_weights", StringComparison.Ordinal)));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Kind == "residual" && c.Description.Contains("resid_mix")));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Description.Contains("soft-capped")));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Name.EndsWith(".value_residual", StringComparison.Ordinal)));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Description.StartsWith("hashed bigram", StringComparison.Ordinal) && c.Description.Contains("projected")));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Description.StartsWith("hashed bigram", StringComparison.Ordinal) && !c.Description.Contains("projected")));
        }

        if (grouped)
        {
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Description.Contains("conditioned on the group")));
            Assert.Contains(models, m => m.Cost.Components.Any(c => c.Description.Contains("(grouped, ")));
        }

        // The same designs were counted by PyTorch's FlopCounterMode on twins on the GPU machine
        // (results/flops-twins/): today's constants must be the ones PyTorch agreed with.
        var records = TwinRecords.Value;
        foreach (var descriptor in models)
        {
            Assert.True(records.TryGetValue(descriptor.FullName, out var record), $"{descriptor.Name}: no PyTorch record (re-run scripts/gpu/flops_twins.py)");
            Assert.Equal((descriptor.Cost.Parameters, descriptor.Cost.ForwardFlopsPerToken, descriptor.Cost.TrainingFlopsPerToken, descriptor.Cost.WeightBytesDeclared),
                (record.Parameters, record.Forward, record.FusedTraining, record.WeightBytes));
            Assert.True(record.Ok, $"{descriptor.Name}: PyTorch disagreed");
        }
    }

    [Fact]
    public void Weight_bytes_at_the_declared_precision_follow_the_layout()
    {
        // Embedding 10×8 at 8 bits: 80 + 10 fp16 scales (20) = 100. Packed qkv 24×8 at 4 bits: 96 + 48 = 144;
        // output 8×8: 32 + 16 = 48. FFN 16×8 and 8×16 at 2 bits: 32 + 32 and 32 + 16. Head 10×8 at 4 bits:
        // 40 + 20. No biases, no norms: 100 + 192 + 112 + 60 = 464 (fp32 would be 4 × 672 parameters).
        const string yaml = "vocab: 10\ncontext: 4\nembedding: 8\nlayers:\n  - transformer: { layers: 1, heads: 2, ffn: 16, norm: none, attention_bias: false, ffn_bias: false }\n" +
                            "quantization: { attention: 4, mlp: 2, head: 4, embedding: 8 }\nbudget: { max_weight_bytes: 400 }\n";
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/q.yaml", yaml) });
        Assert.Empty(run.CompileErrors);
        var costs = run.Costs("Test.Models.Q");
        Assert.Contains("public const long ParameterCount = 672L;", costs);
        Assert.Contains("public const long WeightBytesDeclared = 464L;", costs);
        var over = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "SLM0103");
        Assert.Contains("464 bytes at the declared precision", over.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        var plain = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/q.yaml", yaml.Replace("quantization: { attention: 4, mlp: 2, head: 4, embedding: 8 }\n", string.Empty)) });
        Assert.Contains("public const long WeightBytesDeclared = 2_688L;", plain.Costs("Test.Models.Q"));
    }

    [Fact]
    public void A_MobileLLM_125M_shaped_spec_builds_with_its_parameter_count()
    {
        // 30 layers of width 576, 9 query heads and 3 key/value heads of 64, SwiGLU 1536, RMSNorm, RoPE, no
        // biases, tied 32,000 × 576 embedding: 32,000·576 + 30·(576·576·2 + 576·192·2 + 3·576·1536 + 2·576) + 576.
        var yaml = File.ReadAllText(Repo.Path("specs", "large", "mobilellm-125m.yaml"));
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/mobilellm-125m.yaml", yaml) });
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Empty(run.CompileErrors);
        const long expected = (32_000L * 576) + (30L * ((576 * 576 * 2) + (576 * 192 * 2) + (3 * 576 * 1536) + (2 * 576))) + 576;
        Assert.Equal(124_635_456L, expected);
        Assert.Contains("public const long ParameterCount = 124_635_456L;", run.Costs("Test.Models.MobileLlm125M"));
        Assert.Contains("KvHeads: 3,", run.Costs("Test.Models.MobileLlm125M"));
        if (Environment.GetEnvironmentVariable("SLMGEN_TWIN_EXPORT") is { Length: > 0 } export)
        {
            using var image = new MemoryStream();
            Assert.True(run.Output.Emit(image).Success);
            var assembly = System.Reflection.Assembly.Load(image.ToArray());
            File.WriteAllText(Path.Combine(export, "mobilellm-125m.json"), (string)assembly.GetType("SlmGen.Generated.SlmGenCostReport")!.GetField("Json")!.GetValue(null)!);
        }

        Assert.True(TwinRecords.Value.TryGetValue("Test.Models.MobileLlm125M", out var record) && record.Ok && record.Parameters == expected,
            "PyTorch's count of the twin (results/flops-twins) differs or is missing");
    }

    /// <summary>One model's PyTorch record: the constants it was compared with, the training FLOPs FlopCounterMode
    /// counted and the ones the script expected (the report's, less half the score FLOPs of math-path attention).</summary>
    private sealed record TwinRecord(bool Ok, long Parameters, long Forward, long FusedTraining, long WeightBytes, long Measured, long Expected);

    private static readonly Lazy<System.Collections.Generic.Dictionary<string, TwinRecord>> TwinRecords = new(() =>
        new[] { "cuda-h200.jsonl", "cuda-h100.jsonl" }
            .SelectMany(file => File.ReadLines(Repo.Path("results", "flops-twins", file)))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .Where(r => r.TryGetProperty("model", out _))
            .ToDictionary(
                r => r.GetProperty("model").GetString()!,
                r => new TwinRecord(r.GetProperty("ok").GetBoolean(), r.GetProperty("params")[1].GetInt64(), r.GetProperty("fwd")[1].GetInt64(), r.GetProperty("fused_train").GetInt64(),
                    r.GetProperty("weight_bytes")[1].GetInt64(), r.GetProperty("train")[0].GetInt64(), r.GetProperty("train")[1].GetInt64())));

    private static string Describe(GeneratorRun run, ModelDescriptor descriptor) =>
        run.Model(descriptor.FullName);
}
