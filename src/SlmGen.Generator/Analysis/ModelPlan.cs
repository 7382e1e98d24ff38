using System.Collections.Generic;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Analysis;

/// <summary>
/// A validated spec resolved once into what the model is: every step of the forward pass with its field
/// name, input and output width, whether it runs at every position of the window, and its effective
/// settings (dropout, FFN width, biases, norms, RoPE). The cost model, the emitters, the cost doc, the
/// fingerprint and the budget analyzer read this and nothing else: none of them derives a width or a
/// default. Location-free and equatable, so that the source-output step caches across edits that only
/// move a declaration.
/// </summary>
/// <param name="PredictsEveryPosition">False for models with a flatten: one prediction per window.</param>
/// <param name="BlockApplications">Transformer block applications in one forward pass (GPT-2 init scales residual projections by it).</param>
internal sealed record ModelPlan(
    string Namespace,
    string ClassName,
    SpecSource Source,
    string SourcePath,
    int Vocab,
    int Context,
    int Width,
    InitScheme Init,
    PositionKind Positions,
    bool PredictsEveryPosition,
    int BlockApplications,
    bool Quantized,
    EquatableArray<PlanStep> Steps)
{
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    /// <summary>The vocabulary as declared; <see cref="Vocab"/> is it rounded up by pad_vocab_to.</summary>
    public int DeclaredVocab { get; init; }

    /// <summary>The declared tokenizer ("" = none).</summary>
    public string Tokenizer { get; init; } = "";

    /// <summary>Where the model was declared, in words (reports).</summary>
    public string SourceDescription => Source == SpecSource.Yaml ? SourcePath : "attributes on " + FullName;

    /// <summary>
    /// How many times a step runs per counted unit — per token for models that predict at every position
    /// (1), per prediction for flatten models: a step before the flatten runs at every one of the
    /// <see cref="Context"/> positions of the window (T), a step after it once.
    /// </summary>
    public long RunsPerUnit(PlanStep step) => PredictsEveryPosition || !step.PerPosition ? 1 : Context;

    /// <summary>Rows a step produces per sequence (activation memory): T at every position, 1 after a flatten.</summary>
    public long RowsPerSequence(PlanStep step) => step.PerPosition ? Context : 1;

    /// <summary>The names of the members the generated code declares (a user member with one of them is an error).</summary>
    public IEnumerable<string> GeneratedMembers()
    {
        foreach (var name in GeneratedMemberNames)
        {
            yield return name;
        }

        foreach (var step in Steps)
        {
            if (step.Field.Length > 0)
            {
                yield return step.Field;
            }
        }
    }

    /// <summary>Members every generated model declares.</summary>
    public static readonly string[] GeneratedMemberNames =
    {
        "ParameterCount", "ForwardFlopsPerToken", "TrainingFlopsPerToken", "ContextLength", "VocabularySize",
        "SpecFingerprint", "Costs", "Cost", "Fingerprint", "Logits", "WeightBytesDeclared", "EmbeddingWeightBits", "DeclaredVocab", "Tokenizer", "Features", "Head", "Loss",
        "ArchitectureJson", "Architecture",
    };
}

/// <summary>One step of the forward pass.</summary>
/// <param name="Field">The module field that holds it ("" for steps without one).</param>
/// <param name="InWidth">Features per row coming in.</param>
/// <param name="OutWidth">Features per row going out.</param>
/// <param name="PerPosition">True when it runs at every position of the window (before a flatten, or in a model without one).</param>
internal abstract record PlanStep(string Field, long InWidth, long OutWidth, bool PerPosition);

/// <summary>The token embedding (wte).</summary>
/// <param name="Bits">Weight precision for quantisation-aware training (0 = full).</param>
internal sealed record EmbeddingStep(string Field, long Vocab, long Dim, int Bits) : PlanStep(Field, 0, Dim, true);

/// <summary>Positions added to the embedding: a learned table of <paramref name="Rows"/>, or fixed sinusoids.</summary>
internal sealed record PositionsStep(string Field, PositionKind Kind, long Rows, long Dim) : PlanStep(Field, Dim, Dim, true);

