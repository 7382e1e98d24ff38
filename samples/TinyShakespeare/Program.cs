using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using SlmGen;
using SlmGen.Data;
using SlmGen.Generation;
using SlmGen.Samples;
using SlmGen.Samples.TinyShakespeare;
using SlmGen.Training;
using TorchSharp;

var cli = new CommandLine(args);
var deviceName = cli.String("device", "auto", "auto (CUDA when available), cpu or cuda");
var steps = cli.Long("steps", 2000, "optimizer steps");
var batch = cli.Int("batch", 32, "windows per step");
var lr = cli.Double("lr", 3e-3, "peak learning rate (warm-up, then cosine to lr/10)");
var evalEvery = cli.Int("eval-every", 250, "evaluate every N steps");
var seed = cli.Long("seed", 1337, "seed for weights, dropout and batches");
var threads = cli.Int("threads", 0, "CPU threads for torch (0 = all cores)");
var runDir = cli.String("run-dir", Path.Combine("runs", "tinyshakespeare"), "where checkpoints and metrics go");
var resume = cli.Flag("resume", "continue from <run-dir>/last.ckpt");
var resumeOtherData = cli.Flag("resume-other-data", "with --resume: continue although the checkpoint was trained on other data (recorded in the run log)");
var resumeChangedOptions = cli.Flag("resume-changed-options", "with --resume: continue although the training options changed (recorded in the run log)");
var fp32 = cli.Flag("fp32", "train in fp32 on CUDA too (default: bf16 compute over fp32 master weights)");
var sampleTokens = cli.Int("sample", 500, "characters to sample at the end");
var minutes = cli.Double("max-minutes", 0, "stop training after this many minutes (0 = no limit)");
if (cli.WantsHelp)
{
    Console.WriteLine("TinyShakespeare: train the ShakespeareGpt sample model.\n" + cli.Usage);
    return 0;
}

cli.EnsureAllKnown();
if (threads > 0)
{
    torch.set_num_threads(threads);
}

if (sampleTokens < 0 || minutes < 0 || !double.IsFinite(minutes))
{
    throw new ArgumentException($"--sample and --max-minutes must be 0 or more (got {sampleTokens} and {minutes}).");
}

var device = Devices.Resolve(deviceName);
Console.WriteLine($"SlmGen TinyShakespeare | device {Devices.Describe(device)} | {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"Build-time costs: {ShakespeareGpt.ParameterCount:N0} parameters, {ShakespeareGpt.ForwardFlopsPerToken:N0} forward / {ShakespeareGpt.TrainingFlopsPerToken:N0} training FLOPs per token, context {ShakespeareGpt.ContextLength}.");

var data = Corpora.TinyShakespeare(CharSplit.NanoGpt);
Console.WriteLine($"Data: {data.Name}, vocabulary {data.VocabSize}, {data.Train.Length:N0} train / {data.Validation.Length:N0} validation characters.");

Devices.Seed(seed);
using var model = new ShakespeareGpt();
CostCheck.Verify(model.to(device), Console.Out);

var options = new TrainingOptions
{
    Objective = Objective.EveryPosition,
    BatchSize = batch,
    Steps = steps,
    LearningRate = lr,
    MinLearningRate = lr / 10,
    WarmupSteps = (int)Math.Min(100, steps / 10 + 1),
    Optimizer = new AdamWSettings(Beta1: 0.9, Beta2: 0.99, WeightDecay: 0.1, GradientClip: 1.0),
    EvalEvery = evalEvery,
    Validation = EvalProtocol.RandomBatches(20),
    Test = EvalProtocol.Sequential(),
    Seed = seed,
    Bf16 = !fp32,
    RunDirectory = runDir,
};

using var trainer = new Trainer(model, data, options, device, Console.Out);
if (resume && trainer.LastCheckpointPath is { } last && File.Exists(last))
{
    trainer.Resume(last, (resumeOtherData ? ResumeOverrides.OtherData : 0) | (resumeChangedOptions ? ResumeOverrides.ChangedOptions : 0));
    Console.WriteLine($"Resumed from {last} at step {trainer.Step:N0}.");
}

// SIGTERM, SIGINT (Ctrl+C) and SIGHUP finish the step, write last.ckpt and exit with status 75 (resumable with --resume).
using var stop = StopSignals.Listen(Console.Out).HoldUntilExit(); // the process ends with the run: a late second signal must not kill it
using var limit = minutes > 0 ? new CancellationTokenSource(TimeSpan.FromMinutes(minutes)) : new CancellationTokenSource();
using var cts = stop.LinkedWith(limit.Token);

Console.WriteLine($"Training {options.Steps:N0} steps of {batch} × {model.Context} characters ({trainer.ComputeType}), validation every {evalEvery} steps on {options.Validation}.");
var result = trainer.Train(cancellation: cts.Token);
if (stop.Stopped)
{
    Console.WriteLine($"Interrupted at step {trainer.Step:N0}: {result.Checkpoint ?? "nothing"} saved; run again with --resume to continue.");
    return StopSignals.InterruptedExitCode;
}

var validation = trainer.Evaluate(Split.Validation, EvalProtocol.Sequential());

Console.WriteLine();
Console.WriteLine($"Validation NLL {validation.Nll:0.0000} nats/char ({validation.BitsPerToken:0.000} bits/char, perplexity {validation.Perplexity:0.00}) over all {validation.Tokens:N0} validation characters; {(result.Best is { } best ? $"best during training {best.Nll:0.0000} at step {best.Step:N0}" : "no evaluation during training")}.");
Console.WriteLine($"Trained {result.Steps:N0} steps in {result.Seconds:0.0} s ({result.EvalSeconds:0.0} s evaluating): {result.TokensPerSecond:N0} tokens/s.");
Console.WriteLine($"Training FLOPs: {result.ExactTrainingFlops:0.000e0} exact (SlmGen), {result.SixNFlops:0.000e0} by 6·N, {result.TwoNFlops:0.000e0} by the study's 2·N; achieved {result.FlopsPerSecond / 1e9:0.00} GFLOP/s.");

var sample = TextGenerator.Generate(model, data.Tokenizer.Encode("\n"), sampleTokens, temperature: 0.8, topK: 20, seed: seed, device: device);
Console.WriteLine("--- sample (temperature 0.8, top-k 20) ---");
Console.WriteLine(data.Tokenizer.Decode(sample));
Console.WriteLine("---");
File.WriteAllText(Path.Combine(runDir, "summary.txt"),
    $"device={Devices.Describe(device)} steps={result.Steps} batch={batch} seconds={result.Seconds:0.0} tokens_per_second={result.TokensPerSecond:0} " +
    $"validation_nll={validation.Nll:0.0000} exact_flops={result.ExactTrainingFlops:0.000e0} six_n={result.SixNFlops:0.000e0} two_n={result.TwoNFlops:0.000e0}\n");
return 0;
