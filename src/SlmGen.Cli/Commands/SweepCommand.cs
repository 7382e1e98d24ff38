using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using SlmGen.Training;
using Spectre.Console;
using YamlDotNet.RepresentationModel;
using SlmGen.IO;

namespace SlmGen.Cli.Commands;

/// <summary>
/// <c>slmgen sweep</c>: a grid over spec fields. Every point is a spec compiled by the generator before anything
/// trains, so its costs and budget status are known first; points with errors or over their budget are skipped
/// with the reason; the others train as child processes (several per GPU with <c>--jobs</c>), once per seed; a run
/// with a result is not trained again (resumable); <c>--time</c> then times each point's step alone; all results go
/// into one table and <c>results.jsonl</c>.
/// </summary>
/// <remarks>
/// The template:
/// <code>
/// base: specs/nanogpt/baby-gpt.yaml        # the spec every point starts from (relative to the template)
/// grid:                                     # spec fields (dotted paths; list items by index) and their values
///   embedding: [128, 256]
///   "vocab, tokenizer": [[256, bytes], [1024, bpe/1k]]   # fields that change together
///   train.fp32: [true, false]               # a training option per point
/// budget: { max_parameters: 2M }            # optional: set on every point (the build's budget check decides)
/// seeds: [1, 2, 3]                          # optional: each point trains once per seed
/// train: { data: shakespeare-char, flops: 3e13, min_steps: 100, batch: 32 }   # the train command's options;
///                                           # flops: equal training FLOPs (steps per point follow from its costs)
/// out: runs/sweep                           # optional (default: runs/&lt;template name&gt;)
/// </code>
/// </remarks>
public static class SweepCommand
{

