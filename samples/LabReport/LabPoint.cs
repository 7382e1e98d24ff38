using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace SlmGen.Samples.LabReport;

/// <summary>One trained run of a point (one seed), from its result.json as the sweep recorded it.</summary>
public sealed record LabRun(
    long Seed,
    double TestBitsPerCharacter,
    double TestBitsPerByte,
    double ValidationBitsPerCharacter,
    long TestTokens,
    long TestCharacters,
    double ExactTrainingFlops,
    double SixNFlops,
    double WallSeconds,
    long Steps,
    string Commit,
    string Command);

/// <summary>
/// One design of an experiment (a sweep point) with its build-time costs, its runs over seeds and its step time
/// measured alone — everything a lab table row shows, read from the sweep's <c>results.jsonl</c>.
/// </summary>
public sealed record LabPoint(
    string Experiment,
    string Model,
    IReadOnlyDictionary<string, string> Values,
    string Status,
    IReadOnlyDictionary<string, string> Train,
    long Parameters,
    long TrainingFlopsPerToken,
    long WeightBytesFp32,
    long WeightBytesDeclared,
    long LogitsBytesPerSequenceFp32,
    long VocabularyParameters,
    long HeadTrainingFlopsPerToken,
    long Vocab,
    IReadOnlyList<LabRun> Runs,
    double? MillisecondsPerStep,
    double? TokensPerSecondAlone,
    double? HeadShareOfTime)
{
    /// <summary>Characters per token of the test text (the tokenizer's compression; 1 for characters).</summary>
    public double CharactersPerToken => Runs.Count == 0 ? double.NaN : Runs.Average(r => (double)r.TestCharacters / r.TestTokens);

    /// <summary>Exact training FLOPs per character of text: per token over the compression.</summary>
    public double TrainingFlopsPerCharacter => TrainingFlopsPerToken / CharactersPerToken;

    /// <summary>The embedding and head's share of the parameters (a tied head's one matrix counts once).</summary>
    public double VocabularyShareOfParameters => (double)VocabularyParameters / Parameters;

    /// <summary>The head's share of the training FLOPs per token.</summary>
    public double HeadShareOfFlops => (double)HeadTrainingFlopsPerToken / TrainingFlopsPerToken;

    /// <summary>A value of the grid (or "" when the experiment has no such field).</summary>
    public string Value(string field) => Values.TryGetValue(field, out var v) ? v : string.Empty;

    /// <summary>Reads every point of every experiment folder under <paramref name="recordsDir"/> (experiment = folder name).</summary>
    public static List<LabPoint> LoadAll(string recordsDir) =>
        Directory.GetDirectories(recordsDir).OrderBy(d => d, StringComparer.Ordinal)
            .Where(d => File.Exists(Path.Combine(d, "results.jsonl")))
            .SelectMany(d => File.ReadAllLines(Path.Combine(d, "results.jsonl")).Where(l => l.Length > 0).Select(l => Parse(Path.GetFileName(d), l)))
            .ToList();

    private static LabPoint Parse(string experiment, string line)
    {
        using var doc = JsonDocument.Parse(line);
        var p = doc.RootElement;
        var values = p.GetProperty("values").EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString() ?? string.Empty);
        var train = p.GetProperty("train").EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString() ?? string.Empty);
        var runs = new List<LabRun>();
        foreach (var run in p.GetProperty("runs").EnumerateArray())
        {
            if (run.GetProperty("result") is not { ValueKind: JsonValueKind.Object } r)
            {
                continue;
            }

            runs.Add(new LabRun(
                run.GetProperty("seed").ValueKind == JsonValueKind.Number ? run.GetProperty("seed").GetInt64() : r.GetProperty("seed").GetInt64(),
                Number(r, "test_bits_per_character"), Number(r, "test_bits_per_byte"), Number(r, "validation_bits_per_character"),
                r.TryGetProperty("test_tokens", out var tt) && tt.ValueKind == JsonValueKind.Number ? tt.GetInt64() : r.GetProperty("validation_tokens").GetInt64(),
                r.TryGetProperty("test_characters", out var tc) && tc.ValueKind == JsonValueKind.Number ? tc.GetInt64() : r.GetProperty("validation_characters").GetInt64(),
                Number(r, "exact_training_flops"), Number(r, "six_n_flops"), Number(r, "wall_seconds"), r.GetProperty("steps").GetInt64(),
                r.TryGetProperty("commit", out var c) ? c.GetString() ?? "unknown" : "unknown",
                r.TryGetProperty("command", out var cmd) ? cmd.GetString() ?? string.Empty : string.Empty));
        }

        long parameters = 0, flops = 0, fp32 = 0, declared = 0, logits = 0, vocabParams = 0, headFlops = 0, vocab = 0;
        if (p.GetProperty("costs") is { ValueKind: JsonValueKind.Object } costs)
        {
            parameters = costs.GetProperty("parameters").GetInt64();
            flops = costs.GetProperty("trainingFlopsPerToken").GetInt64();
            fp32 = costs.GetProperty("weightBytesFp32").GetInt64();
            declared = costs.GetProperty("weightBytesDeclared").GetInt64();
            logits = costs.GetProperty("logitsBytesPerSequenceFp32").GetInt64();
            vocab = costs.GetProperty("vocab").GetInt64();
            foreach (var component in costs.GetProperty("components").EnumerateArray())
            {
                var kind = component.GetProperty("kind").GetString();
                if (kind is "embedding" or "head")
                {
                    vocabParams += component.GetProperty("parameters").GetInt64();
                }

                if (kind == "head")
                {
                    headFlops += component.GetProperty("trainingFlopsPerToken").GetInt64();
                }
            }
        }

        double? ms = null, rate = null, headTime = null;
        if (p.TryGetProperty("timing", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            ms = t.GetProperty("ms_per_step").GetDouble();
            rate = t.GetProperty("tokens_per_second").GetDouble();
            headTime = t.GetProperty("head_share_of_time").GetDouble();
        }

        return new LabPoint(experiment, p.GetProperty("model").GetString()!, values, p.GetProperty("status").GetString()!, train,
            parameters, flops, fp32, declared, logits, vocabParams, headFlops, vocab, runs, ms, rate, headTime);
    }

    private static double Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
}
