using System;
using System.CommandLine;
using SlmGen.Timing;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen calibrate</c>: measure the current device for the time model.</summary>
public static class CalibrateCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var output = new Option<string>("--out") { Description = "the profile file (JSON)", Required = true };
        var quick = new Option<bool>("--quick") { Description = "a few shapes only (a smoke test, not a profile to predict with)" };
        var command = new Command("calibrate", "Measure this device through SlmGen's runtime (matmul rates over shapes, attention, bandwidth, kernel launch) and write a device profile for slmgen costs --device-profile and slmgen time --device-profile (docs/time.md).") { device, output, quick };
        command.SetAction(r =>
        {
            var dev = Devices.Resolve(r.GetValue(device));
            var profile = DeviceCalibration.Measure(dev, r.GetValue(quick), line => AnsiConsole.MarkupLine(Markup.Escape(line))) with
            {
                Measured = $"{DateTime.UtcNow:yyyy-MM-dd} by slmgen {string.Join(' ', Environment.GetCommandLineArgs()[1..])} at commit {Cli.Commit()}",
            };
            ProfileFile.Write(profile, r.GetValue(output)!);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(r.GetValue(output)!)}: {Markup.Escape(profile.Device)}, {profile.Matmul.Count} matmul and {profile.Attention.Count} attention shapes, {profile.BandwidthBytesPerSecond / 1e9:0.0} GB/s, {profile.LaunchSeconds * 1e6:0.0} µs a kernel");
            return 0;
        });
        return command;
    }
}
