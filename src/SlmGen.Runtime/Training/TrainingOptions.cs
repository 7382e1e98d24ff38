using System;
using System.Collections.Generic;
using System.Globalization;
using SlmGen.Data;

namespace SlmGen.Training;

/// <summary>How the learning rate moves over the run.</summary>
public enum Schedule
{
    /// <summary>The same rate throughout (the study's protocol).</summary>
    Constant,
    /// <summary>Linear warm-up, then a cosine decay to the minimum rate at the last step.</summary>
    WarmupCosine,
    /// <summary>
    /// Warm-up, stable, decay ("warmdown"): linear warm-up, the peak rate until the last
    /// <see cref="TrainingOptions.WarmdownFraction"/> of the steps, then a linear decay to the minimum rate at the last step.
    /// </summary>
    Warmdown,
}

/// <summary>The optimizer of the hidden weight matrices (embeddings, the head and vectors always take AdamW).</summary>
public enum OptimizerKind
{
    /// <summary>AdamW for every parameter.</summary>
    AdamW,
    /// <summary>Muon (momentum orthogonalised by Newton–Schulz iterations) for the hidden matrices, AdamW for the rest.</summary>
    Muon,
}

/// <summary>Muon's settings (Keller Jordan's reference implementation's defaults).</summary>
/// <param name="LearningRate">Peak learning rate of the matrices (scaled by the schedule like the others).</param>
/// <param name="Momentum">Momentum μ: the buffer is <c>lerp(buffer, g, 1 − μ)</c>.</param>
/// <param name="Nesterov">Orthogonalise <c>lerp(g, buffer, μ)</c> instead of the buffer.</param>
/// <param name="NewtonSchulzSteps">Quintic Newton–Schulz iterations (coefficients 3.4445, −4.7750, 2.0315).</param>
/// <param name="WeightDecay">Decoupled weight decay of the matrices: <c>W ← W · (1 − lr · decay)</c>.</param>
public sealed record MuonSettings(double LearningRate = 0.02, double Momentum = 0.95, bool Nesterov = true, int NewtonSchulzSteps = 5, double WeightDecay = 0);

/// <summary>How training windows are drawn.</summary>
public enum Sampling
{
    /// <summary>Uniformly random windows, with replacement (the study's epochs of N random windows; nanoGPT).</summary>
    Random,
    /// <summary>Every window once per epoch, in a random order.</summary>
    ShuffledEpochs,
}

/// <summary>Everything a training run needs besides the model and the data.</summary>
public sealed record TrainingOptions
{
    /// <summary>What the loss is on.</summary>
    public Objective Objective { get; init; } = Objective.EveryPosition;

    /// <summary>Windows per step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Optimizer steps.</summary>
    public long Steps { get; init; } = 1000;

    /// <summary>How windows are drawn.</summary>
    public Sampling Sampling { get; init; } = Sampling.Random;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Floor of the cosine decay.</summary>
    public double MinLearningRate { get; init; } = 1e-4;

    /// <summary>Warm-up steps.</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>The schedule.</summary>
    public Schedule Schedule { get; init; } = Schedule.WarmupCosine;

    /// <summary>AdamW settings (weight decay 0, clipping 0 and β₂ 0.999 give the study's plain Adam).</summary>
    public AdamWSettings Optimizer { get; init; } = new();

    /// <summary>The optimizer of the hidden weight matrices: AdamW, or Muon (<see cref="Muon"/>).</summary>
    public OptimizerKind OptimizerKind { get; init; } = OptimizerKind.AdamW;

    /// <summary>Muon's settings (used with <see cref="OptimizerKind.Muon"/>).</summary>
    public MuonSettings Muon { get; init; } = new();

    /// <summary>Peak learning rate of the token and position embeddings (null: <see cref="LearningRate"/>).</summary>
    public double? EmbeddingLearningRate { get; init; }

    /// <summary>Peak learning rate of the LM head's matrices (null: <see cref="LearningRate"/>).</summary>
    public double? HeadLearningRate { get; init; }

    /// <summary>Peak learning rate of vectors and per-channel tables — biases, norm scales, gains, mixes, skip weights (null: <see cref="LearningRate"/>).</summary>
    public double? GainLearningRate { get; init; }

