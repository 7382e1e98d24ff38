using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Spectre.Console;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Cli.Commands;

/// <summary>
/// <c>slmgen sweep</c>: a grid over spec fields. Every point is a spec compiled by the generator before anything
/// trains, so its costs and budget status are known first; points with errors or over their budget are skipped
/// with the reason; the others train one process per GPU (or one at a time on CPU); a point with a result is
/// not trained again (resumable); all results go into one table.
/// </summary>
/// <remarks>
/// The template:
/// <code>
/// base: specs/nanogpt/baby-gpt.yaml        # the spec every point starts from (relative to the template)
/// grid:                                     # spec fields (dotted paths; list items by index) and their values
///   embedding: [128, 256]
///   layers.0.transformer.layers: [2, 4]
/// budget: { max_parameters: 2M }            # optional: set on every point (the build's budget check decides)
/// train: { data: shakespeare-char, steps: 200, batch: 32 }   # the train command's options (see slmgen train)
/// out: runs/sweep                           # optional (default: runs/&lt;template name&gt;)
/// </code>
/// </remarks>
public static class SweepCommand
{
    public static Command Create()
    {
        var template = new Argument<string>("template") { Description = "the sweep template (YAML: base, grid, budget, train, out)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "compile every point and print the costs table; train nothing" };
        var gpus = new Option<int?>("--gpus") { Description = "parallel training processes, one per GPU (default: the CUDA devices, or 1)" }.Check(v => v is null or >= 1, "must be at least 1");
        var command = new Command("sweep", "Train a grid of spec variants whose costs are known before training; over-budget points are skipped.") { template, dryRun, gpus };
        command.SetAction(r => Run(r.GetValue(template)!, r.GetValue(dryRun), r.GetValue(gpus)));
        return command;
    }

    private sealed record Point(int Index, string Name, string Spec, IReadOnlyDictionary<string, string> Values)
    {
        public string? Skipped { get; set; }
        public JsonElement? Costs { get; set; }
        public JsonElement? Result { get; set; }
    }

    private static int Run(string templatePath, bool dryRun, int? gpus)
    {
        if (!File.Exists(templatePath))
        {
            throw new CliException($"{templatePath}: no such sweep template.");
        }

        var root = LoadMapping(templatePath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(templatePath))!;
        var basePath = Path.Combine(dir, Scalar(root, "base", templatePath) ?? throw new CliException($"{templatePath}: 'base' (the spec to start from) is missing."));
        var grid = root.Children.TryGetValue(new YamlScalarNode("grid"), out var g) && g is YamlMappingNode gm ? gm : throw new CliException($"{templatePath}: 'grid' (fields and their values) is missing.");
        var train = root.Children.TryGetValue(new YamlScalarNode("train"), out var t) && t is YamlMappingNode tm ? tm : new YamlMappingNode();
        var budget = root.Children.TryGetValue(new YamlScalarNode("budget"), out var b) ? b : null;
        // Relative to the template, like base (default: runs/<template name> beside the working folder).
        var outDir = Scalar(root, "out", templatePath) is { } o ? Path.GetFullPath(Path.Combine(dir, o)) : Path.GetFullPath(Path.Combine("runs", Path.GetFileNameWithoutExtension(templatePath)));
        var axes = grid.Children.Select(kv => (Field: ((YamlScalarNode)kv.Key).Value!, Values: kv.Value is YamlSequenceNode s ? s.Children.Select(v => v).ToList() : throw new CliException($"{templatePath}({kv.Value.Start.Line},{kv.Value.Start.Column}): the values of '{((YamlScalarNode)kv.Key).Value}' must be a list."))).ToList();
        if (axes.Any(a => a.Values.Count == 0))
        {
            throw new CliException($"{templatePath}: every grid field needs at least one value.");
        }

        // The points: the base spec with each combination written in, and a name of its own.
        Directory.CreateDirectory(Path.Combine(outDir, "points"));
        var points = new List<Point>();
        var combos = axes.Aggregate(new List<List<YamlNode>> { new() }, (acc, axis) => acc.SelectMany(c => axis.Values.Select(v => c.Append(v).ToList())).ToList());
        foreach (var (combo, i) in combos.Select((c, i) => (c, i)))
        {
            var spec = LoadMapping(basePath);
            var baseName = Scalar(spec, "name", basePath) ?? "Model";
            var name = $"{baseName}_P{i:D3}";
            for (var a = 0; a < axes.Count; a++)
            {
                Set(spec, axes[a].Field, combo[a], templatePath);
            }

            spec.Children[new YamlScalarNode("name")] = new YamlScalarNode(name);
            if (budget is not null)
            {
                spec.Children[new YamlScalarNode("budget")] = budget;
            }

            var path = Path.Combine(outDir, "points", $"p{i:D3}.yaml");
            using (var writer = new StringWriter(CultureInfo.InvariantCulture))
            {
                new YamlStream(new YamlDocument(spec)).Save(writer, assignAnchors: false);
                File.WriteAllText(path, writer.ToString());
            }

            points.Add(new Point(i, name, path, axes.Select((x, k) => (x.Field, Value: Flow(combo[k]))).ToDictionary(x => x.Field, x => x.Value)));
        }

        // Costs before training: each point compiled by the generator; errors and budgets decide what trains.
        foreach (var p in points)
        {
            try
            {
                var compiled = SpecCompiler.Compile(new[] { p.Spec });
                using var doc = JsonDocument.Parse(compiled.CostReportJson);
                var model = doc.RootElement.GetProperty("models")[0].Clone();
                p.Costs = model;
                var over = model.GetProperty("budget").EnumerateArray().Where(x => x.GetProperty("over").GetBoolean()).ToList();
                if (over.Count > 0)
                {
                    p.Skipped = "over budget: " + string.Join("; ", over.Select(x => $"{x.GetProperty("metric").GetString()} {x.GetProperty("value").GetDouble():N0} > {x.GetProperty("limit").GetDouble():N0}"));
                }
            }
            catch (CliException e)
            {
                p.Skipped = "invalid: " + e.Message.Replace("\n", " ", StringComparison.Ordinal);
            }

            var resultPath = Path.Combine(outDir, $"p{p.Index:D3}", "result.json");
            if (p.Skipped is null && File.Exists(resultPath))
            {
                p.Result = JsonDocument.Parse(File.ReadAllText(resultPath)).RootElement.Clone();
            }
        }

        if (!dryRun)
        {
            TrainAll(points.Where(p => p.Skipped is null && p.Result is null).ToList(), train, outDir, gpus ?? Math.Max(1, (int)TorchSharp.torch.cuda.device_count()));
        }

        return Report(points, axes.Select(a => a.Field).ToList(), outDir);
    }

    private static void TrainAll(List<Point> todo, YamlMappingNode train, string outDir, int workers)
    {
        var arguments = train.Children.Select(kv => (Key: ((YamlScalarNode)kv.Key).Value!, Value: ((YamlScalarNode)kv.Value).Value!)).ToList();
        var cuda = TorchSharp.torch.cuda.is_available();
        var queue = new Queue<Point>(todo);
        var gate = new object();
        AnsiConsole.MarkupLine($"training {todo.Count} point(s), {workers} at a time{(cuda ? ", one per GPU" : string.Empty)}; logs in {Markup.Escape(outDir)}/p###/train.log");
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            while (true)
            {
                Point p;
                lock (gate)
                {
                    if (queue.Count == 0)
                    {
                        return;
                    }

                    p = queue.Dequeue();
                }

                var runDir = Path.Combine(outDir, $"p{p.Index:D3}");
                Directory.CreateDirectory(runDir);
                var args = new List<string> { "train", p.Spec, "--run-dir", runDir, "--result", Path.Combine(runDir, "result.json") };
                foreach (var (key, value) in arguments.Where(a => a.Key != "run_dir"))
                {
                    args.Add("--" + key.Replace('_', '-'));
                    if (!(value is "true" && key is "fp32"))
                    {
                        args.Add(value);
                    }
                }

                if (File.Exists(Path.Combine(runDir, "last.ckpt")))
                {
                    args.Add("--resume"); // a point interrupted earlier continues where it stopped
                }

                var exitCode = Child(args, runDir, cuda ? worker.ToString(CultureInfo.InvariantCulture) : null);
                lock (gate)
                {
                    var resultPath = Path.Combine(runDir, "result.json");
                    if (exitCode == 0 && File.Exists(resultPath))
                    {
                        p.Result = JsonDocument.Parse(File.ReadAllText(resultPath)).RootElement.Clone();
                        AnsiConsole.MarkupLine($"{Markup.Escape(p.Name)}: validation NLL {p.Result.Value.GetProperty("validation_nll").GetDouble():0.0000}");
                    }
                    else
                    {
                        p.Skipped = $"training failed (exit {exitCode}; see {Path.Combine(runDir, "train.log")})";
                        AnsiConsole.MarkupLine($"[red]{Markup.Escape(p.Name)}: {Markup.Escape(p.Skipped)}[/]");
                    }
                }
            }
        });
    }

    /// <summary>Runs <c>slmgen train …</c> as a child process (this same tool), on one GPU when given.</summary>
    private static int Child(List<string> args, string runDir, string? gpu)
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

        using var log = new StreamWriter(Path.Combine(runDir, "train.log"), append: true);
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        return process.ExitCode;
    }

    private static int Report(List<Point> points, List<string> fields, string outDir)
    {
        var table = new Table().Border(TableBorder.Markdown);
        foreach (var f in fields)
        {
            table.AddColumn(f);
        }

        table.AddColumn("model").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("train FLOPs/token").RightAligned())
            .AddColumn(new TableColumn("validation NLL").RightAligned()).AddColumn(new TableColumn("tokens/s").RightAligned()).AddColumn("status");
        var lines = new List<string>();
        foreach (var p in points)
        {
            var cells = fields.Select(f => p.Values[f]).ToList();
            cells.Add(p.Name);
            cells.Add(p.Costs is { } c ? c.GetProperty("parameters").GetInt64().ToString("N0", CultureInfo.InvariantCulture) : "-");
            cells.Add(p.Costs is { } c2 ? c2.GetProperty("trainingFlopsPerToken").GetInt64().ToString("N0", CultureInfo.InvariantCulture) : "-");
            cells.Add(p.Result is { } r ? r.GetProperty("validation_nll").GetDouble().ToString("0.0000", CultureInfo.InvariantCulture) : "-");
            cells.Add(p.Result is { } r2 ? r2.GetProperty("tokens_per_second").GetDouble().ToString("N0", CultureInfo.InvariantCulture) : "-");
            cells.Add(p.Skipped ?? (p.Result is null ? "not trained" : "done"));
            table.AddRow(cells.Select(Markup.Escape).ToArray());
            lines.Add(JsonSerializer.Serialize(new { point = p.Index, model = p.Name, spec = p.Spec, values = p.Values, status = p.Skipped ?? (p.Result is null ? "not trained" : "done"), costs = p.Costs, result = p.Result }));
        }

        AnsiConsole.Write(table);
        File.WriteAllLines(Path.Combine(outDir, "results.jsonl"), lines);
        AnsiConsole.MarkupLine($"results: {Markup.Escape(Path.Combine(outDir, "results.jsonl"))}");
        return 0;
    }

    /// <summary>A grid value as YAML flow text ("128", "{ groups: 64 }", "[1, 2]").</summary>
    private static string Flow(YamlNode node) => node switch
    {
        YamlScalarNode scalar => scalar.Value ?? string.Empty,
        YamlMappingNode map => "{ " + string.Join(", ", map.Children.Select(kv => Flow(kv.Key) + ": " + Flow(kv.Value))) + " }",
        YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(Flow)) + "]",
        _ => node.ToString(),
    };

    private static YamlMappingNode LoadMapping(string path)
    {
        try
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(path);
            stream.Load(reader);
            return stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode m ? m : throw new CliException($"{path}: expected one YAML mapping.");
        }
        catch (YamlException e)
        {
            throw new CliException($"{path}({e.Start.Line},{e.Start.Column}): {e.Message}");
        }
    }

    private static string? Scalar(YamlMappingNode map, string key, string path) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? (v as YamlScalarNode)?.Value ?? throw new CliException($"{path}({v.Start.Line},{v.Start.Column}): '{key}' must be a single value.") : null;

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
