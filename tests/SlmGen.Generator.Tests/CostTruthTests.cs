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
public class CostTruthTests
{
    private const int Rounds = 8;
    private const int DesignsPerRound = 250;

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Rounds; i++)
        {
            data.Add(7000 + i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_valid_designs_have_exactly_the_costs_TorchSharp_measures(int seed)
    {
        var designs = new RandomDesigns(seed);
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

        // The same designs were counted by PyTorch's FlopCounterMode on twins on the GPU machine
        // (results/flops-twins/): today's constants must be the ones PyTorch agreed with.
        var records = TwinRecords.Value;
        foreach (var descriptor in models)
        {
            Assert.True(records.TryGetValue(descriptor.FullName, out var record), $"{descriptor.Name}: no PyTorch record (re-run scripts/gpu/flops_twins.py)");
            Assert.True(record.Ok, $"{descriptor.Name}: PyTorch disagreed");
            Assert.Equal((descriptor.Cost.Parameters, descriptor.Cost.ForwardFlopsPerToken, descriptor.Cost.TrainingFlopsPerToken),
                (record.Parameters, record.Forward, record.FusedTraining));
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
    }

    private sealed record TwinRecord(bool Ok, long Parameters, long Forward, long FusedTraining);

    private static readonly Lazy<System.Collections.Generic.Dictionary<string, TwinRecord>> TwinRecords = new(() =>
        File.ReadLines(Repo.Path("results", "flops-twins", "cuda-h200.jsonl"))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .Where(r => r.TryGetProperty("model", out _))
            .ToDictionary(
                r => r.GetProperty("model").GetString()!,
                r => new TwinRecord(r.GetProperty("ok").GetBoolean(), r.GetProperty("params")[1].GetInt64(), r.GetProperty("fwd")[1].GetInt64(), r.GetProperty("fused_train").GetInt64())));

    private static string Describe(GeneratorRun run, ModelDescriptor descriptor) =>
        run.Model(descriptor.FullName);
}
