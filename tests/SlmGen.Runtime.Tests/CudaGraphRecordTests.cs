using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The graphed training step's evidence from the GPU machine (results/graphs, written by scripts/gpu/graphs.sh and
/// graphs-ladder.sh): the same runs eager and captured as CUDA graphs must agree within bf16 noise, and the graphs
/// must really have been on. These read the committed records, so a changed claim needs a new GPU run.
/// </summary>
[HoldTensors]
public sealed class CudaGraphRecordTests
{
    private static string Results => Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "results", "graphs");

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();

    [Fact]
    public void Five_hundred_steps_of_baby_gpt_eager_and_graphed_agree_within_bf16_noise()
    {
        Dictionary<long, double> Curve(string mode) => File.ReadAllLines(Path.Combine(Results, $"baby-gpt-{mode}.metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).Where(r => r.GetProperty("kind").GetString() == "train")
            .ToDictionary(r => r.GetProperty("step").GetInt64(), r => r.GetProperty("loss").GetDouble());
        var eager = Curve("eager");
        var graphs = Curve("graphs");
        Assert.Equal(eager.Keys.Order(), graphs.Keys.Order());
        Assert.Equal(500, eager.Keys.Max());
        Assert.True(eager.Keys.Max(s => Math.Abs(eager[s] - graphs[s])) < 0.01);

        var e = Json(Path.Combine(Results, "baby-gpt-eager.json"));
        var g = Json(Path.Combine(Results, "baby-gpt-graphs.json"));
        Assert.False(e.GetProperty("cuda_graphs").GetBoolean());
        Assert.True(g.GetProperty("cuda_graphs").GetBoolean());
        Assert.Equal(e.GetProperty("exact_training_flops").GetDouble(), g.GetProperty("exact_training_flops").GetDouble());
        Assert.True(Math.Abs(e.GetProperty("validation_nll").GetDouble() - g.GetProperty("validation_nll").GetDouble()) < 0.01);
        Assert.True(g.GetProperty("tokens_per_second").GetDouble() > e.GetProperty("tokens_per_second").GetDouble());
    }

    [Theory]
    [InlineData("ladder")]      // NVIDIA H200
    [InlineData("ladder-h100")] // NVIDIA H100
    public void The_study_ladder_trains_to_the_same_test_nll_with_graphs_and_faster(string folder)
    {
        // "The same" = within two standard deviations of the study's own seed-to-seed spread of that model (its five
        // committed eager runs in results/runs): the graphed runs draw other dropout masks, so they are another sample.
        var models = new[] { "ladder-linear/CharLinear", "ladder-mlp/CharMlp", "ladder-attention/CharAttention", "ladder-transformer/CharTransformer" };
        var runs = Path.Combine(Path.GetDirectoryName(Results)!, "runs");
        foreach (var model in models)
        {
            var seeds = Directory.GetFiles(Path.GetDirectoryName(Path.Combine(runs, model))!, Path.GetFileName(model) + ".seed*.full.json").Select(f => Json(f).GetProperty("test_nll").GetDouble()).ToList();
            Assert.True(seeds.Count >= 3, model);
            var mean = seeds.Average();
            var sd = Math.Sqrt(seeds.Sum(x => (x - mean) * (x - mean)) / (seeds.Count - 1));
            var e = Json(Path.Combine(Results, folder, "study-eager", model + ".seed689.full.json"));
            var g = Json(Path.Combine(Results, folder, "study-graphs", model + ".seed689.full.json"));
            Assert.Equal(e.GetProperty("steps").GetInt64(), g.GetProperty("steps").GetInt64());
            var delta = Math.Abs(e.GetProperty("test_nll").GetDouble() - g.GetProperty("test_nll").GetDouble());
            Assert.True(delta <= 2 * sd, $"{model}: |Δ test NLL| {delta:0.0000} > 2 sd {2 * sd:0.0000}");
            Assert.True(g.GetProperty("seconds").GetDouble() < e.GetProperty("seconds").GetDouble(), model);
        }

        var log = File.ReadAllText(Path.Combine(Results, folder, "study-graphs.txt"));
        Assert.Equal(models.Length, log.Split("CUDA graphs: on").Length - 1);
        Assert.DoesNotContain("CUDA graphs: on", File.ReadAllText(Path.Combine(Results, folder, "study-eager.txt")));
    }
}
