using System.Linq;
using SlmGen.Data;
using SlmGen.Training;
using TorchSharp;

namespace SlmGen.Runtime.Tests;

/// <summary>Windows and the two objectives.</summary>
[HoldTensors]
public class BatchTests
{
    private static readonly int[] Stream = Enumerable.Range(0, 100).Select(i => i % 50).ToArray();

    [Fact]
    public void Every_position_targets_are_the_inputs_shifted_by_one()
    {
        using var b = Windows.Make(Stream, new long[] { 3, 40 }, 8, Objective.EveryPosition);
        Assert.Equal(new long[] { 2, 8 }, b.Inputs.shape);
        Assert.Equal(new long[] { 2, 8 }, b.Targets.shape);
        Assert.Equal(Enumerable.Range(3, 8).Select(i => (long)i), b.Inputs[0].data<long>().ToArray());
        Assert.Equal(Enumerable.Range(4, 8).Select(i => (long)i), b.Targets[0].data<long>().ToArray());
    }

    [Fact]
    public void Last_position_target_is_the_token_after_the_window()
    {
        using var b = Windows.Make(Stream, new long[] { 3, 40 }, 8, Objective.LastPosition);
        Assert.Equal(new long[] { 2 }, b.Targets.shape);
        Assert.Equal(new long[] { 11, 48 }, b.Targets.data<long>().ToArray());
    }

    [Fact]
    public void Random_windows_stay_inside_the_stream_and_are_repeatable()
    {
        var a = new WindowSampler(Stream.Length, 8, Sampling.Random, seed: 7);
        var b = new WindowSampler(Stream.Length, 8, Sampling.Random, seed: 7);
        var first = Enumerable.Range(0, 50).SelectMany(_ => a.Next(4)).ToList();
        Assert.Equal(first, Enumerable.Range(0, 50).SelectMany(_ => b.Next(4)));
        Assert.All(first, s => Assert.InRange(s, 0, Stream.Length - 8 - 1));
        Assert.True(first.Distinct().Count() > 40);
    }

    [Fact]
    public void Shuffled_epochs_visit_every_window_once_per_epoch()
    {
        var sampler = new WindowSampler(30, 5, Sampling.ShuffledEpochs, seed: 3);
        var epoch = Enumerable.Range(0, 5).SelectMany(_ => sampler.Next(5)).ToList();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), epoch.OrderBy(x => x));
    }

    [Fact]
    public void Evaluation_protocols_score_what_they_promise()
    {
        torch.manual_seed(1);
        using var model = new SlmGen.Samples.CharAttention();
        var tokens = Enumerable.Range(0, 700).Select(i => i % 65).ToArray();
        var first = Evaluator.Evaluate(model, tokens, EvalProtocol.FirstWindows(100), Objective.LastPosition, 32, torch.CPU);
        Assert.Equal(100, first.Tokens);
        var sequential = Evaluator.Evaluate(model, tokens, EvalProtocol.Sequential(), Objective.EveryPosition, 32, torch.CPU);
        Assert.Equal(5 * 128, sequential.Tokens); // windows at 0,128,...,512 (each needs its next token)
        Assert.InRange(first.Nll, 2.0, 8.0);
    }
}