    /// <summary>Peak learning rate of LoRA adapters' matrices, with AdamW (null: they train with the hidden matrices).</summary>
    public double? AdapterLearningRate { get; init; }

    /// <summary>The share of the steps over which <see cref="Schedule.Warmdown"/> decays the rate to its minimum.</summary>
    public double WarmdownFraction { get; init; } = 0.2;

    /// <summary>
    /// Decay of an exponential moving average of the weights, updated after every step (0 = none): validation and
    /// the best weights are then the average's, and the run ends with the average's weights.
    /// </summary>
    public double EmaDecay { get; init; }

    /// <summary>Coefficient of z-loss (PaLM): <c>z · mean(logsumexp(logits)²)</c> is added to the training loss (0 = none).</summary>
    public double ZLoss { get; init; }

    /// <summary>Evaluate every this many steps (and at the end).</summary>
    public int EvalEvery { get; init; } = 250;

    /// <summary>How validation is measured during training.</summary>
    public EvalProtocol Validation { get; init; } = EvalProtocol.RandomBatches(20);

    /// <summary>How the test split is measured at the end (default: like validation).</summary>
    public EvalProtocol? Test { get; init; }

    /// <summary>Stop after this many evaluations without improvement (0 = never stop early).</summary>
    public int EarlyStopPatience { get; init; }

    /// <summary>Restore the best-validation weights before the final test.</summary>
    public bool RestoreBest { get; init; } = true;

    /// <summary>Seed for weights, dropout and batches.</summary>
    public long Seed { get; init; } = 1337;

    /// <summary>bf16 compute with fp32 master weights (CUDA only; ignored on CPU).</summary>
    public bool Bf16 { get; init; } = true;

    /// <summary>Read the loss (a host synchronisation) every this many steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Folder for checkpoints, metrics.jsonl and TensorBoard events (null = none).</summary>
    public string? RunDirectory { get; init; }

    /// <summary>Write a resumable checkpoint every this many steps (0 = at every evaluation).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// Also write the resumable checkpoint when this much wall-clock time has passed since the last one (null = only
    /// by steps and evaluations): a run stopped without warning (a crash, SIGKILL, a lost machine) loses at most this
    /// much work, whatever its evaluation interval. Default 10 minutes.
    /// </summary>
    public TimeSpan? CheckpointInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A wall-clock budget for training (evaluations not counted; kept across resumes in the checkpoint), or null: the run
    /// ends at <see cref="Steps"/> or when this much training time has passed, whichever comes first — the size-capped
    /// contests' "10 minutes on the GPU". The schedule's decay then follows the elapsed share of the budget when that is
    /// ahead of the steps' share (<see cref="LearningRateAt(long, double)"/>), so a warmdown ends with the time.
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>
    /// Late quantisation-aware training: the share of the steps after which the model's fake quantisation is switched on
    /// (0 = from the first step, the default; the steps before it train the full-precision weights). Only a model whose
    /// precision plan trains quantisation-aware has a switch to flip.
    /// </summary>
    public double QatStart { get; init; }

    /// <summary>The first step (0-based) trained with fake quantisation under <see cref="QatStart"/>.</summary>
    public long QatStartStep => (long)Math.Ceiling(QatStart * Steps);

    /// <summary>Show the progress line in the terminal.</summary>
    public bool Progress { get; init; } = true;

    /// <summary>
    /// Compute the loss over this many positions at a time (0 = all at once): the LM head and the cross-entropy run
    /// per chunk with their backward pass right after, so the (batch, positions, vocabulary) logits of the whole
    /// window never exist at once. The same loss and gradients to float rounding. Models that predict every position only.
    /// </summary>
    public int LossChunk { get; init; }

    /// <summary>
    /// Capture the whole training step (forward, loss, backward, clipping, fused AdamW) as one CUDA graph and replay it
    /// (needs CUDA and libslmgen_native; otherwise training runs eagerly and the log says why). The first
    /// <see cref="CudaGraphWarmup"/> steps run eagerly on the capture stream.
    /// </summary>
    public bool CudaGraphs { get; init; } = Environment.GetEnvironmentVariable("SLMGEN_CUDA_GRAPHS") == "1";

