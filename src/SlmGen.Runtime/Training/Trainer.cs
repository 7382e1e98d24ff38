using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using SlmGen.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>
/// Trains a generated model: random windows, AdamW over flat buffers (<see cref="FlatAdamW"/>), warm-up and
/// cosine schedule, clipping, periodic evaluation with the best weights kept, early stopping, atomic
/// resumable checkpoints, metrics (JSONL, TensorBoard) and a progress line. The same code runs on CPU and
/// CUDA; on CUDA with <see cref="TrainingOptions.Bf16"/> the model computes in bf16 over fp32 master weights.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly SlmModel model;
    private readonly TokenDataset data;
    private readonly TrainingOptions options;
    private readonly Device device;
    private readonly TextWriter log;
    private readonly FlatAdamW optimizer;
    private readonly WindowSampler sampler;
    private readonly List<CurvePoint> curve = new();
    private readonly List<ValidationPoint> validation = new();
    private Tensor? bestMaster;
    private Tensor? ema;
    private double bestValidation = double.NaN;
    private long bestStep;

    /// <summary>Training seconds (evaluations excluded) of this run so far, earlier segments of a resumed run included.</summary>
    private double trainedSeconds;
    private int evalsSinceBest;
    private readonly DatasetIdentity dataIdentity;
    private readonly List<string> overrides = new();
    private readonly RunDirectoryLock? ownership;

    /// <summary>Prepares training: moves the model to the device and re-seats its parameters on flat buffers.</summary>
    public Trainer(SlmModel model, TokenDataset data, TrainingOptions options, Device? device = null, TextWriter? log = null)
    {
        this.model = model;
        this.data = data;
        this.options = options;
        this.device = device ?? Devices.Resolve("auto");
        SlmGen.Native.CHeap.PrepareFor(this.device); // large CPU tensors reuse their blocks instead of new pages each step
        this.log = log ?? TextWriter.Null;
        options.Validate();
        if ((long)options.BatchSize * model.Context > int.MaxValue)
        {
            throw new ArgumentException($"Invalid training options:\n  A batch of {options.BatchSize:N0} windows of {model.Context:N0} tokens is {(long)options.BatchSize * model.Context:N0} tokens, more than one tensor can index ({int.MaxValue:N0}).");
        }

        if (model.DeclaredVocab != data.VocabSize)
        {
            throw new ArgumentException($"{model.GetName()} has a vocabulary of {model.DeclaredVocab:N0}{(model.DeclaredVocab != model.Vocab ? $" (padded to {model.Vocab:N0})" : string.Empty)} but the data set {data.Name} has {data.VocabSize:N0} tokens. " +
                                        (data.Name is "ptb-eos" or "wikitext-2-eos" && model.DeclaredVocab == data.VocabSize - 1
                                            ? $"{data.Name} counts an end-of-line token; the same words without it ({model.DeclaredVocab:N0}, the study's vocabulary) are the data set {data.Name[..^4].Replace("-", string.Empty)}-study."
                                            : "Declare the tokenizer's vocabulary (and pad_vocab_to to round the model's up)."));
        }

        if (!model.PredictsEveryPosition && options.Objective == Objective.EveryPosition)
        {
            throw new ArgumentException($"{model.GetName()} makes one prediction per window (it flattens its context); train it with Objective.LastPosition.");
        }

        ownership = options.RunDirectory is null ? null : RunDirectoryLock.Take(options.RunDirectory);
        model.to(this.device);
        model.train();
        ComputeType = options.Bf16 && this.device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
        if (options.ZLoss > 0 && model.Plan.OfType<HeadStep>().Single().Kind == HeadKind.Grouped)
        {
            throw new ArgumentException($"Invalid training options:\n  z-loss needs one softmax over the vocabulary; {model.GetName()} has a grouped head.");
        }

        optimizer = new FlatAdamW(model, options.Optimizer, ComputeType, OptimizerGroups.For(model, options), options.Muon);
        // Long-lived buffers leave any scope the caller has open (its end would free them under the trainer).
        ema = options.EmaDecay > 0 ? optimizer.Master.clone().DetachFromDisposeScope() : null;
        sampler = new WindowSampler(data.Train.Length, model.Context, options.Sampling, options.Seed);
        dataIdentity = DatasetIdentity.Of(data);
    }

    /// <summary>The compute type (bf16 on CUDA when asked, else fp32).</summary>
    public ScalarType ComputeType { get; }

    /// <summary>Completed steps.</summary>
    public long Step { get; private set; }

    /// <summary>Raised at every log point (<see cref="TrainingOptions.LogEvery"/>) and evaluation: for progress displays.</summary>
    public event Action<TrainingProgress>? Progressed;

    /// <summary>The optimizer.</summary>
    public FlatAdamW Optimizer => optimizer;

    /// <summary>The exponential moving average of the fp32 master weights (flat, the optimizer's layout), or null without <see cref="TrainingOptions.EmaDecay"/>.</summary>
    public Tensor? Ema => ema;

    /// <summary>
    /// The EMA's decay at the step after <paramref name="completed"/> steps: <c>min(decay, (1 + n) / (10 + n))</c> for the
    /// n-th update (the warm-up of TensorFlow's ExponentialMovingAverage), so a short run's average is not mostly its initial weights.
    /// </summary>
    public double EmaDecayAt(long completed) => Math.Min(options.EmaDecay, (1.0 + completed) / (10.0 + completed));

    /// <summary>Path of the resumable checkpoint in the run directory.</summary>
    public string? LastCheckpointPath => options.RunDirectory is null ? null : Path.Combine(options.RunDirectory, "last.ckpt");

    /// <summary>Path of the best-validation checkpoint in the run directory.</summary>
    public string? BestCheckpointPath => options.RunDirectory is null ? null : Path.Combine(options.RunDirectory, "best.ckpt");

    /// <summary>The learning rate for the step after <paramref name="completed"/> steps (<see cref="TrainingOptions.LearningRateAt(long, double)"/>).</summary>
    public double LearningRate(long completed) => options.LearningRateAt(completed, TimeFraction);

    /// <summary>Training seconds so far (evaluations excluded), earlier segments of a resumed run included.</summary>
    public double TrainingSeconds => trainedSeconds;

    /// <summary>The share of the <see cref="TrainingOptions.TimeLimit"/> spent (0 without one).</summary>
    private double TimeFraction => options.TimeLimit is { } limit ? trainedSeconds / limit.TotalSeconds : 0;

    /// <summary>True when the run's time limit is spent.</summary>
    private bool TimeIsUp => options.TimeLimit is { } limit && trainedSeconds >= limit.TotalSeconds;

    /// <summary>
    /// Trains until <see cref="TrainingOptions.Steps"/> (or <paramref name="maxSteps"/> more steps, or
    /// cancellation, or early stopping), then restores the best weights if asked.
    /// </summary>
    public TrainingResult Train(long? maxSteps = null, CancellationToken cancellation = default)
    {
        using var runLog = new RunLog(options.RunDirectory, options.TensorBoard);
        var latency = System.Runtime.GCSettings.LatencyMode;
        System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.SustainedLowLatency;
        try
        {
            return TrainLoop(runLog, maxSteps, cancellation);
        }
        finally
        {
            System.Runtime.GCSettings.LatencyMode = latency;
        }
    }

    private TrainingResult TrainLoop(RunLog runLog, long? maxSteps, CancellationToken cancellation)
    {
        var progress = options.Progress ? new ProgressLine(log, options.Steps) : null;
        var lastOnly = options.Objective == Objective.LastPosition;
        var context = model.Context;
        var batch = options.BatchSize;
        var start = Step;
        var clock = Stopwatch.StartNew();
        double evalSeconds = 0;
        var stoppedEarly = false;
        using var lossSum = zeros(1, dtype: ScalarType.Float32, device: device);
        var lossCount = 0;
        var tokensSinceLog = 0L;
        var lastLogTime = 0.0;
        double? lastValidation = validation.Count > 0 ? validation[^1].Nll : null;

        var lastSave = Stopwatch.StartNew();
        long savedStep = -1;
        void SaveLast()
        {
            SaveCheckpoint(LastCheckpointPath!);
            savedStep = Step;
            lastSave.Restart();
        }

        if (Device.type == DeviceType.CUDA)
        {
            log.WriteLine(SlmGen.Native.FusedKernels.Status);
        }

        using var graphed = options.CudaGraphs ? GraphedStep.TryCreate(this, lossSum, log) : null;
        var graphedSteps = 0L;
        var secondsBefore = trainedSeconds;
        var timeUp = TimeIsUp;
        while (Step < options.Steps && !timeUp && (maxSteps is null || Step - start < maxSteps) && !cancellation.IsCancellationRequested)
        {
            var lr = LearningRate(Step);
            if (options.QatStart > 0 && model.FakeQuantEnabled != (Step >= options.QatStartStep))
            {
                // Late QAT: the switch follows the step (also after a resume); a captured CUDA graph holds the old path,
                // so the step is captured again on the new one.
                model.FakeQuantEnabled = Step >= options.QatStartStep;
                graphed?.Recapture(model.FakeQuantEnabled ? $"quantisation-aware training starts at step {Step:N0}" : $"quantisation-aware training is off until step {options.QatStartStep:N0}");
            }

            using (var scope = NewDisposeScope())
            {
                var starts = sampler.Next(batch);
                using var b = Windows.Make(data.Train, starts, context, options.Objective, device);
                if (graphed is not null && graphed.Run(b.Inputs, b.Targets, lr))
                {
                    graphedSteps++;
                }
                else
                {
                    var loss = LossAndBackward(b.Inputs, b.Targets);
                    lossSum.PlusInPlace(loss);
                    optimizer.Step(lr);
                    optimizer.ZeroGrad();
                }
            }

            if (ema is not null)
            {
                using var noGrad = no_grad();
                var decay = EmaDecayAt(Step);
                using var keep = decay.ToScalar();
                using var rest = (1 - decay).ToScalar();
                ema.mul_(keep).add_(optimizer.Master, alpha: rest);
            }

            Step++;
            lossCount++;
            if (options.TimeLimit is not null)
            {
                // The clock is read once the step's work is done (the loss sum waits for it on CUDA).
                _ = lossSum.item<float>();
            }

            trainedSeconds = secondsBefore + clock.Elapsed.TotalSeconds - evalSeconds;
            timeUp = TimeIsUp;
            tokensSinceLog += (long)batch * context;

            if (Step % options.LogEvery == 0 || Step == options.Steps || timeUp)
            {
                var mean = lossSum.item<float>() / lossCount;
                using (NewDisposeScope())
                {
                    lossSum.zero_(); // its returned wrapper stays out of the caller's scope
                }

                lossCount = 0;
                var now = clock.Elapsed.TotalSeconds;
                var rate = tokensSinceLog / Math.Max(1e-9, now - lastLogTime);
                tokensSinceLog = 0;
                lastLogTime = now;
                curve.Add(new CurvePoint(Step, mean, lr, now));
                runLog.Write("train", Step, ("loss", mean), ("lr", lr), ("tokens_per_second", rate));
                progress?.Show(Step, mean, lastValidation, rate, clock.Elapsed);
                Progressed?.Invoke(new TrainingProgress(Step, options.Steps, mean, lastValidation, rate, clock.Elapsed));
                if (!double.IsFinite(mean))
                {
                    progress?.Break();
                    throw new InvalidOperationException($"The training loss became {mean} at step {Step}; lower the learning rate or check the data. The last checkpoint is intact.");
                }
            }

            var evalNow = Step % options.EvalEvery == 0 || Step == options.Steps || timeUp;
            if (evalNow)
            {
                var t0 = clock.Elapsed.TotalSeconds;
                EvalResult val;
                var improved = false;
                // With an EMA, the average's weights are the ones evaluated and kept as the best (swapped in and out).
                if (ema is not null)
                {
                    optimizer.Swap(ema);
                }

                try
                {
                    val = Evaluate(Split.Validation, options.Validation);
                    // Under late QAT only the quantised model competes for the best: weights evaluated before the start
                    // score in full precision, which is not what ships.
                    var competes = options.QatStart <= 0 || !model.HasFakeQuant || Step >= options.QatStartStep;
                    if (competes && (double.IsNaN(bestValidation) || val.Nll < bestValidation))
                    {
                        improved = true;
                        bestMaster?.Dispose();
                        bestMaster = optimizer.Master.clone().DetachFromDisposeScope();
                    }
                }
                finally
                {
                    if (ema is not null)
                    {
                        optimizer.Swap(ema);
                    }
                }

                evalSeconds += clock.Elapsed.TotalSeconds - t0;
                lastValidation = val.Nll;
                validation.Add(new ValidationPoint(Step, val.Nll, clock.Elapsed.TotalSeconds));
                runLog.Write("validation", Step, ("nll", val.Nll), ("perplexity", val.Perplexity), ("bits_per_token", val.BitsPerToken));
                Progressed?.Invoke(new TrainingProgress(Step, options.Steps, curve.Count > 0 ? curve[^1].TrainLoss : double.NaN, val.Nll, double.NaN, clock.Elapsed));
                if (improved)
                {
                    bestValidation = val.Nll;
                    bestStep = Step;
                    evalsSinceBest = 0;
                    if (BestCheckpointPath is not null)
                    {
                        SaveCheckpoint(BestCheckpointPath);
                    }
                }
                else
                {
                    evalsSinceBest++;
                }

                if (options.EarlyStopPatience > 0 && evalsSinceBest >= options.EarlyStopPatience)
                {
                    stoppedEarly = true;
                }
            }

            if (LastCheckpointPath is not null && ((options.CheckpointEvery > 0 ? Step % options.CheckpointEvery == 0 : evalNow) || lastSave.Elapsed >= options.CheckpointInterval))
            {
                SaveLast();
            }

            if (stoppedEarly)
            {
                break;
            }
        }

        progress?.Break();
        var interrupted = cancellation.IsCancellationRequested && Step < options.Steps && !stoppedEarly && !timeUp;
        if (cancellation.IsCancellationRequested && LastCheckpointPath is not null && savedStep != Step && (Step > start || !File.Exists(LastCheckpointPath)))
        {
            SaveLast();
        }

        if (interrupted)
        {
            log.WriteLine(LastCheckpointPath is null
                ? $"Stopped at step {Step:N0} of {options.Steps:N0} (no run directory: nothing saved)."
                : $"Stopped at step {Step:N0} of {options.Steps:N0}; {LastCheckpointPath} holds it (resume from it to continue).");
            log.Flush();
        }

        var seconds = clock.Elapsed.TotalSeconds;
        // The end of the run (not of a partial Train(maxSteps) call, which the next call continues): the best weights,
        // or the average's.
        var finished = Step >= options.Steps || stoppedEarly || timeUp;
        if (timeUp && Step < options.Steps)
        {
            log.WriteLine($"The time limit ({options.TimeLimit}) was spent at step {Step:N0} of {options.Steps:N0}.");
        }
        if (finished && options.RestoreBest && bestMaster is not null)
        {
            using var noGrad = no_grad();
            optimizer.Master.copy_(bestMaster);
            optimizer.SyncWeights();
        }
        else if (finished && ema is not null)
        {
            // The run ends with the average's weights (last.ckpt keeps the raw weights and the average for a resume).
            using var noGrad = no_grad();
            optimizer.Master.copy_(ema);
            optimizer.SyncWeights();
        }

        var steps = Step - start;
        var windows = steps * batch;
        var cost = model.Cost;
        return new TrainingResult
        {
            Steps = steps,
            Windows = windows,
            PredictedTokens = windows * (lastOnly || !model.PredictsEveryPosition ? 1 : context),
            InputTokens = windows * context,
            Seconds = seconds,
            EvalSeconds = evalSeconds,
            TrainingSeconds = trainedSeconds,
            ExactTrainingFlops = (double)windows * cost.TrainingFlopsPerWindow(lastOnly),
            SixNFlops = 6.0 * cost.Parameters * windows * context,
            FirstStep = start,
            RunInputTokens = Step * batch * context,
            RunExactTrainingFlops = (double)Step * batch * cost.TrainingFlopsPerWindow(lastOnly),
            RunSixNFlops = 6.0 * cost.Parameters * Step * batch * context,
            TwoNFlops = 2.0 * cost.Parameters * windows * context,
            Best = double.IsNaN(bestValidation) ? null : new ValidationPoint(bestStep, bestValidation, 0),
            Curve = curve.ToList(),
            Validation = validation.ToList(),
            StoppedEarly = stoppedEarly,
            Interrupted = interrupted,
            GraphedSteps = graphedSteps,
            FusedKernels = Device.type == DeviceType.CUDA && SlmGen.Native.FusedKernels.Ready,
            Checkpoint = LastCheckpointPath is { } lastPath && File.Exists(lastPath) ? lastPath : null,
            BestCheckpoint = BestCheckpointPath is { } bestPath && File.Exists(bestPath) ? bestPath : null,
        };
    }

    /// <summary>The trainer's loss of a batch with its backward pass done (chunked when asked); returns the detached loss.</summary>
    internal Tensor LossAndBackward(Tensor inputs, Tensor targets)
    {
        var lastOnly = options.Objective == Objective.LastPosition;
        var chunked = options.LossChunk > 0 && !lastOnly && model.PredictsEveryPosition && options.LossChunk < model.Context;
        return chunked ? ChunkedLoss(inputs, targets) : FullLoss(inputs, targets, lastOnly);
    }

    internal TrainingOptions Options => options;

    internal Device Device => device;

    /// <summary>Mean cross-entropy of a batch with its backward pass done; returns the detached loss.</summary>
    private Tensor FullLoss(Tensor inputs, Tensor targets, bool lastOnly)
    {
        var features = model.Features(inputs);
        if (lastOnly && model.PredictsEveryPosition)
        {
            features = features.select(1, -1);
        }

        var loss = model.Loss(features, targets, options.ZLoss);
        loss.backward();
        return loss.detach();
    }

    private Tensor ChunkedLoss(Tensor inputs, Tensor targets) => ChunkedCrossEntropy.Backward(model, inputs, targets, options.LossChunk, options.ZLoss);

    /// <summary>Evaluates the model on a split.</summary>
    public EvalResult Evaluate(Split split, EvalProtocol protocol)
    {
        var rng = new SplitMix64(unchecked((ulong)options.Seed ^ 0xE7A1UL ^ (ulong)split));
        return Evaluator.Evaluate(model, data[split], protocol, options.Objective, options.BatchSize, device, rng);
    }

    /// <summary>Writes a resumable checkpoint (weights, optimizer, step, RNG states, data, options, spec fingerprint) atomically.</summary>
    public void SaveCheckpoint(string path)
    {
        var sampled = sampler.State;
        var state = new CheckpointState
        {
            Model = model.GetName(),
            Fingerprint = model.Fingerprint,
            Dataset = dataIdentity,
            Step = Step,
            TrainingSeconds = trainedSeconds,
            BestValidation = double.IsNaN(bestValidation) ? null : bestValidation,
            BestStep = bestStep,
            EvalsSinceBest = evalsSinceBest,
            Sampler = new SamplerState(sampled.Rng, sampled.EpochSeed, sampled.Position, sampled.InEpoch),
            TorchRngState = Convert.ToBase64String(RngState()),
            Options = new SortedDictionary<string, string>(options.Trajectory().ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal),
            Overrides = overrides.ToList(),
        };
        Checkpoint.Save(path, state, optimizer.Layout, optimizer.Master, optimizer.FirstMoment, optimizer.SecondMoment, bestMaster, ema);
    }

    /// <summary>
    /// Continues from a checkpoint written by <see cref="SaveCheckpoint"/> for the same architecture. A checkpoint
    /// of other data or other trajectory options (<see cref="TrainingOptions.Trajectory"/>) is refused unless
    /// <paramref name="allow"/> says otherwise; the resume, and any override it used, is recorded in the run log
    /// (metrics.jsonl, whose records after the checkpoint's step are dropped) and in later checkpoints.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is damaged or not a checkpoint.</exception>
    /// <exception cref="InvalidOperationException">Another architecture, other data or other options without an override.</exception>
    public void Resume(string path, ResumeOverrides allow = ResumeOverrides.None)
    {
        using var contents = Checkpoint.Load(path);
        var state = contents.State;
        Checkpoint.EnsureCompatible(state, model, path);
        var used = new List<string>();
        if (state.Dataset != dataIdentity)
        {
            var what = state.Dataset is null
                ? $"Checkpoint {path} does not record its data (it was converted from the old format: {state.ConvertedFrom})"
                : $"Checkpoint {path} was trained on {state.Dataset}";
            if (!allow.HasFlag(ResumeOverrides.OtherData))
            {
                throw new InvalidOperationException($"{what}; this run has {dataIdentity}. Resuming on other data is refused; pass ResumeOverrides.OtherData (the samples' --resume-other-data) to continue anyway.");
            }

            used.Add($"other data: {dataIdentity} instead of {state.Dataset?.ToString() ?? "unknown"}");
        }

        var changes = Changes(state.Options, options.Trajectory());
        if (changes.Count > 0)
        {
            if (!allow.HasFlag(ResumeOverrides.ChangedOptions))
            {
                throw new InvalidOperationException($"Checkpoint {path} was trained with other options: {string.Join("; ", changes)}. Resuming with changed options is refused; pass ResumeOverrides.ChangedOptions (the samples' --resume-changed-options) to continue anyway.");
            }

            used.Add("changed options: " + string.Join("; ", changes));
        }

        var layout = optimizer.Layout;
        using (var master = Checkpoint.Flatten(contents.Weights, layout, path))
        using (var m = Checkpoint.Flatten(contents.FirstMoment, layout, path))
        using (var v = Checkpoint.Flatten(contents.SecondMoment, layout, path))
        using (NewDisposeScope()) // holds the copies on the device while the optimizer reads them
        {
            optimizer.Restore(master.to(device), m.to(device), v.to(device), state.Step);
        }

        Step = state.Step;
        trainedSeconds = state.TrainingSeconds;
        bestValidation = state.BestValidation ?? double.NaN;
        bestStep = state.BestStep;
        evalsSinceBest = state.EvalsSinceBest;
        bestMaster?.Dispose();
        bestMaster = null;
        if (contents.Best.Count > 0)
        {
            using var best = Checkpoint.Flatten(contents.Best, layout, path);
            bestMaster = best.to(device).DetachFromDisposeScope();
        }

        if (ema is not null)
        {
            // The average continues from the checkpoint's; a checkpoint without one (resumed with changed options) starts it at the weights.
            using var saved = contents.Ema.Count > 0 ? Checkpoint.Flatten(contents.Ema, layout, path) : null;
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            ema.copy_(saved is null ? optimizer.Master : saved.to(device));
        }

        sampler.Restore((state.Sampler.Rng, state.Sampler.EpochSeed, state.Sampler.Position, state.Sampler.InEpoch));
        if (state.TorchRngState.Length > 0)
        {
            using var rng = tensor(Convert.FromBase64String(state.TorchRngState), ScalarType.Byte);
            set_rng_state(rng);
        }

        overrides.Clear();
        overrides.AddRange(state.Overrides);
        overrides.AddRange(used.Select(u => $"step {state.Step}: {u}"));
        foreach (var u in used)
        {
            log.WriteLine($"Resume override at step {state.Step:N0}: {u}.");
        }

        if (options.RunDirectory is not null)
        {
            RunLog.RewindTo(options.RunDirectory, state.Step, "resume", ("checkpoint", Path.GetFileName(path)), ("overrides", string.Join(" | ", used)));
        }
    }

    private static List<string> Changes(IReadOnlyDictionary<string, string>? saved, IReadOnlyDictionary<string, string> now)
    {
        if (saved is null)
        {
            return new List<string> { "the checkpoint does not record its options (converted from the old format)" };
        }

        return saved.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Where(k => saved.GetValueOrDefault(k) != now.GetValueOrDefault(k))
            .Select(k => $"{k} {saved.GetValueOrDefault(k) ?? "(none)"} → {now.GetValueOrDefault(k) ?? "(none)"}")
            .ToList();
    }

    private static byte[] RngState()
    {
        using var state = get_rng_state();
        return state.bytes.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        bestMaster?.Dispose();
        ema?.Dispose();
        ownership?.Dispose();
    }
}

/// <summary>A progress report of a running training.</summary>
/// <param name="Step">Completed steps.</param>
/// <param name="Steps">Steps of the run.</param>
/// <param name="Loss">Mean training loss since the last report.</param>
/// <param name="Validation">The last validation NLL, if any.</param>
/// <param name="TokensPerSecond">Training throughput since the last report (NaN at an evaluation).</param>
/// <param name="Elapsed">Time since the start of this Train call.</param>
public sealed record TrainingProgress(long Step, long Steps, double Loss, double? Validation, double TokensPerSecond, TimeSpan Elapsed);
