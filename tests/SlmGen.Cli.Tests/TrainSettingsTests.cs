using System;
using System.IO;
using System.Linq;

namespace SlmGen.Cli.Tests;

/// <summary>Issue 23 (CLI options declared once): the docs, the flags, the run configuration and sweeps read one table.</summary>
public sealed class TrainSettingsTests
{
    private const string Start = "<!-- train settings: generated from TrainSettings.MarkdownTable() -->\n";
    private const string End = "<!-- end of train settings -->";

    [Fact]
    public void Docs_cli_md_shows_the_table_the_command_line_is_built_from()
    {
        var path = Path.Combine(SlmGenProcess.Repository, "docs", "cli.md");
        var docs = File.ReadAllText(path).ReplaceLineEndings("\n");
        var at = docs.IndexOf(Start, StringComparison.Ordinal);
        var end = docs.IndexOf(End, StringComparison.Ordinal);
        Assert.True(at >= 0 && end > at, "docs/cli.md has the generated section's markers");
        var expected = docs[..(at + Start.Length)] + TrainSettings.MarkdownTable() + docs[end..];
        if (expected != docs)
        {
            var fixedDocs = Path.Combine(Path.GetTempPath(), "cli.md");
            File.WriteAllText(fixedDocs, expected);
            Assert.Fail($"docs/cli.md's settings table differs from TrainSettings; the regenerated file is {fixedDocs}.");
        }
    }

    [Fact]
    public void Every_setting_is_a_train_flag_a_config_key_and_a_sweep_key_with_one_rule()
    {
        using var folder = new TempFolder();
        foreach (var setting in TrainSettings.All)
        {
            Assert.StartsWith("--", setting.Flag);
            Assert.Equal(setting.InSweeps, Commands.SweepTemplate.TrainKeys.Contains(setting.Key));
            if (setting.Kind is SettingKind.Whole or SettingKind.Number)
            {
                // One rule: the same text is refused by the run configuration reader with the same words as by the flag.
                var config = folder.File($"{setting.Key}.yaml", $"{setting.Key}: -1e400\n");
                var ex = Assert.Throws<CliException>(() => Commands.RunConfig.Load(config));
                Assert.Contains($"'{setting.Key}' must be {setting.Rule}", ex.Message);
                Assert.NotNull(setting.Problem("-1e400"));
            }
        }

        var unknown = folder.File("typo.yaml", "stpes: 10\n");
        var typo = Assert.Throws<CliException>(() => Commands.RunConfig.Load(unknown));
        Assert.Contains("(1,1): unknown key 'stpes'", typo.Message);
    }

    [Fact]
    public void A_run_configuration_sets_training_and_optimizer_settings_and_flags_win()
    {
        using var folder = new TempFolder();
        var spec = folder.File("tiny.yaml", UninterruptedRun.Spec);
        var config = folder.File("run.yaml", "data: shakespeare-char\nsteps: 7\nbatch: 2\nbeta2: 0.95\neval_every: 100\neval_tokens: 200\ndevice: cpu\ncheckpoint_every: off\n");
        var runDir = Path.Combine(folder.Path, "run");
        using var run = SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(2), "train", spec, "--config", config, "--steps", "5", "--run-dir", runDir);
        Assert.True(run.ExitCode == 0, run.ToString());
        var state = SlmGen.Training.Checkpoint.ReadState(Path.Combine(runDir, "last.ckpt"));
        Assert.Equal(5, state.Step);                         // the flag won over the file's 7
        Assert.Equal("0.95", state.Options!["beta2"]);       // the file's optimizer setting reached AdamW
        Assert.Equal("2", state.Options!["batch"]);
    }
}
