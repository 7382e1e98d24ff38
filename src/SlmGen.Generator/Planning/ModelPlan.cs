using System.Collections.Generic;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Planning;

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

    /// <summary>The artifact's precision plan (every part at 0 bits and fp32 when the spec declares no quantization).</summary>
    public ArtifactPlan Artifact { get; init; } = ArtifactPlan.Full;

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

            if (step is StackStep stack)
            {
                yield return stack.Field + "Plan"; // Emit.PlanLiterals.StackMember
            }
        }
    }

    /// <summary>Members every generated model declares.</summary>
    public static readonly string[] GeneratedMemberNames =
    {
        "ParameterCount", "ForwardFlopsPerToken", "TrainingFlopsPerToken", "ContextLength", "VocabularySize",
        "SpecFingerprint", "Costs", "Cost", "Fingerprint", "Logits", "WeightBytesDeclared", "ArtifactBytes", "ArtifactPlan", "EmbeddingWeightBits", "DeclaredVocab", "Tokenizer", "Features", "Head", "Loss",
        "ArchitectureJson", "Architecture", "PlanSteps", "Plan",
    };
}