/// <summary>Rotary positions: no module of its own, applied inside every attention layer.</summary>
internal sealed record RopeStep(double Base, long Dim) : PlanStep(string.Empty, Dim, Dim, true);

/// <summary>Dropout on the embedding output.</summary>
internal sealed record EmbeddingDropoutStep(string Field, double Probability, long Dim) : PlanStep(Field, Dim, Dim, true);

/// <summary>The last <paramref name="Window"/> positions side by side: (B, T, d) → (B, Window·d).</summary>
internal sealed record FlattenStep(string Field, long Window, long InWidth) : PlanStep(Field, InWidth, Window * InWidth, false);

/// <summary>A dense layer with its effective dropout.</summary>
internal sealed record DenseStep(string Field, long InWidth, long OutWidth, Act Activation, bool Bias, double Dropout, bool PerPosition, int Bits)
    : PlanStep(Field, InWidth, OutWidth, PerPosition);

/// <summary>
/// A stack of <paramref name="Blocks"/> distinct transformer blocks applied <paramref name="Repeat"/> times
/// with shared weights, with every effective setting resolved.
/// </summary>
internal sealed record StackStep(
    string Field,
    int LayerIndex,
    long Width,
    int Blocks,
    int Repeat,
    int Heads,
    int KvHeads,
    long HeadDim,
    long FfnHidden,
    Act Activation,
    NormKind Norm,
    bool NormBias,
    bool PreNorm,
    bool PackedQkv,
    bool AttentionBias,
    bool FfnBias,
    double Dropout,
    double FfnDropout,
    bool Rope,
    double RopeBase,
    int Context,
    int BlockRepeat,
    int LoraRank,
    EquatableArray<BlockShape> Shapes,
    int AttentionBits,
    int MlpBits)
    : PlanStep(Field, Width, Width, true)
{
    /// <summary>True when every block has the first block's shape (<see cref="Shapes"/> is then empty).</summary>
    public bool IsUniform => Shapes.Count == 0;

    /// <summary>Block <paramref name="i"/>'s shape.</summary>
    public BlockShape Shape(int i) => IsUniform ? new BlockShape(Heads, KvHeads, HeadDim, FfnHidden) : Shapes[i];

    /// <summary>Applications of each block in one forward pass: whole-stack passes × immediate repeats.</summary>
    public long ApplicationsPerBlock => (long)Repeat * BlockRepeat;

    /// <summary>LoRA adapter sets per block (one per application) when the stack has adapters.</summary>
    public long LoraSets => LoraRank > 0 ? ApplicationsPerBlock : 0;

    /// <summary>Width of q and of the attention output: heads × head size.</summary>
    public long InnerWidth => Heads * HeadDim;

    public long Applications => Blocks * ApplicationsPerBlock;
}

/// <summary>The norm before the head.</summary>
internal sealed record FinalNormStep(string Field, NormKind Kind, bool Bias, long Width, bool PerPosition) : PlanStep(Field, Width, Width, PerPosition);

/// <summary>The kinds of LM head.</summary>
internal enum HeadKind
{
    /// <summary>A full matrix of its own.</summary>
    Full,

    /// <summary>The token embedding's matrix.</summary>
    Tied,

    /// <summary>Two levels: a group of consecutive ids, then the id within it (<see cref="HeadStep.Groups"/> groups of <see cref="HeadStep.GroupSize"/>).</summary>
    Grouped,

    /// <summary>Two matrices through a bottleneck of rank r.</summary>
    Factorised,
}

/// <summary>The LM head.</summary>
/// <param name="CanTie">True when its input width equals the embedding width, so tying would be possible.</param>
/// <param name="Bits">Weight precision (a tied head: the embedding's).</param>
internal sealed record HeadStep(string Field, HeadKind Kind, long InWidth, long Rank, long Vocab, bool Bias, bool PerPosition, bool CanTie, int Bits)
    : PlanStep(Field, InWidth, Vocab, PerPosition)
{
    /// <summary>Groups of a grouped head (0 otherwise).</summary>
    public long Groups { get; init; }

    /// <summary>Ids per group of a grouped head: the vocabulary over the groups, rounded up.</summary>
    public long GroupSize => Groups > 0 ? (Vocab + Groups - 1) / Groups : 0;
}
