using System;
using System.IO;
using System.Linq;
using SlmGen.Training;
using static TorchSharp.torch;

namespace SlmGen.Cli.Tests;

/// <summary>A small spec and one uninterrupted run of it: what every interrupted run must end equal to.</summary>
public sealed class UninterruptedRun : IDisposable
{
    public const string Spec = """
        name: TinySig
        vocab: 65
        context: 32
        dropout: 0.1
        embedding: 32
        positions: learned
        layers:
          - transformer: { layers: 1, heads: 2, ffn: 64 }
        final_norm: layernorm
        head: tied
        """;

    public const long Steps = 1500;

    public UninterruptedRun()
    {
        SpecPath = Folder.File("tiny.yaml", Spec);
        RunDir = Path.Combine(Folder.Path, "whole");
        using var run = SlmGenProcess.Run(Folder.Path, TimeSpan.FromMinutes(3), TrainArgs(RunDir, "--result", ResultPath));
        Output = run.ToString();
        Assert.True(run.ExitCode == 0, Output);
    }

    public TempFolder Folder { get; } = new();

    public string SpecPath { get; }

    public string RunDir { get; }

    /// <summary>The uninterrupted run's result record (<c>--result</c>).</summary>
    public string ResultPath => Path.Combine(Folder.Path, "whole.json");

    public string Output { get; }

    /// <summary>The train command of every run here; only the run directory and extra flags differ.</summary>
    public string[] TrainArgs(string runDir, params string[] extra) =>
        new[] { "train", SpecPath, "--data", "shakespeare-char", "--steps", Steps.ToString(), "--batch", "8", "--eval-every", "100000", "--eval-batches", "2", "--eval-tokens", "2000", "--device", "cpu", "--seed", "7", "--run-dir", runDir }
            .Concat(extra).ToArray();

    /// <summary>Asserts that two checkpoints hold the same step, weights and AdamW moments, bit for bit.</summary>
    public static void AssertSameTraining(string expectedCheckpoint, string actualCheckpoint)
    {
        using var expected = Checkpoint.Load(expectedCheckpoint);
        using var actual = Checkpoint.Load(actualCheckpoint);
        Assert.Equal(expected.State.Step, actual.State.Step);
        foreach (var (what, e, a) in new[] { ("weights", expected.Weights, actual.Weights), ("first moments", expected.FirstMoment, actual.FirstMoment), ("second moments", expected.SecondMoment, actual.SecondMoment) })
        {
            Assert.Equal(e.Keys.Order(), a.Keys.Order());
            foreach (var (name, tensor) in e)
            {
                Assert.True(tensor.eq(a[name]).all().item<bool>(), $"{what} of {name} differ after the interrupted run resumed");
            }
        }
    }

    public void Dispose() => Folder.Dispose();
}

/// <summary>Issue 30: a polite stop (SIGTERM, SIGINT, SIGHUP) saves the step reached; resume continues exactly.</summary>
public sealed class StopSignalTests : IClassFixture<UninterruptedRun>
{
    private readonly UninterruptedRun whole;

    public StopSignalTests(UninterruptedRun whole) => this.whole = whole;

