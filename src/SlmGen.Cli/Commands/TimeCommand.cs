using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary>
/// <c>slmgen time</c>: the measured training-step time of each spec's model, one after another in one process (so
/// each is timed alone on the device), with the LM head's own share of it (<see cref="StepTimer"/>).
/// </summary>
public static class TimeCommand
{
    public static Command Create()
    {
        var specs = new Argument<string[]>("spec") { Description = "model specs (YAML)", Arity = ArgumentArity.OneOrMore };
        var batch = new Option<int>("--batch") { Description = "windows per step (default 32)", DefaultValueFactory = _ => 32 }.Check(v => v >= 1, "must be at least 1");
        var steps = new Option<int>("--steps") { Description = "steps per timed run (default 30; 3 runs, the median is kept, after 10 warm-up steps)", DefaultValueFactory = _ => 30 }.Check(v => v >= 1, "must be at least 1");
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda (default auto)", DefaultValueFactory = _ => "auto" };
        var fp32 = new Option<bool>("--fp32") { Description = "fp32 on CUDA too (default: bf16 compute, as train)" };
        var json = new Option<string?>("--json") { Description = "append one JSON line per model to this file" };
        var profile = new Option<string?>("--device-profile") { Description = "a device profile (slmgen calibrate): also the time model's prediction and its error against the measurement" };
        var command = new Command("time", "Time each model's training step alone (random tokens), and its LM head's share of the step.") { specs, batch, steps, device, fp32, json, profile };
        command.SetAction(r => Run(r.GetValue(specs)!, r.GetValue(batch), r.GetValue(steps), r.GetValue(device)!, r.GetValue(fp32), r.GetValue(json), r.GetValue(profile)));
        return command;
    }

    private static int Run(string[] specs, int batch, int steps, string deviceName, bool fp32, string? json, string? profilePath)
    {
        if (profilePath is not null)
        {
            Cli.EnsureReadable(profilePath, "device profile");
        }

        var profile = profilePath is null ? null : SlmGen.Timing.ProfileFile.Read(profilePath);
        var compiled = SpecCompiler.Compile(specs);
        var device = Devices.Resolve(deviceName);
        var table = new Table().Border(TableBorder.Markdown).AddColumn("model").AddColumn(new TableColumn("ms/step").RightAligned())
            .AddColumn(new TableColumn("tokens/s").RightAligned()).AddColumn(new TableColumn("head ms").RightAligned()).AddColumn(new TableColumn("head share of time").RightAligned())
            .AddColumn(new TableColumn("head share of FLOPs").RightAligned());
        if (profile is not null)
        {
            table.AddColumn(new TableColumn("predicted ms/step").RightAligned()).AddColumn(new TableColumn("error").RightAligned()).AddColumn("dominant (bound)");
        }
        foreach (var spec in specs)
        {
            var descriptor = compiled.Of(spec);
            Devices.Seed(0);
            using var model = descriptor.Create();
            var t = StepTimer.Time(model, batch, device, bf16: !fp32, steps: steps);
            var cost = model.Cost;
            var headFlops = cost.Components.Where(c => c.Kind == "head").Sum(c => c.TrainingFlopsPerToken);
            var headFlopShare = headFlops / (double)cost.TrainingFlopsPerToken;
            var predicted = profile is null ? null : TimeReport.Training(descriptor, profile, batch);
            var cells = new System.Collections.Generic.List<string> { Markup.Escape(descriptor.Name), t.MillisecondsPerStep.ToString("0.000"), t.TokensPerSecond.ToString("N0"), t.HeadMillisecondsPerStep.ToString("0.000"), t.HeadShare.ToString("P1"), headFlopShare.ToString("P1") };
            if (predicted is not null)
            {
                cells.Add((predicted.Seconds * 1e3).ToString("0.000"));
                cells.Add(((predicted.Seconds * 1e3 - t.MillisecondsPerStep) / t.MillisecondsPerStep).ToString("+0.0%;-0.0%"));
                cells.Add(Markup.Escape($"{predicted.Dominant.Component} ({predicted.Dominant.Bound.ToString().ToLowerInvariant()})"));
            }

            table.AddRow(cells.ToArray());
            if (json is not null)
            {
                var record = new
                {
                    model = descriptor.Name, spec, device = Devices.Describe(device), batch, context = model.Context, bf16 = !fp32 && device.type == TorchSharp.DeviceType.CUDA,
                    ms_per_step = t.MillisecondsPerStep, spread = t.Spread, tokens_per_second = t.TokensPerSecond,
                    head_ms_per_step = t.HeadMillisecondsPerStep, head_share_of_time = t.HeadShare, head_share_of_flops = headFlopShare,
                    predicted_ms_per_step = predicted is null ? (double?)null : predicted.Seconds * 1e3, profile = profile?.Device, profile_measured = profile?.Measured,
                    predicted_head_ms_per_step = predicted?.Components.Where(c => c.Component.StartsWith("lm_head", StringComparison.Ordinal)).Sum(c => c.Seconds) * 1e3,
                    commit = Cli.Commit(), command = "slmgen " + string.Join(' ', Environment.GetCommandLineArgs()[1..]),
                };
                File.AppendAllText(json, JsonSerializer.Serialize(record) + "\n");
            }
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
