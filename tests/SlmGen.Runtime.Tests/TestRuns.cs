using System;
using System.IO;
using SlmGen.Data;
using SlmGen.Training;

namespace SlmGen.Runtime.Tests;

/// <summary>What the training and checkpoint tests share: the corpus, quick options and a fresh run directory.</summary>
internal static class TestRuns
{
    /// <summary>Tiny Shakespeare, the study's character split (loaded once per test process).</summary>
    public static readonly Lazy<TokenDataset> Shakespeare = new(() => Corpora.TinyShakespeare(CharSplit.Study));

    /// <summary>A short, quiet, seeded run (callers change what their test is about with <c>with</c>).</summary>
    public static TrainingOptions Quick(string? runDir, long steps) => new()
    {
        BatchSize = 2,
        Steps = steps,
        LearningRate = 3e-3,
        WarmupSteps = 2,
        EvalEvery = 3,
        Validation = EvalProtocol.RandomBatches(1),
        LogEvery = 1,
        Seed = 11,
        RunDirectory = runDir,
        Progress = false,
        TensorBoard = false,
        RestoreBest = false,
    };

    /// <summary>A new empty directory under the temporary folder.</summary>
    public static string TempDir(string prefix) => Directory.CreateTempSubdirectory(prefix).FullName;
}
