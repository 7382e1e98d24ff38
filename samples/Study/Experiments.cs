using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Data;
using SlmGen.Training;

namespace SlmGen.Samples.Study;

/// <summary>Which data an experiment uses.</summary>
public enum Corpus
{
    /// <summary>Tiny Shakespeare, characters, the study's 80/10/10 split.</summary>
    Shakespeare,
    /// <summary>Penn Treebank, words, the study's whitespace vocabulary.</summary>
    PennTreebank,
    /// <summary>WikiText-2, words, the study's whitespace vocabulary.</summary>
    WikiText2,
}

/// <summary>One training recipe (the study's protocol or one of ours).</summary>
/// <param name="Epochs">Epochs of <paramref name="WindowsPerEpoch"/> windows (0 windows = every window of the training tokens once, shuffled).</param>
/// <param name="EvalWindows">Validation and test windows (the first N, stride 1; 0 = every window of the evaluation tokens).</param>
/// <param name="TrainTokens">Train on the first N tokens (0 = all).</param>
/// <param name="EvalTokens">Validate and test on the first N tokens of each split (0 = all).</param>
/// <param name="Objective">The study's last-position loss, or the standard every-position loss.</param>
/// <param name="FlopBudget">When set, train for as many steps as this many exact training FLOPs buy (overrides epochs).</param>
public sealed record Recipe(
    Corpus Corpus,
    int Epochs,
    int WindowsPerEpoch,
    int BatchSize,
    int EvalWindows,
    int TrainTokens = 0,
    int EvalTokens = 0,
    Objective Objective = Objective.LastPosition,
    double FlopBudget = 0,
    double LearningRate = 3e-4)
{
    /// <summary>The study's optimizer: Adam, lr 3e-4, no schedule, no weight decay, no clipping.</summary>
    public static AdamWSettings StudyAdam { get; } = new(0.9, 0.999, 1e-8, WeightDecay: 0, GradientClip: 0);
}

/// <summary>A model in an experiment, with the study's published test NLL (NaN where it has none).</summary>
public sealed record Entry(string Model, string Label, double StudyNll);

/// <summary>An experiment: models trained with one recipe and compared.</summary>
public sealed record Experiment(string Name, string Description, Recipe Recipe, IReadOnlyList<Entry> Entries);

/// <summary>The study's experiments and ours, as data.</summary>
public static class Experiments
{
    /// <summary>The study's seed; further seeds count up from it.</summary>
    public const long StudySeed = 689;

    private static readonly Recipe Ladder3 = new(Corpus.Shakespeare, 3, 50_000, 64, 10_000);
    private static readonly Recipe Ladder4 = new(Corpus.Shakespeare, 4, 50_000, 64, 10_000);
    private static readonly Recipe Sweep = new(Corpus.Shakespeare, 2, 30_000, 64, 5_000);

