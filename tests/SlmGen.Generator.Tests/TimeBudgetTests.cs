using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// Time budgets at build time: with the project's device profile, a training run or a decoded token predicted over its
/// budget gets SLM0108 / SLM0109 at the budget's line, with the figure and the dominant component; under it, nothing;
/// without a profile, or with a file that is not one, SLM0110; a duration that is not one, SLM0003 at its line.
/// </summary>
public class TimeBudgetTests
{
    /// <summary>A made-up device: 1 GFLOP/s for every matmul and attention, 1 GB/s, 10 µs a kernel, synchronous.</summary>
    private const string Profile = """
        { "device": "test device", "backend": "cpu", "elementBytes": 4, "bandwidthBytesPerSecond": 1e9, "launchSeconds": 1e-5, "synchronous": true,
          "matmul": [ { "m": 64, "n": 64, "k": 64, "flopsPerSecond": 1e9 } ],
          "attention": [ { "batchHeads": 8, "t": 64, "headSize": 16, "forwardFlopsPerSecond": 1e9, "backwardFlopsPerSecond": 1e9 } ],
          "measured": "by hand", "stepSeconds": 0 }
        """;

    private const string Spec = "name: Timed\nvocab: 65\ncontext: 64\nembedding: 64\npositions: rope\nlayers:\n  - transformer: { layers: 2, heads: 4 }\nhead: tied\n";

