using System;
using System.Globalization;
using System.IO;
using System.Linq;
using SlmGen.Data;
using SlmGen.Training;
using TorchSharp;

namespace SlmGen.Samples.Study;

/// <summary>
/// nanoGPT's baby GPT with nanoGPT's recipe (config/train_shakespeare_char.py): batch 64 × 256, 5,000 steps,
/// AdamW lr 1e-3 (β₂ 0.99, weight decay 0.1), 100 warm-up steps then cosine to 1e-4, clipping at 1.0,
/// dropout 0.2, on the 90/10 split. Validation every 250 steps scores the whole validation split (exact, and
/// cheaper than nanoGPT's estimate from 200 random batches, which is also reported for the best weights).
/// The record says when validation first reached the target (nanoGPT reports 1.4697).
/// </summary>
public static class BabyGptRun
{
    public static RunRecord Run(torch.Device device, long steps, double target, int evalBatches, TextWriter log, string deviceName, string command, string commit)
    {
        var data = Corpora.TinyShakespeare(CharSplit.NanoGpt);
        var descriptor = StudyRunner.Model("BabyGpt");
        var options = new TrainingOptions
        {
            Objective = Objective.EveryPosition,
            BatchSize = 64,
            Steps = steps,
            LearningRate = 1e-3,
            MinLearningRate = 1e-4,
            WarmupSteps = (int)Math.Min(100, steps),
            Schedule = Schedule.WarmupCosine,
            Optimizer = new AdamWSettings(0.9, 0.99, 1e-8, WeightDecay: 0.1, GradientClip: 1.0),
            EvalEvery = (int)Math.Max(1, Math.Min(250, steps)),
            Validation = EvalProtocol.Sequential(),
            Seed = 1337,
            Bf16 = true,
            LogEvery = 50,
            Progress = true,
            TensorBoard = false,
        };

        Devices.Seed(options.Seed);
        using var model = descriptor.Create();
        CostCheck.Verify(model.to(device), log);
        using var trainer = new Trainer(model, data, options, device, log);
        var result = trainer.Train();
        var reached = result.Validation.FirstOrDefault(v => v.Nll <= target);
        var full = trainer.Evaluate(Split.Validation, EvalProtocol.Sequential());
        var estimate = trainer.Evaluate(Split.Validation, EvalProtocol.RandomBatches(evalBatches));
        log.WriteLine($"baby GPT: best validation {result.Best?.Nll:0.0000} (whole split) at step {result.Best?.Step}; restored best: whole split {full.Nll:0.0000}, nanoGPT-style estimate ({evalBatches} random batches) {estimate.Nll:0.0000}; " +
                      (reached is null ? $"target {target} not reached" : $"reached {target} at step {reached.Step} after {reached.Elapsed:0.0} s") +
                      $"; {result.Seconds:0.0} s in all, {result.TokensPerSecond:N0} tok/s, {result.FlopsPerSecond / 1e12:0.0} TFLOP/s (exact count)");
        return StudyRunner.FromTraining(result, descriptor, options.BatchSize, deviceName, command, commit) with
        {
            Experiment = "babygpt",
            Model = "BabyGpt",
            Label = "nanoGPT baby GPT",
            Seed = options.Seed,
            Objective = options.Objective.ToString(),
            Corpus = data.Name,
            TestNll = estimate.Nll,
            StudyNll = 1.4697,
            Seconds = reached?.Elapsed ?? double.NaN,
        };
    }
}
