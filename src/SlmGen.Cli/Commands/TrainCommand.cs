using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using SlmGen.Data;
using SlmGen.Training;
using TorchSharp;
using Spectre.Console;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace SlmGen.Cli.Commands;

/// <summary>A run configuration file: the train command's options as YAML keys (snake_case); flags given on the command line win.</summary>
public sealed class RunConfig
{
    public string? Data { get; set; }
    public string? Tokenizer { get; set; }
    public long? Steps { get; set; }
    public int? Batch { get; set; }
    public double? Lr { get; set; }
    public double? MinLr { get; set; }
    public int? Warmup { get; set; }
    public int? EvalEvery { get; set; }
    public int? EvalBatches { get; set; }
    public double? WeightDecay { get; set; }
    public double? Clip { get; set; }
    public long? Seed { get; set; }
    public string? Device { get; set; }
    public string? RunDir { get; set; }
    public bool? Fp32 { get; set; }
    public int? LossChunk { get; set; }
    public bool? Test { get; set; }
    public int? EvalTokens { get; set; }
    public bool? CudaGraphs { get; set; }
    public string? CheckpointEvery { get; set; }

    /// <summary>Reads a run configuration; an unknown key or a wrong type is an error at its line and column.</summary>
    public static RunConfig Load(string path)
    {
        var text = Cli.ReadText(path, "run configuration", SlmGen.Data.InputFile.SpecLimit);
        try
        {
            var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
            return deserializer.Deserialize<RunConfig>(text) ?? new RunConfig();
        }
        catch (YamlException e)
        {
            throw new CliException($"{path}({e.Start.Line},{e.Start.Column}): {(e.InnerException ?? e).Message}");
        }
    }
}

