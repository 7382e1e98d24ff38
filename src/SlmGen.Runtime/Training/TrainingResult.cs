using System.Collections.Generic;

namespace SlmGen.Training;

/// <summary>A logged point of the training curve.</summary>
/// <param name="Step">Step reached.</param>
/// <param name="TrainLoss">Mean training loss since the previous point.</param>
/// <param name="LearningRate">Learning rate at the step.</param>
/// <param name="Elapsed">Seconds since the start of training.</param>
public sealed record CurvePoint(long Step, double TrainLoss, double LearningRate, double Elapsed);

/// <summary>A validation point.</summary>
public sealed record ValidationPoint(long Step, double Nll, double Elapsed);

/// <summary>What a run did and cost.</summary>
public sealed record TrainingResult
{
    /// <summary>Steps taken by this call (a resumed run's earlier calls not included: <see cref="FirstStep"/>).</summary>
    public long Steps { get; init; }

    /// <summary>The step this call started from: 0 for a fresh run, the checkpoint's step for a resumed one.</summary>
    public long FirstStep { get; init; }

    /// <summary>The step the run has reached: its steps over every call (<see cref="FirstStep"/> + <see cref="Steps"/>).</summary>
    public long LastStep => FirstStep + Steps;

    /// <summary>Input tokens the run has processed over every call, a resumed run's earlier calls included.</summary>
    public long RunInputTokens { get; init; }

    /// <summary>Training FLOPs by SlmGen's exact count over every call of the run, a resumed run's earlier calls included.</summary>
    public double RunExactTrainingFlops { get; init; }

    /// <summary>The 6·N approximation over every call of the run.</summary>
    public double RunSixNFlops { get; init; }

    /// <summary>Windows (sequences) trained on.</summary>
    public long Windows { get; init; }

    /// <summary>Tokens the loss was computed on (B·T per step at every position, B per step for the last position).</summary>
    public long PredictedTokens { get; init; }

    /// <summary>Input tokens processed by this call (windows × context).</summary>
    public long InputTokens { get; init; }

    /// <summary>Wall time of the training loop in seconds (evaluations included).</summary>
    public double Seconds { get; init; }

    /// <summary>Seconds spent in evaluations.</summary>
    public double EvalSeconds { get; init; }

    /// <summary>
    /// The training clock the time limit reads (<see cref="TrainingOptions.TimeLimit"/>): the run's training seconds,
    /// earlier segments of a resumed run included, evaluations excluded, checkpoint saves included.
    /// </summary>
    public double TrainingSeconds { get; init; }

    /// <summary>Training FLOPs of this call by SlmGen's exact count (compile-time cost per window × windows).</summary>
    public double ExactTrainingFlops { get; init; }

    /// <summary>The 6·N approximation: 6 × parameters × input tokens.</summary>
    public double SixNFlops { get; init; }

    /// <summary>The study's count: 2 × parameters × input tokens.</summary>
    public double TwoNFlops { get; init; }

    /// <summary>Best validation NLL and its step.</summary>
    public ValidationPoint? Best { get; init; }

    /// <summary>The training curve.</summary>
    public IReadOnlyList<CurvePoint> Curve { get; init; } = new List<CurvePoint>();

    /// <summary>Validation points.</summary>
    public IReadOnlyList<ValidationPoint> Validation { get; init; } = new List<ValidationPoint>();

    /// <summary>Whether early stopping ended the run.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>Whether the run was cancelled (a stop signal, a time limit) before its last step; <see cref="Checkpoint"/> holds the step it reached.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Steps this call ran through the CUDA-graph path (its warm-up and replays); 0 when the step ran eagerly.</summary>
    public long GraphedSteps { get; init; }

    /// <summary>Whether SlmGen's fused CUDA kernels were on for this run's device (libslmgen_native built with nvcc, not turned off).</summary>
    public bool FusedKernels { get; init; }

    /// <summary>The resumable checkpoint that holds the last completed step (null without a run directory).</summary>
    public string? Checkpoint { get; init; }

    /// <summary>The best-validation checkpoint, when an evaluation has written one (null otherwise).</summary>
    public string? BestCheckpoint { get; init; }

    /// <summary>Training-loop tokens per second (input tokens over the time outside evaluations).</summary>
    public double TokensPerSecond => Seconds - EvalSeconds > 0 ? InputTokens / (Seconds - EvalSeconds) : 0;

    /// <summary>Achieved FLOP/s by the exact count (time outside evaluations).</summary>
    public double FlopsPerSecond => Seconds - EvalSeconds > 0 ? ExactTrainingFlops / (Seconds - EvalSeconds) : 0;
}
