using System;
using System.IO;
using System.Linq;
using SlmGen.Training;

namespace SlmGen.Cli.Tests;

/// <summary>Issue 30: a stopped sweep stops its children, waits for their saves, and its next run resumes them.</summary>
public sealed class SweepStopTests
{
    [Fact]
    public void A_sweep_stopped_with_two_children_training_waits_for_their_saves_and_its_rerun_resumes_both()
    {
        using var folder = new TempFolder();
        folder.File("specs/tiny.yaml", UninterruptedRun.Spec);
        folder.File("corpus/text.txt", File.ReadAllText(Path.Combine(SlmGenProcess.Repository, "data", "tinyshakespeare", "input.txt"))[..200_000]);
        var template = folder.File("sweeps/two.yaml", """
            base: ../specs/tiny.yaml
            grid:
              embedding: [32, 48]
            train: { data: ../corpus/text.txt, steps: 2000, batch: 8, eval_every: 100000, eval_batches: 2, eval_tokens: 2000, device: cpu }
            out: ../out
            """);

        // The data path is relative to the template (run from another folder): the children find it.
        var vocab = File.ReadAllText(Path.Combine(folder.Path, "corpus", "text.txt")).Distinct().Count();
        File.WriteAllText(Path.Combine(folder.Path, "specs", "tiny.yaml"), UninterruptedRun.Spec.Replace("vocab: 65", $"vocab: {vocab}"));
        var runs = new[] { "p000", "p001" }.Select(p => Path.Combine(folder.Path, "out", p)).ToArray();
        using (var sweep = SlmGenProcess.Start(SlmGenProcess.Repository, "sweep", template, "--jobs", "2"))
        {
            sweep.WaitUntil(() => runs.All(r => File.Exists(Path.Combine(r, RunLog.MetricsFile)) && File.ReadAllText(Path.Combine(r, RunLog.MetricsFile)).Contains("\"train\"")), TimeSpan.FromMinutes(2), "both children's first steps");
            sweep.Signal(SlmGenProcess.SIGTERM);
            sweep.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(sweep.ExitCode == StopSignals.InterruptedExitCode, sweep.ToString());
            Assert.Contains("interrupted (resumes when the sweep runs again)", sweep.Stdout);
        }

        var saved = runs.Select(r => Checkpoint.ReadState(Path.Combine(r, "last.ckpt")).Step).ToArray();
        foreach (var (run, step) in runs.Zip(saved))
        {
            Assert.InRange(step, 10, 1999);
            Assert.False(File.Exists(Path.Combine(run, "result.json")));
            Assert.Contains("SIGTERM received", File.ReadAllText(Path.Combine(run, "train.log")));
        }

        using (var again = SlmGenProcess.Run(SlmGenProcess.Repository, TimeSpan.FromMinutes(4), "sweep", template, "--jobs", "2"))
        {
            Assert.True(again.ExitCode == 0, again.ToString());
        }

        foreach (var (run, step) in runs.Zip(saved))
        {
            Assert.True(File.Exists(Path.Combine(run, "result.json")));
            Assert.Contains($"at step {step:N0}", File.ReadAllText(Path.Combine(run, "train.log")));
            Assert.Equal(2000, Checkpoint.ReadState(Path.Combine(run, "last.ckpt")).Step);
        }
    }
}
