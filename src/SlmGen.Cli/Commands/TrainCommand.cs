using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using SlmGen.Data;
using SlmGen.Training;
using TorchSharp;
using Spectre.Console;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using SlmGen.IO;

namespace SlmGen.Cli.Commands;

/// <summary>A run configuration file: training settings (<see cref="TrainSettings"/>) as YAML keys; flags given on the command line win.</summary>
public static class RunConfig
{
    /// <summary>Reads a run configuration; an unknown key or a value against its setting's rule is an error at its line and column.</summary>
    public static IReadOnlyDictionary<string, string> Load(string path)
    {
        var text = Cli.ReadText(path, "run configuration", SlmGen.IO.InputFile.SpecLimit);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new CliException($"{path}({e.Start.Line},{e.Start.Column}): {(e.InnerException ?? e).Message}");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return values;
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode map)
        {
            throw new CliException($"{path}: a run configuration is one YAML mapping of training settings ({TrainSettings.Keys()}).");
        }

        foreach (var (k, v) in map.Children)
        {
            var at = $"{path}({k.Start.Line},{k.Start.Column})";
            var key = (k as YamlScalarNode)?.Value ?? string.Empty;
            var setting = TrainSettings.Find(key) ?? throw new CliException($"{at}: unknown key '{key}'{SlmGen.Generator.Parsing.Suggestions.DidYouMean(key, TrainSettings.All.Select(s => s.Key))}; a run configuration takes {TrainSettings.Keys()}.");
            if (v is not YamlScalarNode { Value: { } value } || setting.Problem(value) is not null)
            {
                throw new CliException($"{path}({v.Start.Line},{v.Start.Column}): '{key}' must be {setting.Rule} (got {(v as YamlScalarNode)?.Value ?? "a " + v.NodeType.ToString().ToLowerInvariant()}).");
            }

            if (!values.TryAdd(key, value))
            {
                throw new CliException($"{at}: '{key}' is given twice.");
            }
        }

        return values;
    }
}

