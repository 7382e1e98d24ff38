using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using SlmGen.Samples.Study;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// Every experiment of the study sample, for a few steps on CPU: data → generated model → train → evaluate →
/// run record → report table, so the samples cannot rot.
/// </summary>
[HoldTensors]
public class StudyPipelineTests
{
    [Fact]
    public void Every_experiment_runs_end_to_end_at_ci_scale_and_the_report_is_regenerated()
    {
        var dir = Directory.CreateTempSubdirectory("slmgen-study-").FullName;
        var runs = Path.Combine(dir, "runs");
        var runner = new StudyRunner(CPU, Scale.Ci, TextWriter.Null) { Command = "test", Commit = "test", DeviceName = "cpu" };
        foreach (var experiment in Experiments.All)
        {
            foreach (var entry in experiment.Entries)
            {
                var record = runner.Run(experiment, entry, Experiments.StudySeed);
                Assert.True(double.IsFinite(record.TestNll) && record.TestNll > 0, $"{experiment.Name}/{entry.Model}: test NLL {record.TestNll}");
                Assert.Equal(StudyRunner.Model(entry.Model).Cost.Parameters, record.Parameters);
                Assert.True(record.ExactTrainingFlops > 0 && record.StudyFlops > 0);
                record.Save(Path.Combine(runs, experiment.Name, $"{entry.Model}.seed{record.Seed}.ci.json"));
            }
        }

        Assert.Equal(Experiments.All.Sum(e => e.Entries.Count), Directory.GetFiles(runs, "*.json", SearchOption.AllDirectories).Length);

        RunReport($"--runs \"{runs}\" --out \"{dir}\" --scale ci");
        var table = File.ReadAllText(Path.Combine(dir, "README.md"));
        Assert.Contains("| ladder-transformer | CharTransformer", table);
        Assert.Contains("| words-wikitext2 | WordTransformerWikiText2", table);
        Assert.All(new[] { "nll-vs-exact-flops", "nll-vs-study-flops", "learning-curves", "objective" },
            plot => Assert.True(new FileInfo(Path.Combine(dir, "plots", plot + ".png")).Length > 10_000, plot));
    }

    [Fact]
    public void The_committed_results_readme_is_what_the_report_makes_of_the_committed_records()
    {
        var root = Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!;
        var dir = Directory.CreateTempSubdirectory("slmgen-report-").FullName;
        RunReport($"--out \"{dir}\"");
        var regenerated = File.ReadAllText(Path.Combine(dir, "README.md")).ReplaceLineEndings("\n");
        var committed = File.ReadAllText(Path.Combine(root, "results", "README.md")).ReplaceLineEndings("\n");
        Assert.True(committed == regenerated, "results/README.md is stale: run `dotnet run --project samples/StudyReport -c Release` and commit it");
        Assert.Contains("| CharTransformer | 430,785 | 430,785 | 390,120,192 | 390,120,192 | 125,845,760 | yes |", committed);
        Assert.DoesNotContain("| **no** |", committed);
    }

    /// <summary>Runs samples/StudyReport (copied beside the tests) and asserts it succeeded.</summary>
    private static void RunReport(string arguments)
    {
        var report = Path.Combine(AppContext.BaseDirectory, "StudyReport.dll");
        var psi = new ProcessStartInfo("dotnet", $"\"{report}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output);
    }

    [Fact]
    public void The_study_models_have_the_studys_parameter_counts()
    {
        Assert.Equal(1_073_345, StudyRunner.Model("CharLinear").Cost.Parameters);
        Assert.Equal(4_285_377, StudyRunner.Model("CharMlp").Cost.Parameters);
        Assert.Equal(231_617, StudyRunner.Model("CharAttention").Cost.Parameters);
        Assert.Equal(430_785, StudyRunner.Model("CharTransformer").Cost.Parameters);
    }

    [Fact]
    public void The_every_position_budget_is_the_study_runs_exact_flops()
    {
        var experiment = Experiments.Find("every-position");
        var model = StudyRunner.Model("CharTransformer");
        Assert.Equal(4.0 * 50_000 * model.Cost.TrainingFlopsPerWindow(lastPositionOnly: true), StudyRunner.Budget(experiment, model));
    }
}
