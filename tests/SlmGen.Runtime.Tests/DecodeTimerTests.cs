using System;
using SlmGen.Generation;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>The decoding timer behind <c>slmgen time --decode</c>: latencies on the CPU, bad lengths and a trace without CUDA refused.</summary>
[HoldTensors]
public class DecodeTimerTests
{
    [Fact]
    public void Decoding_is_timed_per_token_and_a_trace_needs_cuda()
    {
        manual_seed(1);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create();
        var t = DecodeTimer.Time(model, CPU, promptTokens: 4, newTokens: 6, runs: 2);
        Assert.Equal(4, t.PromptTokens);
        Assert.Equal(6, t.NewTokens);
        Assert.True(t.PrefillMilliseconds > 0 && t.MillisecondsPerToken > 0);
        Assert.True(t.Spread >= 0);

        Assert.Throws<ArgumentException>(() => DecodeTimer.Time(model, CPU, promptTokens: model.Context, newTokens: 2));
        Assert.Throws<ArgumentException>(() => DecodeTimer.Time(model, CPU, promptTokens: 1, newTokens: 1));

        // slmgen time --decode --kernel-trace: refused before anything runs, no file written.
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"slmgen-decode-trace-{Guid.NewGuid():N}.json");
        var refused = Assert.Throws<InvalidOperationException>(() => DecodeTimer.Time(model, CPU, 4, 6, runs: 1, trace: path));
        Assert.Contains("decoding trace needs CUDA", refused.Message);
        Assert.False(System.IO.File.Exists(path));
    }
}