    /// <summary>Every experiment, study first.</summary>
    public static IReadOnlyList<Experiment> All { get; } = new List<Experiment>
    {
        new("ladder-linear", "Linear predictor over the flattened 128-character window (3 epochs)", Ladder3,
            new[] { new Entry("CharLinear", "linear", 3.0549) }),
        new("ladder-mlp", "MLP, two ReLU layers of 256 (3 epochs)", Ladder3,
            new[] { new Entry("CharMlp", "MLP", 2.3222) }),
        new("ladder-attention", "One post-LN attention block, 4 heads (4 epochs)", Ladder4,
            new[] { new Entry("CharAttention", "single attention", 2.1335) }),
        new("ladder-transformer", "Three post-LN transformer blocks (4 epochs)", Ladder4,
            new[] { new Entry("CharTransformer", "3-layer transformer", 2.0058) }),
        new("sweep-linear-context", "Linear predictor, context 32/64/128 (2 epochs of 30,000 windows)", Sweep,
            new[] { new Entry("CharLinearCtx32", "context 32", 2.5135), new Entry("CharLinearCtx64", "context 64", 2.7006), new Entry("CharLinear", "context 128", 3.0496) }),
        new("sweep-mlp-hidden", "MLP hidden width 128/256/512", Sweep,
            new[] { new Entry("CharMlpH128", "hidden 128", 2.5482), new Entry("CharMlp", "hidden 256", 2.5115), new Entry("CharMlpH512", "hidden 512", 2.5002) }),
        new("sweep-attention-heads", "Single attention block, 1/2/4 heads", Sweep,
            new[] { new Entry("CharAttentionH1", "1 head", 2.3482), new Entry("CharAttentionH2", "2 heads", 2.4033), new Entry("CharAttention", "4 heads", 2.3055) }),
        new("sweep-transformer-layers", "Transformer, 2/3/4 layers", Sweep,
            new[] { new Entry("CharTransformerL2", "2 layers", 2.3034), new Entry("CharTransformer", "3 layers", 2.2795), new Entry("CharTransformerL4", "4 layers", 2.3078) }),
        new("rope", "RoPE (pre-LN, separate q/k/v) vs learned positions, 3 layers, 8 epochs", Ladder4 with { Epochs = 8 },
            new[] { new Entry("CharTransformerRope", "RoPE", 2.0096), new Entry("CharTransformer", "learned (the study's transformer)", 1.9738), new Entry("CharTransformerPrenorm", "learned, pre-LN, separate q/k/v (ablation)", double.NaN) }),
        new("words-ptb", "3-layer word transformer on Penn Treebank (context 64, 8 epochs on the first 80,000 tokens)",
            new Recipe(Corpus.PennTreebank, 8, 0, 32, 0, TrainTokens: 80_000, EvalTokens: 20_000),
            new[] { new Entry("WordTransformerPtb", "PTB", 6.1896) }),
        new("words-wikitext2", "3-layer word transformer on WikiText-2 (context 64, 8 epochs on the first 80,000 tokens)",
            new Recipe(Corpus.WikiText2, 8, 0, 32, 0, TrainTokens: 80_000, EvalTokens: 20_000),
            new[] { new Entry("WordTransformerWikiText2", "WikiText-2", 6.8875) }),

        // Beyond the study.
        new("every-position", "The ladder's attention and transformer models with the next-token loss at every position, at the exact training FLOPs of their study runs",
            Ladder4 with { Objective = Objective.EveryPosition },
            new[] { new Entry("CharAttention", "single attention", double.NaN), new Entry("CharTransformer", "3-layer transformer", double.NaN) }),
        new("equal-flops", "The whole ladder at one exact training-FLOP budget (1e13 FLOPs), every-position loss where the model allows it",
            Ladder4 with { Objective = Objective.EveryPosition },
            new[] { new Entry("CharLinear", "linear", double.NaN), new Entry("CharMlp", "MLP", double.NaN), new Entry("CharAttention", "single attention", double.NaN), new Entry("CharTransformer", "3-layer transformer", double.NaN) }),
        new("levers", "The compact-model levers train: grouped-query attention, layer-wise scaling, block-wise sharing, a shared block with per-application LoRA, quantisation-aware training (specs/levers/; every-position loss, 4 epochs, lr 1e-3)",
            Ladder4 with { Objective = Objective.EveryPosition, LearningRate = 1e-3 },
            new[] { new Entry("LeverGqa", "grouped-query attention", double.NaN), new Entry("LeverLayerwise", "layer-wise scaling", double.NaN), new Entry("LeverBlockShared", "block-wise sharing", double.NaN), new Entry("LeverSharedLora", "shared block + LoRA", double.NaN), new Entry("LeverQat", "4-bit QAT (8-bit embedding)", double.NaN) }),
    };

    /// <summary>The experiments the study ran.</summary>
    public static IEnumerable<Experiment> Study => All.Where(e => e.Name is not ("every-position" or "equal-flops" or "levers"));

    /// <summary>Finds an experiment by name.</summary>
    public static Experiment Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No experiment '{name}'. Known: {string.Join(", ", All.Select(e => e.Name))}.");

    /// <summary>Loads an experiment's data as the study built it.</summary>
    public static TokenDataset Load(Corpus corpus) => corpus switch
    {
        Corpus.Shakespeare => Corpora.TinyShakespeare(CharSplit.Study),
        Corpus.PennTreebank => Corpora.PennTreebank(WordVocabulary.StudyWhitespace),
        _ => Corpora.WikiText2(WordVocabulary.StudyWhitespace),
    };
}
