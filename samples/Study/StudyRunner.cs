using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using SlmGen.Data;
using SlmGen.Training;
using TorchSharp;

namespace SlmGen.Samples.Study;

/// <summary>Sizes: the study's full protocol, or a few steps for CI.</summary>
public enum Scale
{
    Full,
    Ci,
}

/// <summary>Runs one model of one experiment with one seed and writes its record.</summary>
public sealed class StudyRunner
{
    private readonly Dictionary<Corpus, TokenDataset> data = new();
    private readonly torch.Device device;
    private readonly TextWriter log;
    private readonly Scale scale;

    public StudyRunner(torch.Device device, Scale scale, TextWriter log)
    {
        this.device = device;
        this.scale = scale;
        this.log = log;
    }

    public string Command { get; init; } = "";

    public string Commit { get; init; } = "";

    public string DeviceName { get; init; } = "";

    /// <summary>The generated models of the sample assembly (specs/ and the attribute declarations).</summary>
    public static ModelDescriptor Model(string name) => ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples." + name);

    /// <summary>Trains and tests one entry; returns its record.</summary>
    public RunRecord Run(Experiment experiment, Entry entry, long seed)
    {
        var recipe = experiment.Recipe;
        var dataset = Data(recipe);
        var descriptor = Model(entry.Model);
        var objective = descriptor.Cost.PredictsEveryPosition ? recipe.Objective : Objective.LastPosition;
        var lastOnly = objective == Objective.LastPosition;
        var batch = scale == Scale.Ci ? 4 : recipe.BatchSize;
        var windowsPerEpoch = recipe.WindowsPerEpoch > 0 ? recipe.WindowsPerEpoch : (int)Windows.Count(dataset.Train.Length, descriptor.Cost.Context);
        var stepsPerEpoch = scale == Scale.Ci ? 2 : Math.Max(1, windowsPerEpoch / batch);
        var steps = (long)stepsPerEpoch * recipe.Epochs;
        var budget = Budget(experiment, descriptor);
        if (budget > 0)
        {
            var perStep = (double)batch * descriptor.Cost.TrainingFlopsPerWindow(lastOnly);
            steps = Math.Max(1, (long)Math.Round(budget / perStep));
            if (scale == Scale.Ci)
            {
                steps = Math.Min(steps, 4);
            }
        }

        var evalWindows = scale == Scale.Ci ? 8 : recipe.EvalWindows;
        var protocol = evalWindows > 0 ? EvalProtocol.FirstWindows(evalWindows) : EvalProtocol.Sequential(recipe.EvalTokens);
        if (recipe.EvalWindows == 0 && scale == Scale.Ci)
        {
            protocol = EvalProtocol.FirstWindows(8);
        }

        // The study's evaluation: the token after each window, also for models trained at every position.
        if (protocol.Kind == EvalKind.Sequential)
        {
            protocol = EvalProtocol.FirstWindows((int)Windows.Count(recipe.EvalTokens > 0 ? Math.Min(recipe.EvalTokens, dataset.Validation.Length) : dataset.Validation.Length, descriptor.Cost.Context));
        }

        var options = new TrainingOptions
        {
            Objective = objective,
            BatchSize = batch,
            Steps = steps,
            Sampling = recipe.WindowsPerEpoch > 0 ? Sampling.Random : Sampling.ShuffledEpochs,
            Schedule = Schedule.Constant,
            LearningRate = recipe.LearningRate,
            Optimizer = Recipe.StudyAdam,
            EvalEvery = (int)Math.Max(1, budget > 0 ? steps / Math.Max(1, recipe.Epochs) : stepsPerEpoch),
            Validation = protocol,
            RestoreBest = true,
            Seed = seed,
            Bf16 = true,
            LogEvery = (int)Math.Max(1, Math.Min(100, steps / 50)),
            Progress = false,
            TensorBoard = false,
        };

        log.WriteLine($"[{experiment.Name}] {entry.Model} seed {seed}: {descriptor.Cost.Parameters:N0} parameters, {steps:N0} steps of {batch} ({objective}), eval {protocol}");
        Devices.Seed(seed);
        using var model = descriptor.Create();
        CostCheck.Verify(model.to(device), TextWriter.Null);
        using var trainer = new Trainer(model, dataset, options, device, log);
        var result = trainer.Train();
        var test = trainer.Evaluate(Split.Test, protocol);
        log.WriteLine($"[{experiment.Name}] {entry.Model} seed {seed}: test NLL {test.Nll:0.0000} (study {entry.StudyNll:0.0000}), best validation {result.Best?.Nll:0.0000} at step {result.Best?.Step:N0}, {result.Seconds:0.0} s, {result.TokensPerSecond:N0} tok/s");
        return FromTraining(result, descriptor, batch, DeviceName, Command, Commit) with
        {
            Experiment = experiment.Name,
            Model = entry.Model,
            Label = entry.Label,
            Seed = seed,
            Scale = scale.ToString().ToLowerInvariant(),
            Objective = objective.ToString(),
            Corpus = recipe.Corpus.ToString(),
            TestNll = test.Nll,
            StudyNll = entry.StudyNll,
        };
    }

    /// <summary>The fields of a record that come from the training run itself.</summary>
    internal static RunRecord FromTraining(TrainingResult result, ModelDescriptor descriptor, int batch, string device, string command, string commit) => new()
    {
        Parameters = descriptor.Cost.Parameters,
        Context = descriptor.Cost.Context,
        BatchSize = batch,
        Steps = result.Steps,
        Windows = result.Windows,
        ExactTrainingFlops = result.ExactTrainingFlops,
        StudyFlops = result.TwoNFlops,
        SixNFlops = result.SixNFlops,
        BestValidationNll = result.Best?.Nll ?? double.NaN,
        BestStep = result.Best?.Step ?? 0,
        Seconds = result.Seconds,
        TokensPerSecond = result.TokensPerSecond,
        Device = device,
        Command = command,
        Commit = commit,
        Timestamp = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        Validation = result.Validation.Select(v => new[] { v.Step, v.Nll, v.Elapsed }).ToList(),
        TrainCurve = result.Curve.Select(c => new[] { c.Step, c.TrainLoss, c.Elapsed }).ToList(),
    };

    /// <summary>The budget of the equal-FLOP comparison: 10 TFLOP of training by SlmGen's exact count.</summary>
    public const double EqualFlopBudget = 1e13;

    /// <summary>
    /// The exact training-FLOP budget of an experiment that fixes one: the study run of the same model
    /// (every-position) or <see cref="EqualFlopBudget"/> (equal-flops), by SlmGen's count.
    /// </summary>
    public static double Budget(Experiment experiment, ModelDescriptor model)
    {
        static double StudyRun(ModelDescriptor m, int epochs) => (double)epochs * 50_000 * m.Cost.TrainingFlopsPerWindow(lastPositionOnly: true);
        return experiment.Name switch
        {
            "every-position" => StudyRun(model, 4),
            "equal-flops" => EqualFlopBudget,
            _ => 0,
        };
    }

    private TokenDataset Data(Recipe recipe)
    {
        if (!data.TryGetValue(recipe.Corpus, out var d))
        {
            d = Experiments.Load(recipe.Corpus);
            data[recipe.Corpus] = d;
        }

        return recipe.TrainTokens > 0 ? d.Truncate(recipe.TrainTokens, recipe.EvalTokens, recipe.EvalTokens) : d;
    }
}
