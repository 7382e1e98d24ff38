using System;
using SlmGen.Training;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>The step timer behind <c>slmgen time</c>: eager timing on the CPU, and graphed timing refused with its reason where no CUDA graph can be made.</summary>
[HoldTensors]
public class StepTimerTests
{
    [Fact]
    public void An_eager_step_is_timed_with_its_head_and_a_graphed_one_needs_cuda()
    {
        manual_seed(1);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create();
        var t = StepTimer.Time(model, 2, CPU, warm: 1, steps: 2, runs: 1, warmSeconds: 0);
        Assert.True(t.MillisecondsPerStep > 0);
        Assert.InRange(t.HeadMillisecondsPerStep, double.Epsilon, t.MillisecondsPerStep * 2);
        Assert.Equal(2 * model.Context / (t.MillisecondsPerStep / 1e3), t.TokensPerSecond, 6);

        var e = Assert.Throws<InvalidOperationException>(() => StepTimer.Time(model, 2, CPU, warm: 1, steps: 1, runs: 1, graphed: true));
        Assert.Contains("not CUDA", e.Message);
        Assert.Contains(model.GetName(), e.Message);

        // A kernel trace (slmgen time --kernel-trace) needs CUDA and the native profiler: refused before anything runs, no file written.
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"slmgen-trace-{Guid.NewGuid():N}.json");
        var refused = Assert.Throws<InvalidOperationException>(() => StepTimer.Time(model, 2, CPU, warm: 1, steps: 1, runs: 1, trace: path));
        Assert.Contains("kernel trace needs CUDA", refused.Message);
        Assert.False(System.IO.File.Exists(path));
    }

    [Fact]
    public void The_warm_up_lasts_at_least_its_seconds_so_that_the_timed_runs_see_optimised_code()
    {
        manual_seed(1);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create();
        // The step and the head are each warmed up for the floor: the call takes at least twice it, whatever the
        // one warm-up step takes (a lower bound, so no machine is too fast or too slow for it).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var t = StepTimer.Time(model, 2, CPU, warm: 1, steps: 1, runs: 1, warmSeconds: 0.4);
        Assert.True(clock.Elapsed.TotalSeconds >= 0.8, $"{clock.Elapsed.TotalSeconds:0.000} s");
        Assert.True(t.MillisecondsPerStep > 0);
        Assert.Throws<ArgumentException>(() => StepTimer.Time(model, 2, CPU, warm: 1, steps: 1, runs: 1, warmSeconds: -1));
        Assert.Throws<ArgumentException>(() => StepTimer.Time(model, 2, CPU, warm: 1, steps: 1, runs: 1, warmSeconds: double.NaN));
    }
}