    public static Command Create()
    {
        var template = new Argument<string>("template") { Description = "the sweep template (YAML: base, grid, budget, seeds, train, out)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "compile every point and print the costs table; train nothing" };
        var gpus = new Option<int?>("--gpus") { Description = "GPUs to use (default: all CUDA devices; none on CPU)" }.Check(v => v is null or >= 1, "must be at least 1");
        var jobs = new Option<int?>("--jobs") { Description = "training processes at a time, spread over the GPUs (default: one per GPU, or 1)" }.Check(v => v is null or >= 1, "must be at least 1");
        var time = new Option<bool>("--time") { Description = "after training, time each point's step alone (slmgen time) into timing.jsonl" };
        var points = new Option<int?>("--points") { Description = "only the first N points of the grid (a quick check of a large sweep)" }.Check(v => v is null or >= 1, "must be at least 1");
        var seeds = new Option<string?>("--seeds") { Description = "seeds to train with instead of the template's (comma list)" };
        var train = new Option<string[]>("--train") { Description = "a training option KEY=VALUE that wins over the template's (repeat the option)", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--out") { Description = "the output folder instead of the template's" };
        var command = new Command("sweep", "Train a grid of spec variants whose costs are known before training; over-budget points are skipped.") { template, dryRun, gpus, jobs, time, points, seeds, train, output };
        command.SetAction(r => Run(
            SweepTemplate.Load(r.GetValue(template)!, ParseTrain(r.GetValue(train)), ParseSeeds(r.GetValue(seeds)), r.GetValue(output)),
            r.GetValue(dryRun), r.GetValue(gpus), r.GetValue(jobs), r.GetValue(time), r.GetValue(points)));
        return command;
    }

    private sealed class Run1
    {
        public required long? Seed { get; init; }

        public required string Dir { get; init; }

        public string? Status { get; set; }

        public JsonElement? Result { get; set; }
    }

    private sealed record Point(int Index, string Name, string Spec, IReadOnlyDictionary<string, string> Values, Dictionary<string, string> Train)
    {
        public string? Skipped { get; set; }

        public JsonElement? Costs { get; set; }

        /// <summary>The same, typed (what the sweep reads).</summary>
        public CostReportModel? Cost { get; set; }

        public List<Run1> Runs { get; } = new();

        public JsonElement? Timing { get; set; }
    }

    private static int Run(SweepTemplate template, bool dryRun, int? gpus, int? jobs, bool time, int? limit)
    {
        var outDir = template.OutDir;
        Directory.CreateDirectory(Path.Combine(outDir, "points"));
        var points = new List<Point>();
        foreach (var (combo, i) in template.Combinations(limit).Select((c, i) => (c, i)))
        {
            points.Add(WritePoint(template, combo, i));
        }

        // Costs before training: each point compiled by the generator; errors and budgets decide what trains.
        foreach (var p in points)
        {
            try
            {
                var compiled = SpecCompiler.Compile(new[] { p.Spec });
                using var doc = JsonDocument.Parse(compiled.CostReportJson);
                p.Costs = doc.RootElement.GetProperty("models")[0].Clone(); // written to results.jsonl as the report has it
                var model = CostReport.Parse(compiled.CostReportJson).Models[0];
                p.Cost = model;
                var over = model.Budget.Where(x => x.Over).ToList();
                if (over.Count > 0)
                {
                    p.Skipped = "over budget: " + string.Join("; ", over.Select(x => $"{x.Metric} {x.Value:N0} > {x.Limit:N0}"));
                    if (template.Flops is { } f && over.Any(x => x.Metric == "training_flops"))
                    {
                        p.Skipped += $" (the experiment's {f:0.###e0} training FLOPs allow fewer than {p.Train["min_steps"]} steps)";
                    }
                }
                else if (template.Flops is { } flops)
                {
                    // Equal exact training FLOPs: the steps that fit the budget at this point's FLOPs per step.
                    var perStep = FlopsPerStep(model, int.Parse(p.Train["batch"], CultureInfo.InvariantCulture));
                    p.Train["steps"] = Math.Floor(flops / perStep).ToString("0", CultureInfo.InvariantCulture);
                }
            }
            catch (CliException e)
            {
                if (e.Message.Contains(" SLM0021:", StringComparison.Ordinal))
                {
                    // A key the spec language does not have: the template's mistake, not this point's.
                    throw new CliException($"{template.Path}: a grid field is not a spec setting; point {p.Index} ({p.Spec}) says:\n{e.Message}");
                }

                p.Skipped = "invalid: " + e.Message.Replace("\n", " ", StringComparison.Ordinal);
            }

            foreach (var seed in template.Seeds?.Select(s => (long?)s) ?? new long?[] { null })
            {
                var dir = Path.Combine(outDir, $"p{p.Index:D3}", seed is { } s ? $"s{s}" : string.Empty);
                var run = new Run1 { Seed = seed, Dir = dir };
                var resultPath = Path.Combine(dir, "result.json");
                if (p.Skipped is null && File.Exists(resultPath) && ReadResult(resultPath) is { } done)
                {
                    run.Result = done;
                    run.Status = "done";
                }

                p.Runs.Add(run);
            }
        }

        var timingPath = Path.Combine(outDir, "timing.jsonl");
        var interrupted = false;
        if (!dryRun)
        {
            var devices = (int)TorchSharp.torch.cuda.device_count();
            var gpuCount = devices == 0 ? 0 : Math.Min(gpus ?? devices, devices);
            // One listener for the whole sweep, training and timing: a stop signal reaches every child it has running
            // (a training run finishes its step and saves last.ckpt; a timing run ends, its finished lines kept) and no
            // more start; the sweep then reports and exits with 75, and the same command resumes both.
            using var stop = StopSignals.Listen(Console.Out, "stopping every training and timing run (a training run finishes its step and saves last.ckpt), starting no more").HoldUntilExit();
            using var forward = stop.Token.Register(() => ChildProcesses.Signal(15 /* SIGTERM */));
            interrupted = TrainAll(points.Where(p => p.Skipped is null).SelectMany(p => p.Runs.Where(r => r.Result is null).Select(r => (p, r))).ToList(), outDir, jobs ?? Math.Max(1, gpuCount), gpuCount, stop);
            if (time && !interrupted)
            {
                interrupted = TimeAll(points.Where(p => p.Skipped is null && p.Runs.Any(r => r.Result is not null)).ToList(), timingPath, outDir, gpuCount > 0, stop);
            }
        }

        if (File.Exists(timingPath))
        {
            var timings = ReadTimings(timingPath);
            foreach (var p in points)
            {
                // A point the timing did not reach (stopped, or its timing failed) has none: LastOrDefault's default
                // element is not an object, and reading it threw when the table was printed.
                var found = timings.Where(t => t.GetProperty("model").GetString() == p.Name).ToList();
                p.Timing = found.Count > 0 ? found[^1] : null;
            }
        }

        Report(points, template, outDir);
        var failed = points.SelectMany(p => p.Runs.Select(r => (p, r))).Count(x => x.r.Status is { } st && st.StartsWith("training failed", StringComparison.Ordinal));
        var invalid = points.Count(p => p.Skipped?.StartsWith("invalid", StringComparison.Ordinal) == true);
        if (interrupted)
        {
            Console.Error.WriteLine($"interrupted: the runs that were training saved their step and the points timed so far kept their lines; run the same sweep again to resume both (exit status {StopSignals.InterruptedExitCode}).");
            return StopSignals.InterruptedExitCode;
        }

        if (failed > 0 || invalid > 0)
        {
            Console.Error.WriteLine($"error: {(failed > 0 ? $"{failed} run(s) failed" : string.Empty)}{(failed > 0 && invalid > 0 ? " and " : string.Empty)}{(invalid > 0 ? $"{invalid} point(s) have spec errors" : string.Empty)} (see the table and each run's train.log); the sweep is not a success.");
            return 1;
        }

        return 0;
    }

    /// <summary>A run's result.json, or null when it is unreadable (the run is then trained again).</summary>
    private static JsonElement? ReadResult(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(SlmGen.IO.InputFile.ReadAllText(path, "result", SlmGen.IO.InputFile.SpecLimit));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("validation_nll", out _) ? doc.RootElement.Clone() : null;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>The point's spec (the base with the grid's values written in) and its training options.</summary>
    private static Point WritePoint(SweepTemplate template, IReadOnlyList<int> combo, int index)
    {
        var spec = SweepTemplate.LoadMapping(template.BasePath);
        var name = $"{SweepTemplate.Scalar(spec, "name", template.BasePath) ?? "Model"}_P{index:D3}";
        var pointsDir = Path.Combine(template.OutDir, "points");
        var templateDir = Path.GetDirectoryName(Path.GetFullPath(template.Path))!;
        var baseDir = Path.GetDirectoryName(template.BasePath)!;
        RebaseTokenizer(spec, baseDir, pointsDir);
        var train = new Dictionary<string, string>(template.Train, StringComparer.Ordinal);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var a = 0; a < template.Axes.Count; a++)
        {
            var axis = template.Axes[a];
            var chosen = axis.Values[combo[a]];
            for (var f = 0; f < axis.Fields.Count; f++)
            {
                var field = axis.Fields[f];
                values[field] = Flow(chosen[f]);
                if (field.StartsWith("train.", StringComparison.Ordinal))
                {
                    train[field["train.".Length..]] = chosen[f] is YamlScalarNode { Value: { } v } ? SweepTemplate.ResolvePath(field["train.".Length..], v, templateDir) : throw new CliException($"{SweepTemplate.At(template.Path, chosen[f])}: a training option takes a single value.");
                }
                else
                {
                    Set(spec, field, chosen[f], template.Path);
                    if (field == "tokenizer")
                    {
                        RebaseTokenizer(spec, templateDir, pointsDir);
                    }
                }
            }
        }

        spec.Children[new YamlScalarNode("name")] = new YamlScalarNode(name);
        var budget = spec.Children.TryGetValue(new YamlScalarNode("budget"), out var b) && b is YamlMappingNode bm ? bm : new YamlMappingNode();
        if (template.Budget is YamlMappingNode extra)
        {
            foreach (var (k, v) in extra.Children)
            {
                budget.Children[k] = v;
            }
        }
        else if (template.Budget is not null)
        {
            throw new CliException($"{SweepTemplate.At(template.Path, template.Budget)}: 'budget' must be a mapping (the spec's budget keys).");
        }

        if (template.Flops is { } flops)
        {
            // The experiment's budget, checked by the build like any budget: the shortest run the experiment accepts
            // (min_steps windows of the context) must fit its FLOPs.
            train.TryAdd("batch", TrainSettings.Find("batch")!.Default!);
            train.TryAdd("min_steps", "100");
            var context = SweepTemplate.Scalar(spec, "context", template.BasePath) is { } c && long.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ctx) ? ctx : 1;
            var minTokens = long.Parse(train["min_steps"], CultureInfo.InvariantCulture) * long.Parse(train["batch"], CultureInfo.InvariantCulture) * context;
            budget.Children[new YamlScalarNode("max_training_flops")] = new YamlScalarNode(flops.ToString("R", CultureInfo.InvariantCulture));
            budget.Children[new YamlScalarNode("training_tokens")] = new YamlScalarNode(minTokens.ToString(CultureInfo.InvariantCulture));
        }

        if (budget.Children.Count > 0)
        {
            spec.Children[new YamlScalarNode("budget")] = budget;
        }

        var path = Path.Combine(pointsDir, $"p{index:D3}.yaml");
        using (var writer = new StringWriter(CultureInfo.InvariantCulture))
        {
            new YamlStream(new YamlDocument(spec)).Save(writer, assignAnchors: false);
            File.WriteAllText(path, writer.ToString());
        }

        return new Point(index, name, path, values, train);
    }