/// <summary><c>slmgen train</c>: trains the model of a spec with the generated code, on CPU or CUDA.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec" };
        var config = new Option<string?>("--config") { Description = $"a YAML run configuration with these keys: {TrainSettings.Keys()}; flags win" };
        var resume = new Option<bool>("--resume") { Description = "continue from <run-dir>/last.ckpt" };
        var otherData = new Option<bool>("--resume-other-data") { Description = "with --resume: continue on other data than the checkpoint's (recorded in the run log)" };
        var changedOptions = new Option<bool>("--resume-changed-options") { Description = "with --resume: continue with other options than the checkpoint's (recorded in the run log)" };
        var resultFile = new Option<string?>("--result") { Description = "also write the result (validation NLL, steps, time, tokens/s, costs) to this JSON file" };
        var settings = TrainSettings.All.ToDictionary(s => s.Key, s => s.CreateOption(), StringComparer.Ordinal);
        var command = new Command("train", "Train the model of a spec (the generated TorchSharp module), with checkpoints, metrics and progress.") { spec, config };
        foreach (var option in settings.Values)
        {
            command.Options.Add(option);
        }

        foreach (var option in new Option[] { resume, otherData, changedOptions, resultFile })
        {
            command.Options.Add(option);
        }

        command.SetAction(r =>
        {
            var fromConfig = r.GetValue(config) is { } path ? RunConfig.Load(path) : new Dictionary<string, string>();

            // A flag given wins, then the run configuration, then the setting's default.
            string? Value(string key) => settings[key] switch
            {
                Option<bool> flag when r.GetValue(flag) => "true",
                Option<string?> option when r.GetValue(option) is { } given => given,
                _ => fromConfig.GetValueOrDefault(key) ?? TrainSettings.Find(key)!.Default,
            };

            return Run(
                r.GetValue(spec)!,
                Value,
                r.GetValue(resume),
                (r.GetValue(otherData) ? ResumeOverrides.OtherData : 0) | (r.GetValue(changedOptions) ? ResumeOverrides.ChangedOptions : 0),
                r.GetValue(resultFile));
        });
        return command;
    }

    private static int Run(string spec, Func<string, string?> value, bool resume, ResumeOverrides overrides, string? resultFile)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        long Whole(string key) => long.Parse(value(key)!, CultureInfo.InvariantCulture);
        long? OptionalWhole(string key) => value(key) is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : null;
        double Number(string key) => double.Parse(value(key)!, CultureInfo.InvariantCulture);
        var dataName = value("data") ?? throw new CliException("train needs --data (or data: in --config).");
        var tokenizerName = value("tokenizer");
        var steps = Whole("steps");
        var batch = (int)Whole("batch");
        var lr = Number("lr");
        double? minLr = value("min_lr") is { } m ? double.Parse(m, CultureInfo.InvariantCulture) : null;
        var warmup = (int?)OptionalWhole("warmup");
        var evalEvery = (int)Whole("eval_every");
        var evalBatches = (int)Whole("eval_batches");
        var seed = Whole("seed");
        var deviceName = value("device")!;
        var runDir = value("run_dir");
        var fp32 = value("fp32") == "true";
        var lossChunk = (int)Whole("loss_chunk");
        var test = value("test") == "true";
        var evalTokens = (int?)OptionalWhole("eval_tokens");
        var evalStride = (int)Whole("eval_stride");
        var cudaGraphs = value("cuda_graphs") == "true";
        var checkpointEvery = Durations.Parse(value("checkpoint_every")!, "checkpoint_every");
        var qatStart = Number("qat_start");
        var writeArtifact = value("artifact") == "true";
        var calibrationWindows = (int)Whole("calibration_windows");
        var optimizer = new AdamWSettings(Beta1: Number("beta1"), Beta2: Number("beta2"), WeightDecay: Number("weight_decay"), GradientClip: Number("clip"));
        double? OptionalNumber(string key) => value(key) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : null;
        var schedule = value("schedule") switch { "warmdown" => Schedule.Warmdown, "constant" => Schedule.Constant, _ => Schedule.WarmupCosine };
        var optimizerKind = value("optimizer") == "muon" ? OptimizerKind.Muon : OptimizerKind.AdamW;
        var muon = new MuonSettings(LearningRate: Number("muon_lr"), Momentum: Number("muon_momentum"), NewtonSchulzSteps: (int)Whole("muon_steps"), WeightDecay: Number("muon_weight_decay"));
        Cli.EnsureReadable(spec, "spec");
        Cli.EnsureDataExists(dataName);
        var descriptor = SpecCompiler.Compile(new[] { spec }).Single(spec);
        var device = Devices.Resolve(deviceName);
        runDir ??= Path.Combine("runs", descriptor.Name);
        Devices.Seed(seed);
        using var model = descriptor.Create();
        tokenizerName = Cli.Tokenizer(tokenizerName, model, spec);
        var data = Cli.Data(dataName, tokenizerName);

        // What the end of the run needs is checked before it trains: a window of context + 1 tokens to score.
        var window = model.Context + 1;
        if (evalTokens is { } scored && scored < window)
        {
            throw new CliException($"--eval-tokens {scored:N0} is shorter than one window of {descriptor.Name} ({model.Context:N0} tokens of context + the next one = {window:N0}); give at least {window:N0}, or leave it out to score whole splits.");
        }

        if (evalStride > model.Context)
        {
            throw new CliException($"--eval-stride {evalStride:N0} is longer than {descriptor.Name}'s context ({model.Context:N0}); give 1 … {model.Context:N0}, or 0 for non-overlapping windows.");
        }

        foreach (var (split, tokens) in new[] { ("validation", data.Validation), ("test", test ? data.Test : null) })
        {
            if (tokens is not null && tokens.Length < window)
            {
                throw new CliException($"{dataName}: the {split} split has {tokens.Length:N0} tokens, fewer than one window of {descriptor.Name} ({window:N0}); use more text or a model with a shorter context.");
            }
        }

        if (qatStart > 0 && !model.HasFakeQuant)
        {
            throw new CliException($"--qat-start {qatStart.ToString(CultureInfo.InvariantCulture)}: {descriptor.Name} trains no part quantisation-aware (its precision plan: {model.ArtifactPlan.Describe()}); declare bits with method qat in the spec's quantization, or leave --qat-start out.");
        }

        model.to(device);
        var options = new TrainingOptions
        {
            QatStart = qatStart,
            Objective = model.PredictsEveryPosition ? Objective.EveryPosition : Objective.LastPosition,
            BatchSize = batch,
            Steps = steps,
            LearningRate = lr,
            MinLearningRate = minLr ?? lr / 10,
            WarmupSteps = warmup ?? (int)Math.Min(100, (steps / 10) + 1),
            Optimizer = optimizer,
            OptimizerKind = optimizerKind,
            Muon = muon,
            Schedule = schedule,
            WarmdownFraction = Number("warmdown_fraction"),
            EmbeddingLearningRate = OptionalNumber("embedding_lr"),
            HeadLearningRate = OptionalNumber("head_lr"),
            GainLearningRate = OptionalNumber("gain_lr"),
            AdapterLearningRate = OptionalNumber("lora_lr"),
            EmaDecay = Number("ema_decay"),
            ZLoss = Number("z_loss"),
            EvalEvery = evalEvery,
            Validation = EvalProtocol.RandomBatches(evalBatches),
            Seed = seed,
            Bf16 = !fp32,
            RunDirectory = runDir,
            Progress = false,
            LossChunk = lossChunk,
            CudaGraphs = cudaGraphs || Environment.GetEnvironmentVariable("SLMGEN_CUDA_GRAPHS") == "1",
            CheckpointInterval = checkpointEvery,
            TimeLimit = Durations.Parse(value("time_limit")!, "time_limit"),
        };
        var cost = model.Cost;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(descriptor.Name)}[/]: {cost.Parameters:N0} parameters, {cost.TrainingFlopsPerToken:N0} training FLOPs per {(model.PredictsEveryPosition ? "token" : "prediction")} (build-time constants); data {Markup.Escape(data.Name)}, vocabulary {data.VocabSize:N0}; device {Markup.Escape(Devices.Describe(device))}");
        if (options.AdapterLearningRate is not null && !SlmGen.Layers.ParameterRoles.Of(model).Any(p => p.Role == SlmGen.Layers.ParameterRole.Adapter))
        {
            // Said, not refused: a sweep may give one lora_lr to designs with and without adapters.
            AnsiConsole.MarkupLine($"[yellow]lora_lr {options.AdapterLearningRate.Value:g4} has no effect: {Markup.Escape(descriptor.Name)} has no LoRA adapters (a shared block's lora_rank).[/]");
        }

        using var trainer = new Trainer(model, data, options, device, Console.Out);
        if (trainer.Optimizer.MuonFlopsPerStep > 0)
        {
            var stepFlops = (double)cost.TrainingFlopsPerWindow(!model.PredictsEveryPosition) * batch;
            AnsiConsole.MarkupLine($"optimizer: Muon on the {Markup.Escape(trainer.Optimizer.Groups[0].Name)}, AdamW on the rest; Newton–Schulz {trainer.Optimizer.MuonFlopsPerStep:N0} FLOPs a step ({100 * trainer.Optimizer.MuonFlopsPerStep / stepFlops:0.#}% of the step's {stepFlops:N0} model FLOPs)");
        }

        var last = trainer.LastCheckpointPath!;
        if (resume)
        {
            if (!File.Exists(last))
            {
                throw new CliException($"--resume: {last} does not exist.");
            }

            trainer.Resume(last, overrides);
            AnsiConsole.MarkupLine($"resumed from {Markup.Escape(last)} at step {trainer.Step:N0}");
        }

        // From here on a stop (SIGTERM, SIGINT, SIGHUP) finishes the step, saves last.ckpt and exits with 75.
        using var stop = StopSignals.Listen(Console.Out).HoldUntilExit(); // the process ends with the run: a late second signal must not kill it
        var result = Train(trainer, stop.Token);
        if (stop.Stopped)
        {
            Console.Out.Flush();
            Console.Error.WriteLine(result.Checkpoint is { } saved
                ? $"interrupted by {StopSignals.Name(stop.Signal!.Value)} at step {trainer.Step:N0} of {steps:N0}: {saved} holds it; continue with the same command and --resume."
                : $"interrupted by {StopSignals.Name(stop.Signal!.Value)} at step {trainer.Step:N0} of {steps:N0}; nothing was saved.");
            return StopSignals.InterruptedExitCode;
        }

        int[] Scored(int[] split) => evalTokens is { } n && n < split.Length ? split[..n] : split;
        var protocol = evalStride > 0 ? EvalProtocol.Sliding(evalStride) : EvalProtocol.Sequential();
        var validation = Evaluator.EvaluateText(model, Scored(data.Validation), data.Tokenizer, 32, device, protocol);
        AnsiConsole.MarkupLine($"validation NLL [bold]{validation.Nll:0.0000}[/] nats/token ({validation.BitsPerToken:0.000} bits/token, [bold]{validation.BitsPerCharacter:0.0000} bits/character[/], {validation.BitsPerByte:0.0000} bits/byte, perplexity {validation.Perplexity:0.00}) over {validation.Tokens:N0} tokens, {validation.Characters:N0} characters; {Markup.Escape(validation.Protocol ?? protocol.ToString())}");
        if (stop.Stopped)
        {
            Console.Error.WriteLine($"interrupted by {StopSignals.Name(stop.Signal!.Value)} after the last step, during the final evaluation: {last} holds the finished run; the same command with --resume evaluates it.");
            return StopSignals.InterruptedExitCode;
        }

        var testResult = test ? Evaluator.EvaluateText(model, Scored(data.Test), data.Tokenizer, 32, device, protocol) : null;
        if (testResult is { } t)
        {
            AnsiConsole.MarkupLine($"test NLL [bold]{t.Nll:0.0000}[/] nats/token ([bold]{t.BitsPerCharacter:0.0000} bits/character[/], {t.BitsPerByte:0.0000} bits/byte) over {t.Tokens:N0} tokens, {t.Characters:N0} characters");
        }

        AnsiConsole.MarkupLine($"{result.Steps:N0} steps in {result.Seconds:0.0} s{(result.FirstStep > 0 ? $" (resumed at step {result.FirstStep:N0}; the run has taken {result.LastStep:N0})" : string.Empty)}, {result.TokensPerSecond:N0} tokens/s; training FLOPs {result.RunExactTrainingFlops:0.000e0} exact, {result.RunSixNFlops:0.000e0} by 6·N");

        // The scores above are of the best-validation weights (restored at the end); the final weights are scored too,
        // so that a reader sees both (the same numbers when the best evaluation was the last step's).
        var bestStep = result.Best?.Step;
        var finalValidation = validation;
        var finalTest = testResult;
        if (bestStep is { } b && b != result.LastStep && File.Exists(last))
        {
            using var final = descriptor.Create();
            Checkpoint.LoadWeights(final, last, CheckpointWeights.Latest);
            final.to(device);
            finalValidation = Evaluator.EvaluateText(final, Scored(data.Validation), data.Tokenizer, 32, device, protocol);
            finalTest = test ? Evaluator.EvaluateText(final, Scored(data.Test), data.Tokenizer, 32, device, protocol) : null;
            AnsiConsole.MarkupLine($"the scores above are of the best validation's weights (step {b:N0}); the final weights (step {result.LastStep:N0}): validation {finalValidation.BitsPerByte:0.0000} bits/byte{(finalTest is { } ft ? $", test {ft.BitsPerByte:0.0000} bits/byte" : string.Empty)}");
        }

        // What ships: the artifact at the spec's precision plan, read back into a fresh instance and scored beside the model.
        SlmGen.Artifacts.ArtifactWritten? artifact = null;
        var roundTrip = new List<RoundTripScore>();
        if (writeArtifact)
        {
            var artifactOptions = ArtifactRoundTrip.Options(model, data, calibrationWindows, device);
            artifact = SlmGen.Artifacts.ArtifactFile.Write(model, Path.Combine(runDir, "model.slmq"), artifactOptions);
            using var restored = descriptor.Create();
            SlmGen.Artifacts.ArtifactFile.Load(restored, artifact.Path);
            restored.to(device);
            roundTrip.Add(new RoundTripScore("validation", validation, Evaluator.EvaluateText(restored, Scored(data.Validation), data.Tokenizer, 32, device, protocol)));
            if (testResult is { } before)
            {
                roundTrip.Add(new RoundTripScore("test", before, Evaluator.EvaluateText(restored, Scored(data.Test), data.Tokenizer, 32, device, protocol)));
            }

            ArtifactRoundTrip.Print(model, artifact, roundTrip);
        }

        if (resultFile is not null)
        {
            var record = new
            {
                // The run's totals, a resumed run's earlier calls included (steps, epochs, FLOPs); this call's own steps and
                // rate beside them.
                model = descriptor.Name, spec, data = data.Name, steps = result.LastStep, steps_this_call = result.Steps, resumed_from_step = result.FirstStep, batch, context = model.Context, lr, seed, device = Devices.Describe(device),
                // Epochs over the training split: the input tokens the run read over the split's tokens (its tokenizer's).
                train_tokens = data.Train.LongLength, epochs = data.Train.Length > 0 ? (double)result.RunInputTokens / data.Train.Length : (double?)null,
                eval_protocol = validation.Protocol, validation_nll = validation.Nll, validation_bits_per_token = validation.BitsPerToken, validation_tokens = validation.Tokens,
                validation_bits_per_character = validation.BitsPerCharacter, validation_bits_per_byte = validation.BitsPerByte, validation_characters = validation.Characters, tokenizer = tokenizerName ?? "corpus",
                test_nll = testResult?.Nll, test_bits_per_character = testResult?.BitsPerCharacter, test_bits_per_byte = testResult?.BitsPerByte, test_tokens = testResult?.Tokens, test_characters = testResult?.Characters,
                final_train_loss = result.Curve.Count > 0 ? result.Curve[^1].TrainLoss : (double?)null,
                best_step = bestStep, final_validation_nll = finalValidation.Nll, final_validation_bits_per_byte = finalValidation.BitsPerByte, final_validation_bits_per_character = finalValidation.BitsPerCharacter,
                final_test_nll = finalTest?.Nll, final_test_bits_per_byte = finalTest?.BitsPerByte, final_test_bits_per_character = finalTest?.BitsPerCharacter,
                seconds = result.Seconds, training_seconds = result.TrainingSeconds, eval_seconds = result.EvalSeconds, wall_seconds = wall.Elapsed.TotalSeconds, tokens_per_second = result.TokensPerSecond, parameters = cost.Parameters,
                training_flops_per_token = cost.TrainingFlopsPerToken, exact_training_flops = result.RunExactTrainingFlops, six_n_flops = result.RunSixNFlops,
                bf16 = !fp32, cuda_graphs = options.CudaGraphs, cuda_graph_steps = result.GraphedSteps, fused_kernels = result.FusedKernels, qat_start = qatStart,
                artifact_plan = model.ArtifactPlan.Describe(), artifact_bytes_stated = cost.ArtifactBytes, artifact_bytes = artifact?.Bytes, artifact_bytes_predicted = artifact?.PredictedBytes,
                artifact_file_bytes = artifact?.FileBytes, artifact_compression = artifact is null ? null : SlmGen.ArtifactPlan.Name(artifact.Compression),
                validation_bits_per_character_artifact = roundTrip.FirstOrDefault(x => x.Split == "validation")?.After.BitsPerCharacter,
                validation_bits_per_byte_artifact = roundTrip.FirstOrDefault(x => x.Split == "validation")?.After.BitsPerByte,
                test_bits_per_character_artifact = roundTrip.FirstOrDefault(x => x.Split == "test")?.After.BitsPerCharacter,
                test_bits_per_byte_artifact = roundTrip.FirstOrDefault(x => x.Split == "test")?.After.BitsPerByte,
                commit = Cli.Commit(), command = "slmgen " + string.Join(' ', Environment.GetCommandLineArgs()[1..]),
            };
            AtomicFile.Write(resultFile, s => System.Text.Json.JsonSerializer.Serialize(s, record));
        }

        // Only checkpoints that exist are announced (best.ckpt needs an evaluation).
        var written = new[] { result.Checkpoint, result.BestCheckpoint }.Where(p => p is not null && File.Exists(p)).ToList();
        var sampleFrom = result.BestCheckpoint ?? result.Checkpoint;
        AnsiConsole.MarkupLine(written.Count == 0
            ? "no checkpoint was written"
            : $"checkpoints: {Markup.Escape(string.Join(", ", written))}; sample with: slmgen sample {Markup.Escape(spec)} --checkpoint {Markup.Escape(sampleFrom!)} --data {Markup.Escape(dataName)}");
        return 0;
    }

    /// <summary>Trains with a live Spectre.Console progress bar in a terminal, plain lines otherwise.</summary>
    private static TrainingResult Train(Trainer trainer, CancellationToken cancel)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            var lastPrint = DateTime.MinValue;
            trainer.Progressed += p =>
            {
                if ((DateTime.UtcNow - lastPrint).TotalSeconds >= 5 || p.Step == p.Steps)
                {
                    lastPrint = DateTime.UtcNow;
                    Console.WriteLine($"step {p.Step:N0}/{p.Steps:N0} loss {(double.IsNaN(p.Loss) ? "– (not logged yet)" : p.Loss.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))}{(p.Validation is { } v ? $" val {v:0.0000}" : string.Empty)}{(double.IsNaN(p.TokensPerSecond) ? string.Empty : $" | {p.TokensPerSecond:N0} tok/s")} | {p.Elapsed:hh\\:mm\\:ss} elapsed");
                }
            };
            return trainer.Train(cancellation: cancel);
        }

        TrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: 1);
                double rate = 0;
                trainer.Progressed += p =>
                {
                    task.MaxValue = p.Steps;
                    task.Value = p.Step;
                    rate = double.IsNaN(p.TokensPerSecond) ? rate : p.TokensPerSecond;
                    task.Description = $"step {p.Step:N0} loss {p.Loss:0.000}{(p.Validation is { } v ? $" val {v:0.000}" : string.Empty)} {rate:N0} tok/s";
                };
                result = trainer.Train(cancellation: cancel);
            });
        return result!;
    }
}