    /// <summary>Eager steps before the capture (libtorch's warm-up: lazy initialisation must not happen inside a capture).</summary>
    public int CudaGraphWarmup { get; init; } = 3;

    /// <summary>Write TensorBoard event files into the run directory.</summary>
    public bool TensorBoard { get; init; } = true;

    /// <summary>
    /// The settings that shape the training trajectory, by name, as invariant text: a resume with any of them
    /// changed would continue another run than the one checkpointed (a different <see cref="Steps"/> reshapes
    /// the schedule). Logging, checkpointing and display settings are not among them.
    /// </summary>
    public IReadOnlyDictionary<string, string> Trajectory()
    {
        static string N(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        IDictionary<string, string> options = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["objective"] = Objective.ToString(),
            ["batch"] = BatchSize.ToString(CultureInfo.InvariantCulture),
            ["steps"] = Steps.ToString(CultureInfo.InvariantCulture),
            ["sampling"] = Sampling.ToString(),
            ["learning_rate"] = N(LearningRate),
            ["min_learning_rate"] = N(MinLearningRate),
            ["warmup_steps"] = WarmupSteps.ToString(CultureInfo.InvariantCulture),
            ["schedule"] = Schedule.ToString(),

            ["beta1"] = N(Optimizer.Beta1),
            ["beta2"] = N(Optimizer.Beta2),
            ["epsilon"] = N(Optimizer.Epsilon),
            ["weight_decay"] = N(Optimizer.WeightDecay),
            ["gradient_clip"] = N(Optimizer.GradientClip),
            ["eval_every"] = EvalEvery.ToString(CultureInfo.InvariantCulture),
            ["validation"] = Validation.ToString(),
            ["early_stop_patience"] = EarlyStopPatience.ToString(CultureInfo.InvariantCulture),
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["bf16"] = Bf16 ? "true" : "false",
        };

        // The recipe settings added later enter only when set, so that checkpoints written before them still resume.
        var trajectory = (SortedDictionary<string, string>)options;
        if (OptimizerKind != OptimizerKind.AdamW)
        {
            trajectory["optimizer"] = OptimizerKind.ToString();
            trajectory["muon"] = $"lr {N(Muon.LearningRate)}, momentum {N(Muon.Momentum)}, nesterov {Muon.Nesterov}, steps {Muon.NewtonSchulzSteps}, decay {N(Muon.WeightDecay)}";
        }

        foreach (var (key, rate) in new[] { ("embedding_lr", EmbeddingLearningRate), ("head_lr", HeadLearningRate), ("gain_lr", GainLearningRate), ("lora_lr", AdapterLearningRate) })
        {
            if (rate is { } r)
            {
                trajectory[key] = N(r);
            }
        }

        if (Schedule == Schedule.Warmdown)
        {
            trajectory["warmdown_fraction"] = N(WarmdownFraction);
        }

        if (EmaDecay > 0)
        {
            trajectory["ema_decay"] = N(EmaDecay);
        }

        if (TimeLimit is { } limit)
        {
            trajectory["time_limit_seconds"] = N(limit.TotalSeconds);
        }

        if (ZLoss > 0)
        {
            trajectory["z_loss"] = N(ZLoss);
        }

        if (QatStart > 0)
        {
            trajectory["qat_start"] = N(QatStart);
        }

        return trajectory;
    }

    /// <summary>The schedule's learning rate for the step after <paramref name="completed"/> steps (the peak group's; other groups scale it).</summary>
    public double LearningRateAt(long completed) => LearningRateAt(completed, 0);