    /// <summary>A BPE folder named by the spec is relative to the file it came from; the point's spec lives elsewhere.</summary>
    private static void RebaseTokenizer(YamlMappingNode spec, string fromDir, string toDir)
    {
        if (spec.Children.TryGetValue(new YamlScalarNode("tokenizer"), out var t) && t is YamlScalarNode { Value: { Length: > 0 } value } && !SlmGen.Data.Tokenizers.TokenizerSpec.IsName(value))
        {
            var folder = value.StartsWith("bpe:", StringComparison.Ordinal) ? value[4..] : value;
            var full = Path.GetFullPath(Path.Combine(fromDir, folder));
            spec.Children[new YamlScalarNode("tokenizer")] = new YamlScalarNode(Path.GetRelativePath(toDir, full));
        }
    }

    /// <summary>Exact training FLOPs of one step of <paramref name="batch"/> windows (the trainer's count).</summary>
    private static double FlopsPerStep(CostReportModel costs, int batch) =>
        (double)costs.TrainingFlopsPerToken * batch * (costs.PredictsEveryPosition ? costs.Context : 1);

    /// <summary>Trains the runs in child processes; returns whether a stop signal ended the sweep (the children saved their step).</summary>
    private static bool TrainAll(List<(Point Point, Run1 Run)> todo, string outDir, int workers, int gpuCount, StopSignals stop)
    {
        var queue = new Queue<(Point Point, Run1 Run)>(todo);
        var gate = new object();
        AnsiConsole.MarkupLine($"training {todo.Count} run(s), {workers} at a time{(gpuCount > 0 ? $" on {gpuCount} GPU(s)" : string.Empty)}; logs in {Markup.Escape(outDir)}/p###/…/train.log");
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            while (true)
            {
                Point p;
                Run1 run;
                lock (gate)
                {
                    if (queue.Count == 0 || stop.Stopped)
                    {
                        return;
                    }

                    (p, run) = queue.Dequeue();
                }

                Directory.CreateDirectory(run.Dir);
                var args = new List<string> { "train", p.Spec, "--run-dir", run.Dir, "--result", Path.Combine(run.Dir, "result.json") };
                foreach (var (key, value) in p.Train.Where(a => a.Key is not "run_dir" and not "flops" and not "min_steps"))
                {
                    var flag = "--" + key.Replace('_', '-');
                    if (TrainSettings.Find(key)?.Kind == SettingKind.Switch)
                    {
                        // A switch is its flag alone (kebab case like every other: `cuda_graphs: true` → --cuda-graphs).
                        if (value is "true")
                        {
                            args.Add(flag);
                        }

                        continue;
                    }

                    args.Add(flag);
                    args.Add(value);
                }

                if (run.Seed is { } seed)
                {
                    args.Add("--seed");
                    args.Add(seed.ToString(CultureInfo.InvariantCulture));
                }

                if (File.Exists(Path.Combine(run.Dir, "last.ckpt")))
                {
                    args.Add("--resume"); // a run interrupted earlier continues where it stopped
                }

                var exitCode = Child(args, run.Dir, "train.log", gpuCount > 0 ? (worker % gpuCount).ToString(CultureInfo.InvariantCulture) : null);
                lock (gate)
                {
                    var resultPath = Path.Combine(run.Dir, "result.json");
                    if (exitCode == StopSignals.InterruptedExitCode || (exitCode != 0 && stop.Stopped))
                    {
                        run.Status = "interrupted (resumes when the sweep runs again)";
                        AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(p.Name)}{(run.Seed is { } s0 ? $" seed {s0}" : string.Empty)}: {Markup.Escape(run.Status)}[/]");
                    }
                    else if (exitCode == 0 && File.Exists(resultPath) && ReadResult(resultPath) is { } done)
                    {
                        run.Result = done;
                        run.Status = "done";
                        var r = run.Result.Value;
                        var score = r.TryGetProperty("test_bits_per_character", out var t) && t.ValueKind == JsonValueKind.Number ? $"test {t.GetDouble():0.0000} bits/char" : $"validation NLL {r.GetProperty("validation_nll").GetDouble():0.0000}";
                        AnsiConsole.MarkupLine($"{Markup.Escape(p.Name)}{(run.Seed is { } s ? $" seed {s}" : string.Empty)}: {score}");
                    }
                    else
                    {
                        run.Status = $"training failed (exit {exitCode}; see {Path.Combine(run.Dir, "train.log")})";
                        AnsiConsole.MarkupLine($"[red]{Markup.Escape(p.Name)}: {Markup.Escape(run.Status)}[/]");
                    }
                }
            }
        });
        return stop.Stopped;
    }

    /// <summary>
    /// Times each point's step alone, in one <c>slmgen time</c> process per precision and execution path, one point
    /// after another — on the path its training took: as one CUDA graph where the point's runs capture their step
    /// (<c>cuda_graphs</c> or SLMGEN_CUDA_GRAPHS=1), so that a time budget set from these figures is the runs' own.
    /// </summary>
    /// <returns>Whether a stop signal ended the timing (the points timed so far keep their lines; the rest are timed when the sweep runs again).</returns>
    private static bool TimeAll(List<Point> points, string timingPath, string outDir, bool cuda, StopSignals stop)
    {
        var graphsEverywhere = Environment.GetEnvironmentVariable("SLMGEN_CUDA_GRAPHS") == "1";
        var timed = File.Exists(timingPath) ? ReadTimings(timingPath).Select(t => t.GetProperty("model").GetString()).ToHashSet() : new HashSet<string?>();
        foreach (var group in points.Where(p => !timed.Contains(p.Name)).GroupBy(p => (
            Batch: p.Train.GetValueOrDefault("batch", TrainSettings.Find("batch")!.Default!),
            Fp32: p.Train.GetValueOrDefault("fp32") == "true",
            Device: p.Train.GetValueOrDefault("device", TrainSettings.Find("device")!.Default!),
            Graphed: cuda && (graphsEverywhere || p.Train.GetValueOrDefault("cuda_graphs") == "true"),
            // The recipe's work besides the plan's is timed too (slmgen time --ema-decay --z-loss).
            Ema: p.Train.GetValueOrDefault("ema_decay", "0"),
            ZLoss: p.Train.GetValueOrDefault("z_loss", "0"))))
        {
            var args = new List<string> { "time" };
            args.AddRange(group.Select(p => p.Spec));
            args.AddRange(new[] { "--batch", group.Key.Batch, "--device", group.Key.Device, "--json", timingPath });
            if (group.Key.Fp32)
            {
                args.Add("--fp32");
            }

            if (group.Key.Graphed)
            {
                args.Add("--graphed");
            }

            args.AddRange(new[] { "--ema-decay", group.Key.Ema, "--z-loss", group.Key.ZLoss });

            if (stop.Stopped)
            {
                return true;
            }

            AnsiConsole.MarkupLine($"timing {group.Count()} point(s) alone{(cuda ? " on GPU 0" : string.Empty)}");
            var code = Child(args, outDir, "timing.log", cuda ? "0" : null);
            if (stop.Stopped)
            {
                return true;
            }

            if (code != 0)
            {
                AnsiConsole.MarkupLine($"[red]timing failed (exit {code}; see {Markup.Escape(Path.Combine(outDir, "timing.log"))})[/]");
            }
        }

        return false;
    }

    /// <summary>
    /// timing.jsonl's lines that are whole JSON objects with a model: a timing process stopped mid-write leaves its last
    /// line cut, and that point is timed again when the sweep resumes.
    /// </summary>
    private static List<JsonElement> ReadTimings(string path)
    {
        var timings = new List<JsonElement>();
        foreach (var line in File.ReadAllLines(path).Where(l => l.Length > 0))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    timings.Add(doc.RootElement.Clone());
                }
            }
            catch (JsonException)
            {
                // cut short: not timed
            }
        }

        return timings;
    }

    /// <summary>Runs <c>slmgen …</c> as a child process (this same tool), on one GPU when given.</summary>
    private static int Child(List<string> args, string dir, string logName, string? gpu)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(SweepCommand).Assembly.Location);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (gpu is not null)
        {
            psi.Environment["CUDA_VISIBLE_DEVICES"] = gpu;
        }

        using var log = new StreamWriter(Path.Combine(dir, logName), append: true);
        using var process = Process.Start(psi)!;
        using var tracked = ChildProcesses.Track(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        return process.ExitCode;
    }

    private static int Report(List<Point> points, SweepTemplate template, string outDir)
    {
        var fields = template.Axes.SelectMany(a => a.Fields).ToList();
        var table = new Table().Border(TableBorder.Markdown);
        foreach (var f in fields)
        {
            table.AddColumn(f);
        }

        var seeded = template.Seeds is { Count: > 1 };
        table.AddColumn("model").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("train FLOPs/token").RightAligned());
        if (template.Flops is not null)
        {
            table.AddColumn(new TableColumn("steps").RightAligned());
        }

        table.AddColumn(new TableColumn("validation NLL" + (seeded ? " (mean ± sd)" : string.Empty)).RightAligned());
        if (template.Train.GetValueOrDefault("test") == "true")
        {
            table.AddColumn(new TableColumn("test bits/char" + (seeded ? " (mean ± sd)" : string.Empty)).RightAligned());
        }

        // With train.artifact: what ships, scored after the round trip beside the model before it (docs/artifact.md).
        var artifact = template.Train.GetValueOrDefault("artifact") == "true";
        var scored = template.Train.GetValueOrDefault("test") == "true" ? "test" : "validation";
        if (artifact)
        {
            if (scored == "validation")
            {
                table.AddColumn(new TableColumn("validation bits/char" + (seeded ? " (mean ± sd)" : string.Empty)).RightAligned());
            }

            table.AddColumn(new TableColumn($"{scored} bits/char after the round trip" + (seeded ? " (mean ± sd)" : string.Empty)).RightAligned());
            table.AddColumn(new TableColumn("artifact bytes (stated)").RightAligned()).AddColumn(new TableColumn("artifact file bytes").RightAligned());
        }

        table.AddColumn(new TableColumn("tokens/s").RightAligned()).AddColumn("status");
        var lines = new List<string>();
        foreach (var p in points)
        {
            var done = p.Runs.Where(r => r.Result is not null).Select(r => r.Result!.Value).ToList();
            var status = p.Skipped ?? (p.Runs.FirstOrDefault(r => r.Status is not null and not "done")?.Status) ?? (done.Count == p.Runs.Count ? "done" : done.Count == 0 ? "not trained" : $"{done.Count} of {p.Runs.Count} runs done");
            var cells = fields.Select(f => p.Values[f]).ToList();
            cells.Add(p.Name);
            cells.Add(p.Cost is { } c ? c.Parameters.ToString("N0", CultureInfo.InvariantCulture) : "-");
            cells.Add(p.Cost is { } c2 ? c2.TrainingFlopsPerToken.ToString("N0", CultureInfo.InvariantCulture) : "-");
            if (template.Flops is not null)
            {
                cells.Add(p.Train.GetValueOrDefault("steps", "-"));
            }

            cells.Add(Summary(done, "validation_nll"));
            if (template.Train.GetValueOrDefault("test") == "true")
            {
                cells.Add(Summary(done, "test_bits_per_character"));
            }

            if (artifact)
            {
                if (scored == "validation")
                {
                    cells.Add(Summary(done, "validation_bits_per_character"));
                }

                cells.Add(Summary(done, $"{scored}_bits_per_character_artifact"));
                cells.Add(p.Cost is { } c3 ? c3.ArtifactBytes.ToString("N0", CultureInfo.InvariantCulture) : "-");
                var files = done.Select(r => r.TryGetProperty("artifact_file_bytes", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : -1).Where(v => v >= 0).Distinct().ToList();
                cells.Add(files.Count == 0 ? "-" : string.Join(" / ", files.Select(v => v.ToString("N0", CultureInfo.InvariantCulture))));
            }

            var rate = p.Timing is { } timing ? timing.GetProperty("tokens_per_second").GetDouble() : done.Count > 0 ? done.Average(r => r.GetProperty("tokens_per_second").GetDouble()) : double.NaN;
            cells.Add(double.IsNaN(rate) ? "-" : rate.ToString("N0", CultureInfo.InvariantCulture) + (p.Timing is not null ? " (alone)" : string.Empty));
            cells.Add(status);
            table.AddRow(cells.Select(Markup.Escape).ToArray());
            lines.Add(JsonSerializer.Serialize(new
            {
                point = p.Index, model = p.Name, spec = Path.GetRelativePath(outDir, p.Spec), values = p.Values, status, train = p.Train, costs = p.Costs,
                runs = p.Runs.Select(r => new { seed = r.Seed, dir = Path.GetRelativePath(outDir, r.Dir), status = r.Status ?? (p.Skipped is null ? "not trained" : "skipped"), result = r.Result }),
                result = p.Runs.Count == 1 ? p.Runs[0].Result : null,
                timing = p.Timing,
            }));
        }

        AnsiConsole.Write(table);
        File.WriteAllLines(Path.Combine(outDir, "results.jsonl"), lines);
        AnsiConsole.MarkupLine($"results: {Markup.Escape(Path.Combine(outDir, "results.jsonl"))}");
        return 0;
    }

    /// <summary>"mean ± sd (n)" of a result field over runs, or the one value.</summary>
    private static string Summary(List<JsonElement> runs, string field)
    {
        var values = runs.Select(r => r.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).Where(double.IsFinite).ToList();
        if (values.Count == 0)
        {
            return "-";
        }

        if (values.Count == 1)
        {
            return values[0].ToString("0.0000", CultureInfo.InvariantCulture);
        }

        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return $"{mean.ToString("0.0000", CultureInfo.InvariantCulture)} ± {sd.ToString("0.0000", CultureInfo.InvariantCulture)} ({values.Count})";
    }

    private static Dictionary<string, string> ParseTrain(string[]? pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? Array.Empty<string>())
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliException($"--train {pair}: expected KEY=VALUE (a training option of the template, e.g. flops=1e12).");
            }

            result[pair[..eq].Trim().Replace('-', '_')] = pair[(eq + 1)..].Trim();
        }

        return result;
    }

    private static List<long>? ParseSeeds(string? text) =>
        text is null ? null : text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new CliException($"--seeds {text}: expected whole numbers separated by commas.")).ToList();

    /// <summary>A grid value as YAML flow text ("128", "{ groups: 64 }", "[1, 2]").</summary>
    private static string Flow(YamlNode node) => node switch
    {
        YamlScalarNode scalar => scalar.Value ?? string.Empty,
        YamlMappingNode map => "{ " + string.Join(", ", map.Children.Select(kv => Flow(kv.Key) + ": " + Flow(kv.Value))) + " }",
        YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(Flow)) + "]",
        _ => node.ToString(),
    };

    /// <summary>Writes <paramref name="value"/> at a dotted path (mapping keys; list items by index) of the spec.</summary>
    private static void Set(YamlMappingNode spec, string field, YamlNode value, string templatePath)
    {
        var parts = field.Split('.');
        YamlNode node = spec;
        for (var i = 0; i < parts.Length; i++)
        {
            var last = i == parts.Length - 1;
            switch (node)
            {
                case YamlMappingNode map:
                    var key = new YamlScalarNode(parts[i]);
                    if (last)
                    {
                        map.Children[key] = value;
                        return;
                    }

                    if (!map.Children.TryGetValue(key, out var child))
                    {
                        child = new YamlMappingNode();
                        map.Children[key] = child;
                    }

                    node = child;
                    break;

                case YamlSequenceNode seq when int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < seq.Children.Count:
                    if (last)
                    {
                        seq.Children[index] = value;
                        return;
                    }

                    node = seq.Children[index];
                    break;

                default:
                    throw new CliException($"{templatePath}: grid field '{field}' does not lead into the base spec at '{parts[i]}'.");
            }
        }
    }
}
