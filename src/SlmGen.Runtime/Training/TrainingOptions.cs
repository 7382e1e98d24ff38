using SlmGen.Data;

namespace SlmGen.Training;

/// <summary>How the learning rate moves over the run.</summary>
public enum Schedule
{
    /// <summary>The same rate throughout (the study's protocol).</summary>
    Constant,
    /// <summary>Linear warm-up, then a cosine decay to the minimum rate at the last step.</summary>
    WarmupCosine,
}

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

    /// <summary>Show the progress line in the terminal.</summary>
    public bool Progress { get; init; } = true;

    /// <summary>Write TensorBoard event files into the run directory.</summary>
    public bool TensorBoard { get; init; } = true;
}
