using Microsoft.CodeAnalysis;

namespace SlmGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic SlmGen reports. The catalog with examples and fixes is docs/diagnostics.md; new IDs go
/// into AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Spec = "SlmGen.Spec";
    private const string Yaml = "SlmGen.Yaml";
    private const string Budget = "SlmGen.Budget";
    private const string Advice = "SlmGen.Advice";

    // --- The declaration -------------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor ClassShape = Error(
        "SLM0001", Spec, "A model class must be a top-level, non-generic partial class",
        "'{0}' cannot be a generated model: {1}");

    public static readonly DiagnosticDescriptor Missing = Error(
        "SLM0002", Spec, "A required setting is missing",
        "{0} is missing {1}: {2}");

    public static readonly DiagnosticDescriptor OutOfRange = Error(
        "SLM0003", Spec, "A setting is out of range",
        "{0} is {1}; it must be {2}");

    public static readonly DiagnosticDescriptor HeadsDoNotDivide = Error(
        "SLM0004", Spec, "The heads do not divide the model width",
        "{0} heads do not divide the model width {1} (head dimension {2}); use a head count that divides {1}, for example {3}");

    public static readonly DiagnosticDescriptor OddRopeHeadDim = Error(
        "SLM0005", Spec, "RoPE needs an even head dimension",
        "RoPE rotates pairs of features, but the head dimension is {0} (width {1} / {2} heads); choose heads so that width / heads is even");

    public static readonly DiagnosticDescriptor PositionTableTooShort = Error(
        "SLM0006", Spec, "The context is longer than the learned position table",
        "The context is {0} tokens but the learned position table has {1} rows; make the table at least as long as the context");

    public static readonly DiagnosticDescriptor TiedWidthMismatch = Error(
        "SLM0007", Spec, "A tied LM head must see the embedding's width",
        "The LM head is tied to the token embedding ({0} wide) but its input is {1} wide; untie the head or end the stack at width {0}");

    public static readonly DiagnosticDescriptor WindowTooWide = Error(
        "SLM0008", Spec, "The flatten window is wider than the context",
        "The flatten window is {0} tokens but the context is {1}; a window can span at most the context");

    public static readonly DiagnosticDescriptor CostOverflow = Error(
        "SLM0009", Spec, "The model's costs overflow 64-bit arithmetic",
        "{0}'s {1} overflows a 64-bit count: the model is too large for SlmGen to count exactly");

    public static readonly DiagnosticDescriptor InvalidStack = Error(
        "SLM0010", Spec, "The layer stack is not valid",
        "{0}");

    public static readonly DiagnosticDescriptor DuplicateModel = Error(
        "SLM0011", Spec, "Two specs declare the same model",
        "A model named '{0}' is already declared in {1}; give one of them another name or namespace");

    public static readonly DiagnosticDescriptor Conflict = Error(
        "SLM0012", Spec, "Settings contradict each other",
        "{0}");

    public static readonly DiagnosticDescriptor KvHeadsDoNotDivide = Error(
        "SLM0017", Spec, "The key/value heads do not divide the query heads",
        "{0} key/value heads do not divide {1} query heads: each key/value head serves a whole group of query heads; use {2}");

    public static readonly DiagnosticDescriptor NoEffect = Warning(
        "SLM0018", Spec, "A setting has no effect on this model",
        "{0} has no effect: {1}");

    public static readonly DiagnosticDescriptor TokenizerVocabTooSmall = Error(
        "SLM0019", Spec, "The vocabulary is smaller than the tokenizer's",
        "The vocabulary of {0} is {1}, but the {2} tokenizer produces ids up to {3}: declare vocab of at least {4} (pad_vocab_to rounds it up)");

    public static readonly DiagnosticDescriptor GeneratorFailure = Error(
        "SLM0013", Spec, "SlmGen failed on this model",
        "SlmGen could not generate '{0}' ({1}: {2}); this is a bug in SlmGen, please report it with the spec. The other models are generated.");

    public static readonly DiagnosticDescriptor StrayLayerAttribute = Error(
        "SLM0014", Spec, "A layer attribute on a class without [Model]",
        "[{0}] on '{1}' has no effect: the class has no [Model]; add [Model(Vocab = ..., Context = ...)] or remove the attribute");

    public static readonly DiagnosticDescriptor SplitDeclaration = Error(
        "SLM0015", Spec, "Layer attributes on another part of a partial class than [Model]",
        "[{0}] is on a different declaration of '{1}' than [Model]; put every SlmGen attribute on the declaration that carries [Model] (their order there is the order of the layers)");

    public static readonly DiagnosticDescriptor MemberClash = Error(
        "SLM0016", Spec, "A member of the model class clashes with a generated member",
        "'{0}' declares '{1}', which SlmGen generates for this model; rename or remove it");

    // --- YAML -------------------------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor YamlSyntax = Error(
        "SLM0020", Yaml, "The YAML spec is malformed",
        "The YAML spec cannot be read: {0}");

    public static readonly DiagnosticDescriptor YamlUnknownKey = Error(
        "SLM0021", Yaml, "Unknown key in a YAML spec",
        "Unknown key '{0}' in {1}{3}; expected one of: {2}");

    public static readonly DiagnosticDescriptor YamlWrongType = Error(
        "SLM0022", Yaml, "A YAML value has the wrong type",
        "'{0}' expects {1}, not {2}");

    public static readonly DiagnosticDescriptor YamlUnknownValue = Error(
        "SLM0023", Yaml, "Unknown name in a YAML spec",
        "Unknown {0} '{1}'{3}; expected one of: {2}");

    public static readonly DiagnosticDescriptor InvalidName = Error(
        "SLM0024", Spec, "A model or namespace name is not a C# identifier",
        "'{0}' is not a valid C# {1} name{2}");

    public static readonly DiagnosticDescriptor GlobalNameHidden = Error(
        "SLM0025", Spec, "Generated code cannot reach a namespace it needs",
        "No model is generated: {0}");

    // --- Budgets (warnings) ----------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor OverParameters = Warning(
        "SLM0100", Budget, "The model has more parameters than its budget",
        "{0} has {1} parameters, {2}x its budget of {3}; {4}");

    public static readonly DiagnosticDescriptor OverForwardFlops = Warning(
        "SLM0101", Budget, "The model needs more forward FLOPs per token than its budget",
        "{0} needs {1} forward FLOPs per token, {2}x its budget of {3}; {4}");

    public static readonly DiagnosticDescriptor OverTrainingFlops = Warning(
        "SLM0102", Budget, "Training the model costs more FLOPs than its budget",
        "{0} needs {1} FLOPs to train on {2} tokens, {3}x its budget of {4}; {5}");

    public static readonly DiagnosticDescriptor OverWeightBytes = Warning(
        "SLM0103", Budget, "The model's weights are larger than their budget",
        "{0}'s weights take {1} bytes {2}, {3}x the budget of {4}; {5}");

    public static readonly DiagnosticDescriptor OverKvCache = Warning(
        "SLM0104", Budget, "The model's KV cache is larger than its budget",
        "{0}'s KV cache for a full context of {1} tokens takes {2} bytes in bf16, {3}x the budget of {4}; {5}");

    public static readonly DiagnosticDescriptor BadProjectBudget = Warning(
        "SLM0105", Budget, "An MSBuild budget property is not a number",
        "The MSBuild property {0} is '{1}', which is not a positive number (examples: 12000000, 12M, 1e15); it is ignored");

    public static readonly DiagnosticDescriptor TrainingBudgetWithoutTokens = Warning(
        "SLM0106", Budget, "A training-FLOP budget needs the training length",
        "{0} has a training budget (FLOPs or time) but no training length in tokens, so it cannot be checked; set training_tokens (or training_characters)");

    public static readonly DiagnosticDescriptor OverArtifactBytes = Error(
        "SLM0107", Budget, "The model's artifact is larger than its cap",
        "{0}'s artifact takes {1} bytes at its precision plan ({2}), {3}x the cap of {4} bytes; the largest tensors: {5}. {6}");

    public static readonly DiagnosticDescriptor OverTrainingTime = Warning(
        "SLM0108", Budget, "Training the model takes longer than its time budget",
        "{0}'s training run of {1} tokens takes {2} on {3} ({4} steps of {5} windows at {6} ms a step, predicted), {7}x its budget of {8}; {9}");

    public static readonly DiagnosticDescriptor OverDecodeLatency = Warning(
        "SLM0109", Budget, "Decoding a token takes longer than its latency budget",
        "{0} decodes a token in {1} ms after {2} cached positions at batch 1 on {3} (predicted), {4}x its budget of {5} ms; {6}");

    public static readonly DiagnosticDescriptor BadDeviceProfile = Warning(
        "SLM0110", Budget, "A time budget cannot be checked",
        "The device profile {0} cannot be used: {1}; time budgets are not checked (write one with slmgen calibrate and set SlmGenDeviceProfile to it)");

    public static readonly DiagnosticDescriptor BadProjectSwitch = Warning(
        "SLM0111", Budget, "An MSBuild switch property is not true or false",
        "The MSBuild property {0} is '{1}', which is not true or false; it is taken as {2}");

    // --- Advice (info) ---------------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor EmbeddingHeavy = Info(
        "SLM0200", Advice, "Embedding and LM head hold most of the parameters",
        "{0}: the token embedding and the LM head's own matrix hold {1} of {2} parameters ({3}); {4}");

    public static readonly DiagnosticDescriptor AttentionDominates = Info(
        "SLM0201", Advice, "Attention scores dominate the forward pass",
        "{0}: the T×T attention products take {1} of the forward FLOPs at context {2}; the sequence length, not the width, is the bottleneck");

    public static readonly DiagnosticDescriptor TokensPerParameter = Info(
        "SLM0202", Advice, "Training length is far from ~20 tokens per parameter",
        "{0}: {1} training tokens for {2} parameters is {3} tokens per parameter, far from the compute-optimal ~20 (about {4} tokens)");

    public static readonly DiagnosticDescriptor SharedBlockCompute = Info(
        "SLM0203", Advice, "A shared block does much compute per stored byte",
        "{0}: the shared stack at {1} runs {2}x per forward pass, {3} FLOPs per token for every stored weight byte; reuse trades memory for compute");

    public static readonly DiagnosticDescriptor UnfusedHeadSize = Info(
        "SLM0204", Advice, "Attention heads of this size miss PyTorch's fused kernels",
        "{0}: the heads of {1} are {2} wide; PyTorch's fused attention kernels (flash, memory-efficient) take multiples of 8 (4 in fp32 on CUDA), so attention runs on the slower math path{3}; {4}");

    public static readonly DiagnosticDescriptor KvCacheDominates = Info(
        "SLM0205", Advice, "The KV cache outweighs the weights at the declared context",
        "{0}: at its context of {1} tokens the KV cache takes {2} bytes in bf16, {3}x the weights' {4}; {5}");

    public static readonly DiagnosticDescriptor LogitsDominate = Info(
        "SLM0206", Advice, "The logits dominate activation memory",
        "{0}: the logits of one sequence ({1} positions × {2} tokens) take {3} in fp32, {4} of its training activations, and the loss keeps as much again; a chunked loss (TrainingOptions.LossChunk, slmgen train --loss-chunk) keeps one chunk's, or a smaller vocabulary shrinks them");

    public static readonly DiagnosticDescriptor TimeDisagreesWithFlops = Info(
        "SLM0207", Advice, "Time and FLOPs disagree about what a component costs",
        "On {0}, {1}'s {2} holds {3} of the training FLOPs but takes {4} of a step's predicted time at batch {5} ({6}-bound); {7} takes the most time ({8}, {9}-bound): weigh changes by time here, not by FLOPs");

    private static DiagnosticDescriptor Error(string id, string category, string title, string message) =>
        new(id, title, message, category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string category, string title, string message) =>
        new(id, title, message, category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    private static DiagnosticDescriptor Info(string id, string category, string title, string message) =>
        new(id, title, message, category, DiagnosticSeverity.Info, isEnabledByDefault: true);
}
