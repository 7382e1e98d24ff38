using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen costs</c>: the cost table of every model of YAML specs or of a project.</summary>
public static class CostsCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("specs") { Description = "YAML spec files, or one project (.csproj or its folder) whose build writes slmgen-costs.json", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "print the cost report as JSON (the generator's slmgen-costs.json) instead of tables" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "with --data: also give the costs per character and per byte, for this tokenizer's compression (chars, bytes, words, gpt2, cl100k, bpe:DIR)" };
        var data = new Option<string?>("--data") { Description = "with --tokenizer: the corpus whose training split measures the compression" };
        var batch = new Option<int?>("--batch") { Description = "also predict the peak memory of an fp32 training step of this many sequences (SlmGen.TrainingMemory; with --json: trainingPeakBytes in each model)" }.Check(v => v is null or >= 1, "must be at least 1");
        var profile = new Option<string?>("--device-profile", "--device") { Description = "a device profile (slmgen calibrate; --device for short): also predict the time of a training step at --batch (default 32), tokens/s, the hours of --train-tokens, and decode latency" };
        var trainTokens = new Option<double?>("--train-tokens") { Description = "with --device-profile: the training tokens to give the hours for" };
        var decodeContext = new Option<int?>("--decode-context") { Description = "with --device-profile: predict decoding one token after this many cached positions (default: half the context)" };
        var emaDecay = new Option<double>("--ema-decay") { Description = "with --device-profile: the step keeps a moving average of the weights (train's ema_decay; 0 = none)" }.Check(v => v is >= 0 and < 1, "must be at least 0 and below 1");
        var zLoss = new Option<double>("--z-loss") { Description = "with --device-profile: the loss adds the z-loss (train's z_loss; 0 = none)" }.Check(v => v >= 0, "must be at least 0");
        var graphed = new Option<bool>("--graphed") { Description = "with --device-profile: the time budget (max_training_time) assumes each training step is one CUDA graph, as train's --cuda-graphs runs (a project's SlmGenTrainingGraphed); eager otherwise" };
        var command = new Command("costs", "The build-time cost table of every model: parameters, FLOPs per token, memory, budget status, per component.") { inputs, json, tokenizer, data, batch, profile, trainTokens, decodeContext, emaDecay, zLoss, graphed };
        command.SetAction(result =>
        {
            var text = result.GetValue(tokenizer) is { } t
                ? Compression(t, result.GetValue(data) ?? throw new CliException("--tokenizer needs --data (the corpus that measures its compression)."))
                : null;
            var recipe = StepRecipe.Of(result.GetValue(emaDecay), result.GetValue(zLoss));
            if (result.GetValue(profile) is null && (recipe != StepRecipe.None || result.GetValue(graphed)))
            {
                throw new CliException("--ema-decay, --z-loss and --graphed shape the time model's training step: they need --device-profile.");
            }

            if (result.GetValue(profile) is { } path)
            {
                Cli.EnsureReadable(path, "device profile");
                var device = SlmGen.Timing.ProfileFile.Read(path);
                if (result.GetValue(json))
                {
                    // One JSON document: the time predictions go into each model's entry ("time"), not after it as tables.
                    return Run(result.GetValue(inputs)!, true, text, result.GetValue(batch), path, device, result.GetValue(decodeContext), recipe, result.GetValue(graphed));
                }

                var code = Run(result.GetValue(inputs)!, false, text, result.GetValue(batch), path, graphed: result.GetValue(graphed));
                TimeReport.Print(result.GetValue(inputs)!, device, result.GetValue(batch) ?? 32, result.GetValue(trainTokens), result.GetValue(decodeContext), recipe);
                return code;
            }

            return Run(result.GetValue(inputs)!, result.GetValue(json), text, result.GetValue(batch));
        });
        return command;
    }

    /// <summary>The tokenizer's compression on the training split of a corpus (tokenized splits are cached).</summary>
    private static SlmGen.Data.Tokenizers.TokenizerStats Compression(string tokenizer, string corpus)
    {
        var dataset = Cli.Data(corpus, tokenizer);
        var train = File.Exists(corpus) ? SlmGen.Data.Corpora.TextFile(corpus).Train : SlmGen.Data.Corpora.Text(corpus).Train;
        return new SlmGen.Data.Tokenizers.TokenizerStats(tokenizer, corpus + " (training split)", train.Length, System.Text.Encoding.UTF8.GetByteCount(train), dataset.Train.Length);
    }

    /// <summary>The predicted peak bytes of an fp32 training step of <paramref name="batch"/> sequences of a model of the report.</summary>
    private static long PeakBytes(CostReportModel m, int batch) => TrainingMemory.PeakBytes(m.Parameters, m.ActivationBytesPerSequenceFp32, m.LogitsBytesPerSequenceFp32, batch, m.Context);

    private static int Run(string[] inputs, bool json, SlmGen.Data.Tokenizers.TokenizerStats? text, int? batch, string? deviceProfile = null, SlmGen.DeviceProfile? device = null, int? decodeContext = null, StepRecipe? recipe = null, bool graphed = false)
    {
        string report;
        IReadOnlyList<string> diagnostics = Array.Empty<string>();
        IReadOnlyList<ModelDescriptor> descriptors = Array.Empty<ModelDescriptor>();
        if (inputs.Length == 1 && (inputs[0].EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) || Directory.Exists(inputs[0])))
        {
            if (device is not null)
            {
                throw new CliException("--device-profile takes YAML specs (a project's models: use the specs it builds).");
            }

            report = ProjectReport(inputs[0]);
        }
        else
        {
            var compiled = SpecCompiler.Compile(inputs, deviceProfile: deviceProfile, trainingBatch: deviceProfile is null ? null : batch ?? 32, trainingGraphed: graphed);
            report = compiled.CostReportJson;
            diagnostics = compiled.Diagnostics;
            descriptors = compiled.Models;
        }

        if (json)
        {
            if (batch is not null || device is not null)
            {
                var node = System.Text.Json.Nodes.JsonNode.Parse(report)!;
                var models = CostReport.Parse(report).Models;
                for (var i = 0; i < models.Count; i++)
                {
                    if (batch is { } b)
                    {
                        node["models"]![i]!["trainingPeakBytes"] = new System.Text.Json.Nodes.JsonObject { ["batch"] = b, ["bytes"] = PeakBytes(models[i], b), ["what"] = "prediction: fp32 step, torch.optim.AdamW" };
                    }

                    if (device is not null && descriptors.FirstOrDefault(d => d.Name == models[i].Name) is { } descriptor)
                    {
                        node["models"]![i]!["time"] = TimeReport.Json(descriptor, device, batch ?? 32, decodeContext, recipe);
                    }
                }

                report = node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            }

            Console.WriteLine(report);
            return 0;
        }

        foreach (var d in diagnostics)
        {
            Console.Error.WriteLine(d);
        }

        var over = false;
        foreach (var model in CostReport.Parse(report).Models)
        {
            over |= Print(model);
            if (batch is { } b)
            {
                AnsiConsole.MarkupLine($"training step at batch {b:N0}: peak memory ≈ {Bytes(PeakBytes(model, b))} (a prediction for an fp32 step with AdamW: docs/costs.md, \"Memory\")");
                AnsiConsole.WriteLine();
            }

            if (text is not null)
            {
                PrintText(model, text);
            }
        }

        return over ? 1 : 0;
    }

    /// <summary>Prints one model's table; true when it is over a budget.</summary>
    private static bool Print(CostReportModel m)
    {
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var perToken = m.PredictsEveryPosition ? "token" : "prediction";
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(m.Name)}[/] — {Markup.Escape(m.Source)}").LeftJustified());
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("component").AddColumn("kind").AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn($"fwd FLOPs/{perToken}").RightAligned()).AddColumn(new TableColumn($"train FLOPs/{perToken}").RightAligned());
        foreach (var c in m.Components)
        {
            table.AddRow(Markup.Escape(c.Name), Markup.Escape(c.Kind), N(c.Parameters), N(c.ForwardFlopsPerToken), N(c.TrainingFlopsPerToken));
        }

        table.AddRow("[bold]total[/]", string.Empty, $"[bold]{N(m.Parameters)}[/]", $"[bold]{N(m.ForwardFlopsPerToken)}[/]", $"[bold]{N(m.TrainingFlopsPerToken)}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"vocabulary {N(m.Vocab)}, context {N(m.Context)}, width {N(m.Width)}; 6·N = {N(m.SixNFlopsPerToken)} FLOPs/token");
        AnsiConsole.MarkupLine(
            $"memory: weights {Bytes(m.WeightBytesFp32)} fp32, {Bytes(m.WeightBytesBf16)} bf16, {Bytes(m.WeightBytesDeclared)} as declared; " +
            $"AdamW state {Bytes(m.AdamWStateBytes)}; KV cache {Bytes(m.KvCacheBytesPerTokenBf16)}/token (bf16); " +
            $"activations {Bytes(m.ActivationBytesPerSequenceFp32)}/sequence (fp32), of which logits {Bytes(m.LogitsBytesPerSequenceFp32)} " +
            $"({Bytes(m.LogitsBytesPerSequenceBf16)} in bf16; the loss keeps {Bytes(m.LossBytesPerSequenceFp32)} more)");
        if (m.ArtifactBytes > 0)
        {
            AnsiConsole.MarkupLine($"artifact: {N(m.ArtifactBytes)} bytes uncompressed before the tokenizer (exact; slmgen train --artifact writes it); {Markup.Escape(m.ArtifactPlan ?? string.Empty)}");
        }

        var over = false;
        foreach (var b in m.Budget)
        {
            over |= b.Over;
            AnsiConsole.MarkupLine($"budget {Markup.Escape(b.Metric)}: {b.Value:N0} of {b.Limit:N0} ({b.Ratio:P1}) {(b.Over ? "[red]OVER[/]" : "[green]ok[/]")}");
        }

        if (m.Budget.Count == 0)
        {
            AnsiConsole.MarkupLine("budget: none declared");
        }

        AnsiConsole.WriteLine();
        return over;
    }

    /// <summary>The per-character and per-byte figures (<see cref="TextCost"/>) for a tokenizer's compression.</summary>
    private static void PrintText(CostReportModel m, SlmGen.Data.Tokenizers.TokenizerStats stats)
    {
        if (stats.Tokens > 0)
        {
            var fwd = m.ForwardFlopsPerToken / stats.CharactersPerToken;
            var train = m.TrainingFlopsPerToken / stats.CharactersPerToken;
            var reach = m.Context * stats.CharactersPerToken;
            AnsiConsole.MarkupLine($"per text ({Markup.Escape(stats.Tokenizer)} on {Markup.Escape(stats.Text)}: {stats.CharactersPerToken:0.000} characters, {stats.BytesPerToken:0.000} bytes per token): " +
                $"{fwd:N0} forward / {train:N0} training FLOPs per character, {m.TrainingFlopsPerToken / stats.BytesPerToken:N0} training FLOPs per byte; the context reaches {reach:N0} characters; " +
                $"KV cache {m.KvCacheBytesPerTokenBf16 / stats.CharactersPerToken:N1} B per character");
            AnsiConsole.WriteLine();
        }
    }

    private static string Bytes(long b) => b switch
    {
        >= 1L << 30 => $"{b / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{b / (double)(1L << 20):0.00} MiB",
        >= 1L << 10 => $"{b / 1024.0:0.0} KiB",
        _ => $"{b} B",
    };

    /// <summary>Builds the project (its build runs the generator and writes slmgen-costs.json) and reads the report.</summary>
    private static string ProjectReport(string project)
    {
        var psi = new ProcessStartInfo("dotnet", $"build \"{project}\" -c Release -nologo -v:q -p:TreatWarningsAsErrors=false") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi) ?? throw new CliException("could not start dotnet build.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new CliException($"dotnet build {project} failed:\n{stdout.Result}{stderr}".TrimEnd());
        }

        var folder = Directory.Exists(project) ? project : Path.GetDirectoryName(Path.GetFullPath(project))!;
        var report = Directory.EnumerateFiles(Path.Combine(folder, "bin"), "slmgen-costs.json", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            ?? throw new CliException($"{project} built, but wrote no slmgen-costs.json: does it reference SlmGen and declare models?");
        return File.ReadAllText(report);
    }
}
