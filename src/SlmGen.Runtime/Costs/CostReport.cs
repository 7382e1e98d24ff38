using System.Collections.Generic;
using System.Text.Json;

namespace SlmGen;

/// <summary>
/// The cost report the build writes (<c>obj/…/slmgen-costs.json</c>, <c>slmgen costs --json</c>), read with
/// System.Text.Json into typed records: what the command line prints and checks, with no property looked up by name.
/// </summary>
/// <param name="Generator">The generator that wrote it.</param>
/// <param name="Models">Every model of the project or spec files.</param>
public sealed record CostReport(string Generator, IReadOnlyList<CostReportModel> Models)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true };

    /// <summary>Reads a report.</summary>
    /// <exception cref="JsonException">The text is not a cost report.</exception>
    public static CostReport Parse(string json) => JsonSerializer.Deserialize<CostReport>(json, Options) ?? throw new JsonException("an empty cost report");
}

/// <summary>One model of a cost report (the figures as the generated <c>ModelCost</c> has them; see docs/costs.md).</summary>
/// <param name="Name">The model's class name.</param>
/// <param name="Source">Where it was declared.</param>
/// <param name="Vocab">Vocabulary (padded).</param>
/// <param name="Context">Tokens per window.</param>
/// <param name="Width">Embedding width.</param>
/// <param name="PredictsEveryPosition">False for models that predict once per window.</param>
/// <param name="Parameters">Trainable parameters.</param>
/// <param name="ForwardFlopsPerToken">Forward FLOPs per token.</param>
/// <param name="TrainingFlopsPerToken">Training FLOPs per token.</param>
/// <param name="SixNFlopsPerToken">6 × parameters.</param>
/// <param name="WeightBytesFp32">Weight bytes in fp32.</param>
/// <param name="WeightBytesBf16">Weight bytes in bf16.</param>
/// <param name="WeightBytesDeclared">Weight bytes at the declared precision.</param>
/// <param name="AdamWStateBytes">AdamW's two moments in fp32.</param>
/// <param name="KvCacheBytesPerTokenBf16">KV cache bytes per token in bf16.</param>
/// <param name="ActivationBytesPerSequenceFp32">Activation bytes per sequence in fp32 (an estimate).</param>
/// <param name="LogitsBytesPerSequenceFp32">Of which the logits.</param>
/// <param name="LogitsBytesPerSequenceBf16">The logits in bf16.</param>
/// <param name="LossBytesPerSequenceFp32">What the loss keeps besides.</param>
/// <param name="Components">The cost per component.</param>
/// <param name="Budget">The declared budgets and where the model stands.</param>
public sealed record CostReportModel(
    string Name,
    string Source,
    long Vocab,
    long Context,
    long Width,
    bool PredictsEveryPosition,
    long Parameters,
    long ForwardFlopsPerToken,
    long TrainingFlopsPerToken,
    long SixNFlopsPerToken,
    long WeightBytesFp32,
    long WeightBytesBf16,
    long WeightBytesDeclared,
    long AdamWStateBytes,
    long KvCacheBytesPerTokenBf16,
    long ActivationBytesPerSequenceFp32,
    long LogitsBytesPerSequenceFp32,
    long LogitsBytesPerSequenceBf16,
    long LossBytesPerSequenceFp32,
    IReadOnlyList<CostReportComponent> Components,
    IReadOnlyList<BudgetLine> Budget)
{
    /// <summary>Bytes of the artifact file at the precision plan, exact, before its tokenizer (0 in reports written before it).</summary>
    public long ArtifactBytes { get; init; }

    /// <summary>The precision plan in words.</summary>
    public string? ArtifactPlan { get; init; }
}

/// <summary>One component's cost in a report.</summary>
/// <param name="Name">As in the generated module.</param>
/// <param name="Kind">embedding, positions, attention, mlp, norm, head, lora, ...</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="ForwardFlopsPerToken">Its forward FLOPs per token.</param>
/// <param name="TrainingFlopsPerToken">Its training FLOPs per token.</param>
public sealed record CostReportComponent(string Name, string Kind, long Parameters, long ForwardFlopsPerToken, long TrainingFlopsPerToken);

/// <summary>One declared budget.</summary>
/// <param name="Metric">What is limited (training_flops, parameters, ...).</param>
/// <param name="Value">The model's figure.</param>
/// <param name="Limit">The limit.</param>
/// <param name="Ratio">Value over limit.</param>
/// <param name="Over">True when the model is over it.</param>
public sealed record BudgetLine(string Metric, double Value, double Limit, double Ratio, bool Over);
