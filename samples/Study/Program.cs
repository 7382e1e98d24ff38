using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using SlmGen.Samples;
using SlmGen.Samples.Study;
using SlmGen.Training;
using TorchSharp;

// Commands:
//   list                         the experiments and their models
//   run <experiment|study|all>   train and test (records go to --out; existing records are skipped)
//   babygpt                      nanoGPT's baby GPT with nanoGPT's recipe, timed to validation NLL 1.47
var cli = new CommandLine(args);
var outDir = cli.String("out", Path.Combine("results", "runs"), "where run records are written");
var seeds = cli.Int("seeds", 1, "seeds per model (689, 690, ...)");
var firstSeed = cli.Long("first-seed", Experiments.StudySeed, "the first seed (689 = the study's); with --seeds 1, one seed per process");
var scaleName = cli.String("scale", "full", "full (the study's protocol) or ci (a few steps, for tests)");
var deviceName = cli.String("device", "auto", "auto, cpu or cuda");
var minutes = cli.Double("max-minutes", 0, "stop starting new runs after this many minutes (0 = no limit)");
var only = cli.Optional("models", "comma list of models to run (default: all of the experiment)");
var babySteps = cli.Long("steps", 5000, "babygpt: steps");
var evalBatches = cli.Int("eval-batches", 200, "babygpt: validation batches per evaluation");
if (cli.WantsHelp || cli.Positional.Count == 0)
{
    Console.WriteLine("Study: the small-LM study with generated models.\n  list\n  run <experiment|study|all>\n" + cli.Usage);
    return 0;
}

cli.EnsureAllKnown();
if (cli.Positional[0] == "list")
{
    foreach (var e in Experiments.All)
    {
        Console.WriteLine($"{e.Name,-26} {e.Description}");
        foreach (var entry in e.Entries)
        {
            var m = StudyRunner.Model(entry.Model);
            Console.WriteLine($"    {entry.Model,-26} {m.Cost.Parameters,12:N0} parameters   study NLL {(double.IsNaN(entry.StudyNll) ? "-" : entry.StudyNll.ToString("0.0000"))}");
        }
    }

    return 0;
}

if (cli.Positional[0] == "babygpt")
{
    var babyDevice = Devices.Resolve(deviceName);
    var record = BabyGptRun.Run(babyDevice, babySteps, 1.47, evalBatches, Console.Out,
        babyDevice.type == DeviceType.CUDA ? Environment.GetEnvironmentVariable("SLMGEN_DEVICE_NAME") ?? "cuda" : $"cpu ({torch.get_num_threads()} threads)",
        "Study " + string.Join(" ", args), Environment.GetEnvironmentVariable("SLMGEN_COMMIT") ?? GitHead());
    record.Save(Path.Combine(outDir, "babygpt", $"BabyGpt.seed{record.Seed}.{(babySteps >= 5000 ? "full" : "short")}.json"));
    return 0;
}

var target = cli.Positional.Count > 1 ? cli.Positional[1] : "study";
var experiments = target switch
{
    "all" => Experiments.All.ToList(),
    "study" => Experiments.Study.ToList(),
    _ => target.Split(',').Select(Experiments.Find).ToList(),
};
var scale = scaleName == "ci" ? Scale.Ci : Scale.Full;
var device = Devices.Resolve(deviceName);
var runner = new StudyRunner(device, scale, Console.Out)
{
    Command = "Study " + string.Join(" ", args),
    Commit = Environment.GetEnvironmentVariable("SLMGEN_COMMIT") ?? GitHead(),
    DeviceName = device.type == DeviceType.CUDA ? Environment.GetEnvironmentVariable("SLMGEN_DEVICE_NAME") ?? "cuda" : $"cpu ({torch.get_num_threads()} threads)",
};

var clock = Stopwatch.StartNew();
var filter = only?.Split(',').ToHashSet(StringComparer.OrdinalIgnoreCase);
foreach (var experiment in experiments)
{
    foreach (var entry in experiment.Entries.Where(e => filter is null || filter.Contains(e.Model)))
    {
        for (var s = 0; s < seeds; s++)
        {
            var seed = firstSeed + s;
            var path = Path.Combine(outDir, experiment.Name, $"{entry.Model}.seed{seed}.{scaleName}.json");
            if (File.Exists(path))
            {
                continue;
            }

            if (minutes > 0 && clock.Elapsed.TotalMinutes > minutes)
            {
                Console.WriteLine($"Time limit of {minutes} minutes reached; run again to continue.");
                return 0;
            }

            runner.Run(experiment, entry, seed).Save(path);
        }
    }
}

return 0;

static string GitHead()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        var head = Path.Combine(dir.FullName, ".git", "HEAD");
        if (File.Exists(head))
        {
            var text = File.ReadAllText(head).Trim();
            if (!text.StartsWith("ref: ", StringComparison.Ordinal))
            {
                return text;
            }

            var refPath = Path.Combine(dir.FullName, ".git", text[5..]);
            return File.Exists(refPath) ? File.ReadAllText(refPath).Trim() : text;
        }
    }

    return "unknown";
}
