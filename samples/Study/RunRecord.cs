using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SlmGen.Samples.Study;

/// <summary>One training run as its log records it; the report is made from these files alone.</summary>
public sealed record RunRecord
{
    public string Experiment { get; init; } = "";
    public string Model { get; init; } = "";
    public string Label { get; init; } = "";
    public long Seed { get; init; }
    public string Scale { get; init; } = "full";
    public string Objective { get; init; } = "";
    public string Corpus { get; init; } = "";
    public long Parameters { get; init; }
    public int Context { get; init; }
    public int BatchSize { get; init; }
    public long Steps { get; init; }
    public long Windows { get; init; }
    public double ExactTrainingFlops { get; init; }
    public double StudyFlops { get; init; }
    public double SixNFlops { get; init; }
    public double TestNll { get; init; }
    public double BestValidationNll { get; init; }
    public long BestStep { get; init; }
    public double StudyNll { get; init; } = double.NaN;
    public double Seconds { get; init; }
    public double TokensPerSecond { get; init; }
    public string Device { get; init; } = "";
    public string Command { get; init; } = "";
    public string Commit { get; init; } = "";
    public string Timestamp { get; init; } = "";
    public List<double[]> Validation { get; init; } = new();
    public List<double[]> TrainCurve { get; init; } = new();

    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Writes the record through a temporary file and a rename (never a torn record).</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    public static RunRecord Load(string path) => JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), Json)!;
}