    /// <summary>
    /// The schedule's learning rate for the step after <paramref name="completed"/> steps when <paramref name="timeFraction"/>
    /// of the <see cref="TimeLimit"/> has passed: where the time's share is ahead of the steps' share, the decay follows it
    /// (warm-up stays in steps). Warmdown: weight of the peak <c>(1 − share) / warmdown fraction</c>, clamped to [0, 1];
    /// cosine: the cosine of the share after warm-up. Without a time limit (or with the steps ahead) this is the step schedule.
    /// </summary>
    public double LearningRateAt(long completed, double timeFraction)
    {
        var byTime = Schedule != Schedule.Constant && timeFraction > 0 && timeFraction > (double)completed / Steps;
        if (byTime)
        {
            var share = Math.Clamp(timeFraction, 0, 1);
            var warmed = completed < WarmupSteps ? LearningRate * (completed + 1) / WarmupSteps : LearningRate;
            if (Schedule == Schedule.Warmdown)
            {
                var weight = Math.Clamp((1 - share) / WarmdownFraction, 0, 1);
                return Math.Min(warmed, MinLearningRate + (weight * (LearningRate - MinLearningRate)));
            }

            if (completed >= WarmupSteps)
            {
                var warmShare = (double)WarmupSteps / Steps;
                var timeProgress = Math.Clamp((share - warmShare) / Math.Max(1e-12, 1 - warmShare), 0, 1);
                var stepProgress = Math.Clamp((double)(completed - WarmupSteps) / Math.Max(1, Steps - WarmupSteps), 0, 1);
                return MinLearningRate + (0.5 * (1 + Math.Cos(Math.PI * Math.Max(timeProgress, stepProgress))) * (LearningRate - MinLearningRate));
            }

            return warmed;
        }

        if (Schedule == Schedule.Constant)
        {
            return LearningRate;
        }

        var warm = completed < WarmupSteps ? LearningRate * (completed + 1) / WarmupSteps : LearningRate;
        if (Schedule == Schedule.Warmdown)
        {
            // Stable at the peak, then linear to the minimum over the last warmdown steps: the weight of the peak is
            // (steps − completed) / warmdown steps (modded-nanogpt's convention; the minimum is reached after the last step).
            var decaySteps = Math.Max(1L, (long)Math.Round(Steps * WarmdownFraction, MidpointRounding.AwayFromZero));
            var w = Math.Clamp((double)(Steps - completed) / decaySteps, 0, 1);
            return Math.Min(warm, MinLearningRate + (w * (LearningRate - MinLearningRate)));
        }

        if (completed < WarmupSteps)
        {
            return warm;
        }

        var span = Math.Max(1, Steps - WarmupSteps);
        var progress = Math.Clamp((double)(completed - WarmupSteps) / span, 0, 1);
        return MinLearningRate + (0.5 * (1 + Math.Cos(Math.PI * progress)) * (LearningRate - MinLearningRate));
    }

    /// <summary>Every problem with these options, as one sentence each (empty when they are valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Need(bool ok, string message)
        {
            if (!ok)
            {
                problems.Add(message);
            }
        }

        static bool Finite(double d) => double.IsFinite(d);
        Need(Enum.IsDefined(Objective), $"Objective {Objective} is not one of {string.Join(", ", Enum.GetNames<Objective>())}.");
        Need(Enum.IsDefined(Sampling), $"Sampling {Sampling} is not one of {string.Join(", ", Enum.GetNames<Sampling>())}.");
        Need(Enum.IsDefined(Schedule), $"Schedule {Schedule} is not one of {string.Join(", ", Enum.GetNames<Schedule>())}.");
        Need(BatchSize >= 1, $"The batch size must be at least 1 window, not {BatchSize}.");
        Need(Steps >= 1, $"Steps must be at least 1, not {Steps}.");
        Need(Finite(LearningRate) && LearningRate >= 0, $"The learning rate must be a number of 0 or more, not {LearningRate}.");
        Need(Finite(MinLearningRate) && MinLearningRate >= 0 && (Schedule == Schedule.Constant || MinLearningRate <= LearningRate), $"The minimum learning rate of the schedule must be from 0 to the learning rate ({LearningRate}), not {MinLearningRate}.");
        Need(WarmupSteps >= 0, $"Warm-up steps must be 0 or more, not {WarmupSteps}.");
        Need(Enum.IsDefined(OptimizerKind), $"Optimizer {OptimizerKind} is not one of {string.Join(", ", Enum.GetNames<OptimizerKind>())}.");
        Need(Finite(Muon.LearningRate) && Muon.LearningRate >= 0, $"Muon's learning rate must be a number of 0 or more, not {Muon.LearningRate}.");
        Need(Finite(Muon.Momentum) && Muon.Momentum >= 0 && Muon.Momentum < 1, $"Muon's momentum must be in [0, 1), not {Muon.Momentum}.");
        Need(Muon.NewtonSchulzSteps is >= 1 and <= 100, $"Muon's Newton–Schulz steps must be from 1 to 100, not {Muon.NewtonSchulzSteps}.");
        Need(Finite(Muon.WeightDecay) && Muon.WeightDecay >= 0, $"Muon's weight decay must be 0 or more, not {Muon.WeightDecay}.");
        foreach (var (what, rate) in new[] { ("embeddings", EmbeddingLearningRate), ("head", HeadLearningRate), ("gains", GainLearningRate), ("LoRA adapters", AdapterLearningRate) })
        {
            Need(rate is null || (Finite(rate.Value) && rate.Value >= 0), $"The learning rate of the {what} must be a number of 0 or more, not {rate}.");
        }