/// <summary><c>slmgen train</c>: trains the model of a spec with the generated code, on CPU or CUDA.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec" };
        var config = new Option<string?>("--config") { Description = "a YAML run configuration (keys: data, tokenizer, steps, batch, lr, min_lr, warmup, eval_every, eval_batches, weight_decay, clip, seed, device, run_dir, fp32, loss_chunk, test, eval_tokens, cuda_graphs, checkpoint_every); flags win" };
        var data = new Option<string?>("--data") { Description = "shakespeare-char, shakespeare-study, ptb, wikitext2, or a UTF-8 text file (characters, 90/10 split)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "chars, bytes, words, gpt2, cl100k or bpe:DIR (default: the corpus's own: characters or words); the spec's vocab must equal its vocabulary" };
        var steps = new Option<long?>("--steps") { Description = "optimizer steps (default 1000)" }.Check(v => v is null or >= 1, "must be at least 1");
        var batch = new Option<int?>("--batch") { Description = "windows per step (default 32)" }.Check(v => v is null or >= 1, "must be at least 1");
        var lr = new Option<double?>("--lr") { Description = "peak learning rate (default 1e-3)" }.Check(v => v is null || (double.IsFinite(v.Value) && v > 0), "must be a positive number");
        var minLr = new Option<double?>("--min-lr") { Description = "floor of the cosine decay (default lr/10)" }.Check(v => v is null || (double.IsFinite(v.Value) && v >= 0), "must be 0 or more");
        var warmup = new Option<int?>("--warmup") { Description = "warm-up steps (default 100, at most a tenth of the steps)" }.Check(v => v is null or >= 0, "must be 0 or more");
        var evalEvery = new Option<int?>("--eval-every") { Description = "evaluate every N steps (default 250)" }.Check(v => v is null or >= 1, "must be at least 1");
        var evalBatches = new Option<int?>("--eval-batches") { Description = "random validation batches per evaluation (default 20)" }.Check(v => v is null or >= 1, "must be at least 1");
        var weightDecay = new Option<double?>("--weight-decay") { Description = "AdamW weight decay on matrices (default 0.1)" }.Check(v => v is null || (double.IsFinite(v.Value) && v >= 0), "must be 0 or more");
        var clip = new Option<double?>("--clip") { Description = "gradient-norm clip, 0 = off (default 1)" }.Check(v => v is null || (double.IsFinite(v.Value) && v >= 0), "must be 0 or more");
        var seed = new Option<long?>("--seed") { Description = "seed of weights, dropout and batches (default 1337)" };
        var device = new Option<string?>("--device") { Description = "auto (CUDA when available), cpu or cuda (default auto)" };
        var runDir = new Option<string?>("--run-dir") { Description = "checkpoints (last.ckpt, best.ckpt), metrics.jsonl, TensorBoard events (default runs/<model>)" };
        var fp32 = new Option<bool>("--fp32") { Description = "fp32 on CUDA too (default: bf16 compute over fp32 master weights)" };
        var resume = new Option<bool>("--resume") { Description = "continue from <run-dir>/last.ckpt" };
        var otherData = new Option<bool>("--resume-other-data") { Description = "with --resume: continue on other data than the checkpoint's (recorded in the run log)" };
        var changedOptions = new Option<bool>("--resume-changed-options") { Description = "with --resume: continue with other options than the checkpoint's (recorded in the run log)" };
        var lossChunk = new Option<int?>("--loss-chunk") { Description = "compute the loss this many positions at a time, so the full logits never exist (0 = off)" }.Check(v => v is null or >= 0, "must be 0 or more");
        var resultFile = new Option<string?>("--result") { Description = "also write the result (validation NLL, steps, time, tokens/s, costs) to this JSON file" };
        var test = new Option<bool>("--test") { Description = "also evaluate the whole test split at the end (bits per token, character and byte; in the result)" };
        var cudaGraphs = new Option<bool>("--cuda-graphs") { Description = "capture the training step as one CUDA graph (needs CUDA and libslmgen_native, see docs/backends.md; otherwise eager, with the reason in the log)" };
        var checkpointEvery = new Option<string?>("--checkpoint-every") { Description = "also write last.ckpt when this much wall-clock time has passed since the last one: 90s, 10m, 2h, or off (default 10m)" }
            .Check(v => v is null || Durations.TryParse(v, out _), "must be a duration such as 90s, 10m or 2h, or off");
        var evalTokens = new Option<int?>("--eval-tokens") { Description = "score only the first N tokens of each split in the final evaluation (default: all)" }.Check(v => v is null or >= 2, "must be at least 2");
        var command = new Command("train", "Train the model of a spec (the generated TorchSharp module), with checkpoints, metrics and progress.")
        {
            spec, config, data, tokenizer, steps, batch, lr, minLr, warmup, evalEvery, evalBatches, weightDecay, clip, seed, device, runDir, fp32, resume, otherData, changedOptions, resultFile, lossChunk, test, evalTokens, cudaGraphs, checkpointEvery,
        };
        command.SetAction(r =>
        {
            var c = r.GetValue(config) is { } path ? RunConfig.Load(path) : new RunConfig();
            return Run(
                r.GetValue(spec)!,
                r.GetValue(data) ?? c.Data ?? throw new CliException("train needs --data (or data: in --config)."),
                r.GetValue(tokenizer) ?? c.Tokenizer,
                r.GetValue(steps) ?? c.Steps ?? 1000,
                r.GetValue(batch) ?? c.Batch ?? 32,
                r.GetValue(lr) ?? c.Lr ?? 1e-3,
                r.GetValue(minLr) ?? c.MinLr,
                r.GetValue(warmup) ?? c.Warmup,
                r.GetValue(evalEvery) ?? c.EvalEvery ?? 250,
                r.GetValue(evalBatches) ?? c.EvalBatches ?? 20,
                r.GetValue(weightDecay) ?? c.WeightDecay ?? 0.1,
                r.GetValue(clip) ?? c.Clip ?? 1.0,
                r.GetValue(seed) ?? c.Seed ?? 1337,
                r.GetValue(device) ?? c.Device ?? "auto",
                r.GetValue(runDir) ?? c.RunDir,
                r.GetValue(fp32) || (c.Fp32 ?? false),
                r.GetValue(resume),
                (r.GetValue(otherData) ? ResumeOverrides.OtherData : 0) | (r.GetValue(changedOptions) ? ResumeOverrides.ChangedOptions : 0),
                r.GetValue(resultFile),
                r.GetValue(lossChunk) ?? c.LossChunk ?? 0,
                r.GetValue(test) || (c.Test ?? false),
                r.GetValue(evalTokens) ?? c.EvalTokens,
                r.GetValue(cudaGraphs) || (c.CudaGraphs ?? false),
                Durations.Parse(r.GetValue(checkpointEvery) ?? c.CheckpointEvery ?? "10m", "checkpoint_every"));
        });
        return command;
    }

    private static int Run(string spec, string dataName, string? tokenizerName, long steps, int batch, double lr, double? minLr, int? warmup, int evalEvery, int evalBatches,
        double weightDecay, double clip, long seed, string deviceName, string? runDir, bool fp32, bool resume, ResumeOverrides overrides, string? resultFile, int lossChunk, bool test, int? evalTokens, bool cudaGraphs, TimeSpan? checkpointEvery)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
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

        foreach (var (split, tokens) in new[] { ("validation", data.Validation), ("test", test ? data.Test : null) })
        {
            if (tokens is not null && tokens.Length < window)
            {
                throw new CliException($"{dataName}: the {split} split has {tokens.Length:N0} tokens, fewer than one window of {descriptor.Name} ({window:N0}); use more text or a model with a shorter context.");
            }
        }

        model.to(device);
        var options = new TrainingOptions
        {
            Objective = model.PredictsEveryPosition ? Objective.EveryPosition : Objective.LastPosition,
            BatchSize = batch,
            Steps = steps,
            LearningRate = lr,
            MinLearningRate = minLr ?? lr / 10,
            WarmupSteps = warmup ?? (int)Math.Min(100, (steps / 10) + 1),
            Optimizer = new AdamWSettings(Beta1: 0.9, Beta2: 0.99, WeightDecay: weightDecay, GradientClip: clip),
            EvalEvery = evalEvery,
            Validation = EvalProtocol.RandomBatches(evalBatches),
            Seed = seed,
            Bf16 = !fp32,
            RunDirectory = runDir,
            Progress = false,
            LossChunk = lossChunk,
            CudaGraphs = cudaGraphs || Environment.GetEnvironmentVariable("SLMGEN_CUDA_GRAPHS") == "1",
            CheckpointInterval = checkpointEvery,
        };
        var cost = model.Cost;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(descriptor.Name)}[/]: {cost.Parameters:N0} parameters, {cost.TrainingFlopsPerToken:N0} training FLOPs per {(model.PredictsEveryPosition ? "token" : "prediction")} (build-time constants); data {Markup.Escape(data.Name)}, vocabulary {data.VocabSize:N0}; device {Markup.Escape(Devices.Describe(device))}");
        using var trainer = new Trainer(model, data, options, device, Console.Out);
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
        using var stop = StopSignals.Listen(Console.Out);
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
        var validation = Evaluator.EvaluateText(model, Scored(data.Validation), data.Tokenizer, 32, device);
        AnsiConsole.MarkupLine($"validation NLL [bold]{validation.Nll:0.0000}[/] nats/token ({validation.BitsPerToken:0.000} bits/token, [bold]{validation.BitsPerCharacter:0.0000} bits/character[/], {validation.BitsPerByte:0.0000} bits/byte, perplexity {validation.Perplexity:0.00}) over {validation.Tokens:N0} tokens, {validation.Characters:N0} characters");
        if (stop.Stopped)
        {
            Console.Error.WriteLine($"interrupted by {StopSignals.Name(stop.Signal!.Value)} after the last step, during the final evaluation: {last} holds the finished run; the same command with --resume evaluates it.");
            return StopSignals.InterruptedExitCode;
        }

        var testResult = test ? Evaluator.EvaluateText(model, Scored(data.Test), data.Tokenizer, 32, device) : null;
        if (testResult is { } t)
        {
            AnsiConsole.MarkupLine($"test NLL [bold]{t.Nll:0.0000}[/] nats/token ([bold]{t.BitsPerCharacter:0.0000} bits/character[/], {t.BitsPerByte:0.0000} bits/byte) over {t.Tokens:N0} tokens, {t.Characters:N0} characters");
        }

        AnsiConsole.MarkupLine($"{result.Steps:N0} steps in {result.Seconds:0.0} s, {result.TokensPerSecond:N0} tokens/s; training FLOPs {result.ExactTrainingFlops:0.000e0} exact, {result.SixNFlops:0.000e0} by 6·N");
        if (resultFile is not null)
        {
            var record = new
            {
                model = descriptor.Name, spec, data = data.Name, steps = result.Steps, batch, context = model.Context, lr, seed, device = Devices.Describe(device),
                validation_nll = validation.Nll, validation_bits_per_token = validation.BitsPerToken, validation_tokens = validation.Tokens,
                validation_bits_per_character = validation.BitsPerCharacter, validation_bits_per_byte = validation.BitsPerByte, validation_characters = validation.Characters, tokenizer = tokenizerName ?? "corpus",
                test_nll = testResult?.Nll, test_bits_per_character = testResult?.BitsPerCharacter, test_bits_per_byte = testResult?.BitsPerByte, test_tokens = testResult?.Tokens, test_characters = testResult?.Characters,
                final_train_loss = result.Curve.Count > 0 ? result.Curve[^1].TrainLoss : (double?)null,
                seconds = result.Seconds, wall_seconds = wall.Elapsed.TotalSeconds, tokens_per_second = result.TokensPerSecond, parameters = cost.Parameters,
                training_flops_per_token = cost.TrainingFlopsPerToken, exact_training_flops = result.ExactTrainingFlops, six_n_flops = result.SixNFlops,
                bf16 = !fp32, cuda_graphs = options.CudaGraphs, commit = Cli.Commit(), command = "slmgen " + string.Join(' ', Environment.GetCommandLineArgs()[1..]),
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
                    Console.WriteLine($"step {p.Step:N0}/{p.Steps:N0} loss {p.Loss:0.0000}{(p.Validation is { } v ? $" val {v:0.0000}" : string.Empty)}{(double.IsNaN(p.TokensPerSecond) ? string.Empty : $" | {p.TokensPerSecond:N0} tok/s")} | {p.Elapsed:hh\\:mm\\:ss} elapsed");
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