    [Theory]
    [InlineData(SlmGenProcess.SIGTERM, 1)]
    [InlineData(SlmGenProcess.SIGHUP, 2)]
    [InlineData(SlmGenProcess.SIGINT, 3)]
    public void A_stop_signal_mid_run_saves_the_step_reached_and_the_resumed_run_ends_equal_to_an_uninterrupted_one(int signal, int seed)
    {
        var runDir = Path.Combine(whole.Folder.Path, $"stopped-{signal}");
        var metrics = Path.Combine(runDir, RunLog.MetricsFile);
        using (var run = SlmGenProcess.Start(whole.Folder.Path, whole.TrainArgs(runDir)))
        {
            run.WaitUntil(() => File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"train\""), TimeSpan.FromMinutes(1), "the first logged step");
            System.Threading.Thread.Sleep(new Random(seed).Next(0, 800)); // a random moment of the run
            run.Signal(signal);
            run.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.True(run.ExitCode == StopSignals.InterruptedExitCode, run.ToString());
            var state = Checkpoint.ReadState(Path.Combine(runDir, "last.ckpt"));
            Assert.InRange(state.Step, 10, UninterruptedRun.Steps - 1);
            Assert.Contains($"Stopped at step {state.Step:N0} of", run.Stdout);
            Assert.Contains("received", run.Stdout);
            Assert.StartsWith("interrupted by ", run.Stderr);
            Assert.DoesNotContain("   at ", run.Stderr);

            // Nothing announced that was not written: no evaluation ran, so there is no best.ckpt and none is named.
            Assert.False(File.Exists(Path.Combine(runDir, "best.ckpt")));
            Assert.DoesNotContain("best.ckpt", run.Stdout + run.Stderr);
        }

        var stoppedAt = Checkpoint.ReadState(Path.Combine(runDir, "last.ckpt")).Step;
        var resultPath = Path.Combine(whole.Folder.Path, $"stopped-{signal}.json");
        using (var resumed = SlmGenProcess.Run(whole.Folder.Path, TimeSpan.FromMinutes(3), whole.TrainArgs(runDir, "--resume", "--result", resultPath)))
        {
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
            Assert.Contains("resumed from", resumed.Stdout);
        }

        UninterruptedRun.AssertSameTraining(Path.Combine(whole.RunDir, "last.ckpt"), Path.Combine(runDir, "last.ckpt"));