        Need(Finite(WarmdownFraction) && WarmdownFraction > 0 && WarmdownFraction <= 1, $"The warmdown fraction must be in (0, 1], not {WarmdownFraction}.");
        Need(Finite(EmaDecay) && EmaDecay >= 0 && EmaDecay < 1, $"The EMA decay must be in [0, 1) (0 = none), not {EmaDecay}.");
        Need(Finite(ZLoss) && ZLoss >= 0, $"The z-loss coefficient must be 0 (none) or more, not {ZLoss}.");
        Need(Finite(QatStart) && QatStart >= 0 && QatStart < 1, $"The start of quantisation-aware training must be a share of the steps in [0, 1), not {QatStart}.");
        Need(Finite(Optimizer.Beta1) && Optimizer.Beta1 >= 0 && Optimizer.Beta1 < 1, $"AdamW's beta1 must be in [0, 1), not {Optimizer.Beta1}.");
        Need(Finite(Optimizer.Beta2) && Optimizer.Beta2 >= 0 && Optimizer.Beta2 < 1, $"AdamW's beta2 must be in [0, 1), not {Optimizer.Beta2}.");
        Need(Finite(Optimizer.Epsilon) && Optimizer.Epsilon > 0, $"AdamW's epsilon must be a positive number, not {Optimizer.Epsilon}.");
        Need(Finite(Optimizer.WeightDecay) && Optimizer.WeightDecay >= 0, $"Weight decay must be 0 or more, not {Optimizer.WeightDecay}.");
        Need(Finite(Optimizer.GradientClip) && Optimizer.GradientClip >= 0, $"The gradient clip must be 0 (off) or more, not {Optimizer.GradientClip}.");
        Need(EvalEvery >= 1, $"Evaluate every N steps needs N of at least 1, not {EvalEvery}.");
        Need(Validation is not null && Validation.Count >= (Validation.Kind == EvalKind.Sequential ? 0 : 1), $"The validation protocol needs a count of at least 1 ({Validation}).");
        Need(Test is null || Test.Count >= (Test.Kind == EvalKind.Sequential ? 0 : 1), $"The test protocol needs a count of at least 1 ({Test}).");
        Need(EarlyStopPatience >= 0, $"Early-stop patience must be 0 (off) or more, not {EarlyStopPatience}.");
        Need(LogEvery >= 1, $"Log every N steps needs N of at least 1, not {LogEvery}.");
        Need(LossChunk >= 0, $"The loss chunk must be 0 (off) or a number of positions, not {LossChunk}.");
        Need(TimeLimit is null || TimeLimit > TimeSpan.Zero, $"The time limit must be a positive time or none, not {TimeLimit}.");
        Need(CheckpointInterval is null || CheckpointInterval > TimeSpan.Zero, $"The checkpoint interval must be a positive time or none, not {CheckpointInterval}.");
        Need(CheckpointEvery >= 0, $"Checkpoint every N steps needs N of 0 (at every evaluation) or more, not {CheckpointEvery}.");
        return problems;
    }

    /// <summary>Throws with every problem listed when the options are not valid.</summary>
    /// <exception cref="ArgumentException">At least one option is out of range.</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid training options:\n  " + string.Join("\n  ", problems));
        }
    }
}