    private static double PredictedStepSeconds(bool fused = false, bool graphed = false)
    {
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec) });
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        var d = ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray())).Single();
        var plan = (IReadOnlyList<PlanStep>)d.Type.GetProperty("PlanSteps")!.GetValue(null)!;
        var profile = new DeviceProfile("test device", "cpu", 4, 1e9, 1e-5, true, new[] { new MatmulPoint(64, 64, 64, 1e9) }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) }) { FusedKernels = fused };
        return TimeModel.Predict(StepOps.Training(plan, 32, 64, 4, d.Cost.Parameters, profile.FusedKernels), profile, graphed).Seconds;
    }

    [Fact]
    public void A_profile_measured_with_the_fused_kernels_predicts_the_fused_step_at_build_time()
    {
        // The profile says which path it measured; the build's prediction lists that path's kernels (fewer here:
        // RoPE, the residual add + norm, bias + GELU and the loss each fused).
        const long tokens = 32 * 64 * 1000;
        var spec = Spec + $"budget:\n  training_tokens: {tokens}\n  max_training_time: 1000h\n";
        var fusedProfile = Profile.Replace("\"stepSeconds\": 0", "\"stepSeconds\": 0, \"fusedKernels\": true");
        Assert.NotEqual(Profile, fusedProfile);
        var (plain, fused) = (PredictedStepSeconds(), PredictedStepSeconds(fused: true));
        Assert.True(fused < plain, $"fused {fused} s, unfused {plain} s");
        foreach (var (profile, step) in new[] { (Profile, plain), (fusedProfile, fused) })
        {
            var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", spec) }, deviceProfile: ("/device.json", profile));
            Assert.Contains($"{{ \\\"metric\\\": \\\"training_seconds\\\", \\\"value\\\": {(1000 * step).ToString("R", CultureInfo.InvariantCulture)}, ", run.Generated("Catalog.g.cs"));
        }
    }

    [Fact]
    public void A_training_run_over_its_time_budget_is_reported_at_the_budget_with_the_dominant_component()
    {
        var step = PredictedStepSeconds();
        const long tokens = 32 * 64 * 1000; // 1,000 steps
        var total = 1000 * step;
        string Budget(double seconds) => $"budget:\n  training_tokens: {tokens}\n  max_training_time: {(seconds / 60).ToString("R", CultureInfo.InvariantCulture)}m\n";

        var over = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec + Budget(total * 0.8)) }, deviceProfile: ("/device.json", Profile));
        var d = Assert.Single(over.GeneratorDiagnostics, x => x.Id == "SLM0108");
        var message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("test device", message);
        Assert.Contains("1,000 steps of 32 windows", message);
        Assert.Contains("1.25x", message);
        Assert.Contains("blocks", message);
        Assert.Equal(11, d.Location.GetLineSpan().StartLinePosition.Line + 1);
        Assert.Empty(over.CompileErrors);

        var under = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec + Budget(total * 1.2)) }, deviceProfile: ("/device.json", Profile));
        Assert.DoesNotContain(under.GeneratorDiagnostics, x => x.Id is "SLM0108" or "SLM0110");

        // Within its budget, the cost report's budget lines still say where it stands: the predicted run in seconds.
        var seconds = 1000 * step;
        Assert.Contains($"{{ \\\"metric\\\": \\\"training_seconds\\\", \\\"value\\\": {seconds.ToString("R", CultureInfo.InvariantCulture)}, ", under.Generated("Catalog.g.cs"));
        Assert.DoesNotContain("training_seconds", GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec + Budget(total * 1.2)) }).Generated("Catalog.g.cs"));

        // A larger batch in the project: fewer, longer steps.
        var batched = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec + Budget(total * 0.8)) },
            new Dictionary<string, string> { ["SlmGenTrainingBatch"] = "64" }, deviceProfile: ("/device.json", Profile));
        Assert.Contains("500 steps of 64 windows", Assert.Single(batched.GeneratorDiagnostics, x => x.Id == "SLM0108").GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_project_that_trains_with_cuda_graphs_gets_its_time_budget_checked_on_the_graphed_step()
    {
        // SlmGenTrainingGraphed=true: the budget assumes the graphed step (no launches here), so a budget the eager run
        // misses can hold; the warning, where there is one, says which step it assumed.
        var (eager, graphed) = (PredictedStepSeconds(), PredictedStepSeconds(graphed: true));
        Assert.True(graphed < eager, $"graphed {graphed} s, eager {eager} s");
        const long tokens = 32 * 64 * 1000; // 1,000 steps
        var limit = 1000 * (eager + graphed) / 2;
        var spec = Spec + $"budget:\n  training_tokens: {tokens}\n  max_training_time: {(limit / 60).ToString("R", CultureInfo.InvariantCulture)}m\n";
        GeneratorRun Run(string? value) => GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", spec) },
            value is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["SlmGenTrainingGraphed"] = value }, deviceProfile: ("/device.json", Profile));

        var eagerRun = Run(null);
        Assert.Contains("test device, eager (1,000 steps", Assert.Single(eagerRun.GeneratorDiagnostics, x => x.Id == "SLM0108").GetMessage(CultureInfo.InvariantCulture));

        var graphedRun = Run("True");
        Assert.DoesNotContain(graphedRun.GeneratorDiagnostics, x => x.Id is "SLM0108" or "SLM0111");
        Assert.Contains($"{{ \\\"metric\\\": \\\"training_seconds\\\", \\\"value\\\": {(1000 * graphed).ToString("R", CultureInfo.InvariantCulture)}, ", graphedRun.Generated("Catalog.g.cs"));

        // Over a budget below even the graphed run: the warning names the graphed step.
        var tight = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec + $"budget:\n  training_tokens: {tokens}\n  max_training_time: {(1000 * graphed * 0.5 / 60).ToString("R", CultureInfo.InvariantCulture)}m\n") },
            new Dictionary<string, string> { ["SlmGenTrainingGraphed"] = "true" }, deviceProfile: ("/device.json", Profile));
        Assert.Contains("each step one CUDA graph (1,000 steps", Assert.Single(tight.GeneratorDiagnostics, x => x.Id == "SLM0108").GetMessage(CultureInfo.InvariantCulture));

        // A value that is not true or false: SLM0111, and the eager step is assumed.
        var bad = Run("sometimes");
        Assert.Contains("'sometimes'", Assert.Single(bad.GeneratorDiagnostics, x => x.Id == "SLM0111").GetMessage(CultureInfo.InvariantCulture));
        Assert.Single(bad.GeneratorDiagnostics, x => x.Id == "SLM0108");
        Assert.Empty(bad.CompileErrors);
    }

    [Fact]
    public void Decode_latency_without_a_profile_with_a_bad_profile_and_bad_durations_are_located()
    {
        var latency = Spec + "budget:\n  max_decode_latency: 1us\n";
        var over = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", latency) }, deviceProfile: ("/device.json", Profile));
        var d = Assert.Single(over.GeneratorDiagnostics, x => x.Id == "SLM0109");
        Assert.Contains("63 cached positions", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(10, d.Location.GetLineSpan().StartLinePosition.Line + 1);

        var none = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", latency) });
        Assert.Contains("names no device profile", Assert.Single(none.GeneratorDiagnostics, x => x.Id == "SLM0110").GetMessage(CultureInfo.InvariantCulture));

        var bad = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", latency) }, deviceProfile: ("/device.json", "{ \"device\": \"x\" }"));
        Assert.Contains("/device.json", Assert.Single(bad.GeneratorDiagnostics, x => x.Id == "SLM0110").GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(bad.CompileErrors);

        var wrong = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec + "budget:\n  max_training_time: soon\n") }, deviceProfile: ("/device.json", Profile));
        var e = Assert.Single(wrong.GeneratorDiagnostics, x => x.Id == "SLM0003");
        Assert.Equal(10, e.Location.GetLineSpan().StartLinePosition.Line + 1);

        var attributes = GeneratorRun.Of(new[] { ("/0/M.cs", "using SlmGen;\nnamespace Acme;\n[Model(Vocab = 65, Context = 64)]\n[TokenEmbedding(Dim = 64)]\n[TransformerBlocks(Layers = 2, Heads = 4)]\n[Budget(MaxDecodeLatency = \"1us\")]\npublic partial class M { }\n") },
            deviceProfile: ("/device.json", Profile));
        Assert.Single(attributes.GeneratorDiagnostics, x => x.Id == "SLM0109");
    }

    [Fact]
    public void Advice_says_when_time_and_flops_disagree()
    {
        // Attention 1,000 times slower than matmuls on this made-up device: its share of the time far exceeds its FLOPs'.
        var slowAttention = Profile.Replace("\"forwardFlopsPerSecond\": 1e9, \"backwardFlopsPerSecond\": 1e9", "\"forwardFlopsPerSecond\": 1e6, \"backwardFlopsPerSecond\": 1e6", StringComparison.Ordinal);
        Assert.NotEqual(Profile, slowAttention);
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec) }, deviceProfile: ("/device.json", slowAttention));
        var message = Assert.Single(run.GeneratorDiagnostics, x => x.Id == "SLM0207").GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("blocks.attn", message);
        Assert.Contains("compute-bound", message);

        // Without a profile there is no time to weigh.
        Assert.DoesNotContain(GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", Spec) }).GeneratorDiagnostics, x => x.Id == "SLM0207");
    }

    [Fact]
    public void A_decode_budget_uses_the_profiles_launch_without_autograd_where_it_has_one()
    {
        // Launch-bound on this device: a decoding step is its kernels × the launch time. With a launch of 10 µs through
        // autograd and 1 µs without it, a budget between the two predictions passes only with the no-autograd figure.
        var launchBound = Profile.Replace("\"launchSeconds\": 1e-5", "\"launchSeconds\": 1e-5, \"noGradLaunchSeconds\": 1e-6", StringComparison.Ordinal)
            .Replace("\"flopsPerSecond\": 1e9", "\"flopsPerSecond\": 1e15", StringComparison.Ordinal).Replace("\"bandwidthBytesPerSecond\": 1e9", "\"bandwidthBytesPerSecond\": 1e15", StringComparison.Ordinal)
            .Replace("1e9, \"backwardFlopsPerSecond\": 1e9", "1e15, \"backwardFlopsPerSecond\": 1e15", StringComparison.Ordinal).Replace("\"synchronous\": true", "\"synchronous\": false", StringComparison.Ordinal);
        var withoutNoGrad = launchBound.Replace(", \"noGradLaunchSeconds\": 1e-6", string.Empty, StringComparison.Ordinal);
        Assert.NotEqual(launchBound, withoutNoGrad);
        var spec = Spec + "budget:\n  max_decode_latency: 1us\n";
        double Predicted(string profile)
        {
            var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/t.yaml", spec) }, deviceProfile: ("/device.json", profile));
            var message = Assert.Single(run.GeneratorDiagnostics, x => x.Id == "SLM0109").GetMessage(CultureInfo.InvariantCulture);
            var ms = System.Text.RegularExpressions.Regex.Match(message, @"([0-9.]+) ms").Groups[1].Value;
            return double.Parse(ms, CultureInfo.InvariantCulture);
        }

        var slow = Predicted(withoutNoGrad);
        var fast = Predicted(launchBound);
        Assert.InRange(slow / fast, 9, 11); // ten times the launch; the figures are printed to the microsecond

        // A profile's fixed time per token adds to every decoded token.
        var withToken = launchBound.Replace("\"launchSeconds\": 1e-5", "\"launchSeconds\": 1e-5, \"tokenSeconds\": 1e-3", StringComparison.Ordinal);
        Assert.NotEqual(launchBound, withToken);
        Assert.Equal(fast + 1, Predicted(withToken), 2);
    }
}
