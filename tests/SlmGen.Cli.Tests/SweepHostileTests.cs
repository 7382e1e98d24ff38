using System;
using System.IO;
using System.Linq;

namespace SlmGen.Cli.Tests;

/// <summary>Issue 22: sweeps validate before they expand, make their points one at a time, and never report a failure as success.</summary>
public sealed class SweepHostileTests : IDisposable
{
    private readonly TempFolder folder = new();

    public SweepHostileTests()
    {
        folder.File("specs/tiny.yaml", UninterruptedRun.Spec);
    }

    private string Template(string body) => folder.File($"sweeps/t{Guid.NewGuid():N}.yaml", "base: ../specs/tiny.yaml\n" + body);

    private SlmGenProcess Sweep(string template, params string[] extra) =>
        SlmGenProcess.Run(SlmGenProcess.Repository, TimeSpan.FromSeconds(120), new[] { "sweep", template }.Concat(extra).ToArray());

    private static void AssertRefused(SlmGenProcess run, params string[] mentions)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith("error: ", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        foreach (var m in mentions)
        {
            Assert.Contains(m, run.Stderr);
        }
    }

    [Fact]
    public void A_grid_of_a_trillion_points_is_refused_before_expansion_and_its_first_point_can_still_be_taken()
    {
        // Twelve axes of ten values each: 10^12 points.
        var fields = new (string Field, Func<int, string> Value)[]
        {
            ("dropout", v => $"0.0{v - 1}"), ("embedding_dropout", v => $"0.0{v - 1}"), ("embedding", v => $"{v * 32}"), ("context", v => $"{v * 8}"),
            ("layers.0.transformer.heads", v => $"{v}"), ("layers.0.transformer.ffn", v => $"{v * 32}"), ("layers.0.transformer.layers", v => $"{v}"),
            ("train.batch", v => $"{v}"), ("train.lr", v => $"{v}e-4"), ("train.eval_every", v => $"{v * 10}"), ("train.eval_batches", v => $"{v}"), ("train.warmup", v => $"{v}"),
        };
        var body = "grid:\n" + string.Join("\n", fields.Select(f => $"  {f.Field}: [{string.Join(", ", Enumerable.Range(1, 10).Select(f.Value))}]"))
                   + "\ntrain: { data: shakespeare-char, steps: 1 }\nout: ../out-trillion\n";
        var template = Template(body);
        AssertRefused(Sweep(template, "--dry-run"), "1,000,000,000,000 points");
        using var first = Sweep(template, "--dry-run", "--points", "1");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(File.Exists(Path.Combine(folder.Path, "out-trillion", "points", "p000.yaml")));
        Assert.False(File.Exists(Path.Combine(folder.Path, "out-trillion", "points", "p001.yaml")));
    }

    [Fact]
    public void An_alias_bomb_inside_a_grid_value_is_refused_at_its_line()
    {
        var bomb = "grid:\n  layers.0.transformer.ffn: [64, &a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e], [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]]\ntrain: { data: shakespeare-char, steps: 1 }\n";
        var template = Template(bomb);
        AssertRefused(Sweep(template, "--dry-run", "--points", "1"), template + "(3,", "YAML nodes");
    }

    [Fact]
    public void An_unknown_grid_field_is_refused_before_anything_trains()
    {
        var template = Template("grid:\n  embeding: [32, 48]\ntrain: { data: shakespeare-char, steps: 1 }\nout: ../out-unknown\n");
        AssertRefused(Sweep(template), template, "SLM0021", "embeding");
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "out-unknown", "p000")));
    }

    [Theory]
    [InlineData("train: { data: shakespeare-char, steps: -5 }", "'steps' must be a whole number of at least 1")]
    [InlineData("train: { data: shakespeare-char, steps: 2, lr: abc }", "'lr' must be a number above 0")]
    [InlineData("train: { data: shakespeare-char, steps: 2, fp32: yes-please }", "'fp32' must be true or false")]
    [InlineData("train: { data: no-such-corpus.txt, steps: 2 }", "no-such-corpus.txt")]
    public void Bad_training_values_in_a_template_are_refused_at_their_line_before_any_child_starts(string train, string expected)
    {
        var template = Template("grid:\n  embedding: [32]\n" + train + "\n");
        AssertRefused(Sweep(template), template + "(", expected);
    }

    [Fact]
    public void A_bad_training_value_in_the_grid_is_refused_at_its_line()
    {
        var template = Template("grid:\n  train.batch: [8, 0]\ntrain: { data: shakespeare-char, steps: 2 }\n");
        AssertRefused(Sweep(template), template + "(3,", "'batch' must be a whole number of at least 1");
    }

    [Fact]
    public void A_sweep_whose_points_all_fail_exits_with_an_error()
    {
        // The text has fewer distinct characters than the spec's vocabulary: every run fails.
        folder.File("corpus/small.txt", string.Concat(Enumerable.Repeat("abcab cabba ", 400)));
        var template = Template("grid:\n  embedding: [32, 48]\ntrain: { data: ../corpus/small.txt, steps: 2, device: cpu }\nout: ../out-failing\n");
        using var run = Sweep(template);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("2 run(s) failed", run.Stderr);
    }

    [Fact]
    public void Every_switch_a_template_turns_on_reaches_its_runs_as_the_train_commands_flag()
    {
        // Multi-word switches (cuda_graphs) once reached the child as --cuda_graphs, which train refuses: every run failed.
        var switches = TrainSettings.All.Where(s => s.Kind == SettingKind.Switch && s.InSweeps).ToList();
        Assert.Contains(switches, s => s.Key.Contains('_'));
        var on = string.Join(", ", switches.Select(s => $"{s.Key}: true"));
        var template = Template($"grid:\n  embedding: [32]\ntrain: {{ data: shakespeare-char, steps: 2, device: cpu, {on} }}\nout: ../out-switches\n");
        using var run = Sweep(template);
        Assert.True(run.ExitCode == 0, run.ToString());
        var log = File.ReadAllText(Path.Combine(folder.Path, "out-switches", "p000", "train.log"));
        Assert.Contains("CUDA graphs", log);
    }

    [Fact]
    public void A_timing_file_that_misses_points_or_ends_in_a_cut_line_still_gives_the_table()
    {
        // A timing stopped by a signal leaves timing.jsonl with some points and perhaps a line cut mid-write; the
        // report once read a missing point's timing as an element that is not an object and failed with "Operation is
        // not valid due to the current state of the object" (found by stopping `sweep --time` on q1-b1-sliding).
        var template = Template("grid:\n  embedding: [32, 48]\ntrain: { data: shakespeare-char, steps: 2, device: cpu }\nout: ../out-timing\n");
        using (var first = Sweep(template))
        {
            Assert.True(first.ExitCode == 0, first.ToString());
        }

        var results = File.ReadAllLines(Path.Combine(folder.Path, "out-timing", "results.jsonl"));
        var model = System.Text.Json.JsonDocument.Parse(results[0]).RootElement.GetProperty("model").GetString();
        File.WriteAllText(Path.Combine(folder.Path, "out-timing", "timing.jsonl"),
            $"{{\"model\":\"{model}\",\"ms_per_step\":2.5,\"tokens_per_second\":123456}}\n{{\"model\":\"cut off mid-wri");
        using var run = Sweep(template);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("123,456 (alone)", run.Stdout);
        var again = File.ReadAllLines(Path.Combine(folder.Path, "out-timing", "results.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(System.Text.Json.JsonValueKind.Object, again[0].GetProperty("timing").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, again[1].GetProperty("timing").ValueKind);
    }

    public void Dispose() => folder.Dispose();
}