        // The resumed call's record describes the run: its steps, epochs and FLOPs equal the uninterrupted run's, and
        // it says where the call started and what it ran itself.
        using var wholeRecord = System.Text.Json.JsonDocument.Parse(File.ReadAllText(whole.ResultPath));
        using var resumedRecord = System.Text.Json.JsonDocument.Parse(File.ReadAllText(resultPath));
        var (w, r) = (wholeRecord.RootElement, resumedRecord.RootElement);
        Assert.Equal(UninterruptedRun.Steps, w.GetProperty("steps").GetInt64());
        Assert.Equal(0, w.GetProperty("resumed_from_step").GetInt64());
        Assert.Equal(UninterruptedRun.Steps, w.GetProperty("steps_this_call").GetInt64());
        Assert.Equal(UninterruptedRun.Steps, r.GetProperty("steps").GetInt64());
        Assert.Equal(stoppedAt, r.GetProperty("resumed_from_step").GetInt64());
        Assert.Equal(UninterruptedRun.Steps - stoppedAt, r.GetProperty("steps_this_call").GetInt64());
        foreach (var field in new[] { "epochs", "exact_training_flops", "six_n_flops", "final_validation_nll" })
        {
            Assert.Equal(w.GetProperty(field).GetDouble(), r.GetProperty(field).GetDouble());
        }
    }

    [Fact]
    public void Signals_during_checkpoint_writes_leave_a_whole_checkpoint_and_a_second_signal_is_ignored_until_the_save_is_done()
    {
        // A checkpoint after every step: the signals land while one is being written.
        var runDir = Path.Combine(whole.Folder.Path, "writing");
        var last = Path.Combine(runDir, "last.ckpt");
        using (var run = SlmGenProcess.Start(whole.Folder.Path, whole.TrainArgs(runDir, "--checkpoint-every", "0.001s")))
        {
            run.WaitUntil(() => File.Exists(last), TimeSpan.FromMinutes(1), "the first checkpoint");
            System.Threading.Thread.Sleep(300);
            run.Signal(SlmGenProcess.SIGTERM);
            run.Signal(SlmGenProcess.SIGHUP); // another kind: the kernel does not merge it with the first
            run.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.True(run.ExitCode == StopSignals.InterruptedExitCode, run.ToString());
            Assert.Contains("received again: ignored", run.Stdout);
            Assert.InRange(Checkpoint.ReadState(last).Step, 1, UninterruptedRun.Steps - 1);
            Assert.Empty(Directory.GetFiles(runDir, "*.tmp"));
        }

        using (var resumed = SlmGenProcess.Run(whole.Folder.Path, TimeSpan.FromMinutes(3), whole.TrainArgs(runDir, "--resume")))
        {
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
        }

        UninterruptedRun.AssertSameTraining(Path.Combine(whole.RunDir, "last.ckpt"), last);
    }

    [Fact]
    public void A_wall_clock_checkpoint_interval_bounds_what_a_killed_run_loses_whatever_its_evaluation_interval()
    {
        var runDir = Path.Combine(whole.Folder.Path, "killed");
        var last = Path.Combine(runDir, "last.ckpt");
        using (var run = SlmGenProcess.Start(whole.Folder.Path, whole.TrainArgs(runDir, "--checkpoint-every", "1s")))
        {
            // No evaluation before the last step; only the interval writes last.ckpt.
            run.WaitUntil(() => File.Exists(last), TimeSpan.FromMinutes(1), "a checkpoint by wall-clock time");
            run.Signal(SlmGenProcess.SIGKILL);
            run.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, run.ExitCode);
        }

        var saved = Checkpoint.ReadState(last).Step;
        Assert.InRange(saved, 1, UninterruptedRun.Steps - 1);
        using (var resumed = SlmGenProcess.Run(whole.Folder.Path, TimeSpan.FromMinutes(3), whole.TrainArgs(runDir, "--resume", "--checkpoint-every", "1s")))
        {
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
            Assert.Contains($"resumed from {last} at step {saved:N0}", resumed.Stdout);
        }

        UninterruptedRun.AssertSameTraining(Path.Combine(whole.RunDir, "last.ckpt"), last);
    }

    [Fact]
    public void A_finished_run_announces_only_checkpoints_that_exist()
    {
        var line = whole.Output.Split('\n').Single(l => l.StartsWith("checkpoints: ", StringComparison.Ordinal));
        var named = line["checkpoints: ".Length..line.IndexOf(';')].Split(", ");
        Assert.Equal(2, named.Length);
        Assert.All(named, path => Assert.True(File.Exists(path), path));
    }

    [Fact]
    public void A_run_directory_has_one_writer()
    {
        var runDir = Path.Combine(whole.Folder.Path, "owned");
        var metrics = Path.Combine(runDir, RunLog.MetricsFile);
        string[] Long(params string[] extra) => new[] { "train", whole.SpecPath, "--data", "shakespeare-char", "--steps", "1000000", "--batch", "8", "--eval-every", "1000000", "--device", "cpu", "--run-dir", runDir }.Concat(extra).ToArray();
        using var first = SlmGenProcess.Start(whole.Folder.Path, Long());
        first.WaitUntil(() => File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"train\""), TimeSpan.FromMinutes(1), "the first run's first steps");
        using var second = SlmGenProcess.Run(whole.Folder.Path, TimeSpan.FromMinutes(1), Long());
        Assert.True(second.ExitCode == 2, second.ToString());
        Assert.StartsWith($"error: {runDir} is in use by another training run", second.Stderr);
        Assert.False(first.HasExited);
        first.Signal(SlmGenProcess.SIGTERM);
        first.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(StopSignals.InterruptedExitCode, first.ExitCode);

        // The lock goes with its holder: the next run takes the directory and resumes.
        using var third = SlmGenProcess.Start(whole.Folder.Path, Long("--resume"));
        third.WaitUntil(() => third.Stdout.Split("resumed from").Skip(1).Any(after => after.Contains("\nstep ")), TimeSpan.FromMinutes(1), "steps after the resume");
        third.Signal(SlmGenProcess.SIGTERM);
        third.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(third.ExitCode == StopSignals.InterruptedExitCode, third.ToString());
    }
}
