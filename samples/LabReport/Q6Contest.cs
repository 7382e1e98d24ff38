using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace SlmGen.Samples.LabReport;

/// <summary>
/// The capped contest's table (results/lab2/PROTOCOL.md Q6): every entry tried, from the records of every <c>q6-*</c>
/// sweep — the build's stated artifact bytes against the written file (with its tokenizer) and its compressed size
/// against the 4,000,000-byte cap, the training it got (steps, seconds, how the step ran) and its scores after the
/// round trip (the shipped weights: the validation-selected ones) beside the final weights' — ranked by the validation
/// score after the round trip, the contest's selection rule (the test split only reports).
/// </summary>
public static class Q6Contest
{
    /// <summary>The contest's cap on the shipped file (weights + tokenizer, compressed), in bytes.</summary>
    public const long Cap = 4_000_000;

    /// <summary>Appends the section when a <c>q6-*</c> sweep has finished runs; returns whether it did.</summary>
    public static bool Write(string records, StringBuilder text)
    {
        var entries = new List<Entry>();
        foreach (var sweep in Directory.GetDirectories(records, "q6-*").OrderBy(d => d, StringComparer.Ordinal))
        {
            var index = Path.Combine(sweep, "results.jsonl");
            if (!File.Exists(index))
            {
                continue;
            }

            foreach (var line in File.ReadLines(index).Where(l => l.Length > 0))
            {
                using var point = JsonDocument.Parse(line);
                var p = point.RootElement;
                var number = p.GetProperty("point").GetInt32();
                var values = p.GetProperty("values");
                // The entry's name: the grid's where it names entries, else the model's without the sweep's point suffix.
                var name = values.TryGetProperty("name", out var n) ? n.GetString()! : System.Text.RegularExpressions.Regex.Replace(p.GetProperty("model").GetString()!, "_P[0-9]+$", string.Empty);
                // What the point sets besides the entry's own design (the finals' dropout, a rate): shown beside its name.
                var extra = string.Join(", ", values.EnumerateObject()
                    .Where(v => v.Name is not "name" and not "vocab" and not "tokenizer" and not "embedding" && !v.Name.StartsWith("layers.", StringComparison.Ordinal)
                                && !v.Name.StartsWith("quantization.", StringComparison.Ordinal) && !v.Name.StartsWith("budget.", StringComparison.Ordinal))
                    .Select(v => $"{v.Name} {v.Value}"));
                var train = p.GetProperty("train");
                var graphed = train.TryGetProperty("cuda_graphs", out var cg) && cg.GetString() == "true";
                var predictedMs = Predicted(Path.Combine(Path.GetDirectoryName(records)!, "predictions", Path.GetFileName(sweep) + "-time.jsonl"), number, graphed);
                var optimizer = train.TryGetProperty("optimizer", out var o) ? o.GetString()! : "adamw";
                foreach (var result in Directory.Exists(Path.Combine(sweep, $"p{number:000}"))
                             ? Directory.GetFiles(Path.Combine(sweep, $"p{number:000}"), "result.json", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal)
                             : Enumerable.Empty<string>())
                {
                    using var doc = JsonDocument.Parse(File.ReadAllText(result));
                    entries.Add(new Entry(Path.GetFileName(sweep), extra.Length > 0 ? $"{name} ({extra})" : name, optimizer, predictedMs, doc.RootElement.Clone()));
                }
            }
        }

        if (entries.Count == 0)
        {
            return false;
        }

        var ic = CultureInfo.InvariantCulture;
        text.AppendLine("## Q6: the capped contest — every entry tried");
        text.AppendLine();
        text.AppendLine(ic, $"Cap: {Cap:N0} bytes for the shipped file (weights + tokenizer, compressed). \"stated\" is the build's artifact size before the");
        text.AppendLine("tokenizer (exact, known before training; each spec's `max_artifact_bytes` is the cap less its tokenizer's entry, so the build");
        text.AppendLine("refuses an entry that could exceed it); \"written\" the file with its tokenizer before compression (the run's own check:");
        text.AppendLine("equal to the build's prediction with the tokenizer), \"zstd\" the file shipped. Scores: test bits per byte after the round");
        text.AppendLine("trip of the shipped weights (validation-selected), the validation score after the round trip (the ranking), and the final");
        text.AppendLine("weights' test score before quantisation. Ranked by validation after the round trip. \"predicted ms\" is the build's time model");
        text.AppendLine("for the run's step (`predictions/<sweep>-time.jsonl`, scripts/lab2-time-predictions.sh: profiles/h100.json at batch 32 with the");
        text.AppendLine("run's EMA, graphed where the run was; AdamW's listing — Muon's Newton–Schulz products are not in it); the measured ms compare");
        text.AppendLine("with it only where the run had the GPU alone (the finals; the screening's six runs shared it).");
        text.AppendLine();
        text.AppendLine("| sweep | entry | optimizer | seed | parameters | stated bytes | written = predicted | zstd file bytes | under the cap | steps (graphed) | training s (no evaluations) | ms / step | predicted ms / step | best step | validation after round trip | **test after round trip** | test, final weights (before quantising) |");
        text.AppendLine("|---|---|---|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var e in entries.OrderBy(e => e.Number("validation_bits_per_byte_artifact")))
        {
            var written = e.Number("artifact_bytes");
            var predicted = e.Number("artifact_bytes_predicted");
            var file = e.Number("artifact_file_bytes");
            var steps = e.Number("steps");
            // Training time without the evaluations (the contest's clock, `time_limit`): recorded since session 14, else
            // the tokens trained over the run's own tokens/s (which excludes the evaluations).
            var seconds = e.Number("training_seconds") is var t && double.IsFinite(t) ? t : steps * e.Number("batch") * e.Number("context") / e.Number("tokens_per_second");
            text.AppendLine(ic,
                $"| {e.Sweep} | {e.Name} | {e.Optimizer} | {e.Number("seed"):0} | {e.Number("parameters"):N0} | {e.Number("artifact_bytes_stated"):N0} | {written:N0} {(written == predicted ? "= predicted" : $"≠ {predicted:N0}")} | {file:N0} | "
                + $"{(file <= Cap && written <= Cap ? "yes" : "**no**")} | {steps:N0} ({e.Number("cuda_graph_steps"):N0}) | {seconds:0.0} | {1000 * seconds / steps:0.00} | {(double.IsFinite(e.PredictedMs) ? e.PredictedMs.ToString("0.00", ic) : "–")} | {e.Number("best_step"):N0} | "
                + $"{e.Number("validation_bits_per_byte_artifact"):0.0000} | **{e.Number("test_bits_per_byte_artifact"):0.0000}** | {e.Number("final_test_bits_per_byte"):0.0000} |");
        }

        text.AppendLine();
        return true;
    }

    /// <summary>The time model's ms per step for a point (graphed or eager as the run was), from the sweep's predictions file; NaN without one.</summary>
    private static double Predicted(string file, int point, bool graphed)
    {
        if (!File.Exists(file))
        {
            return double.NaN;
        }

        foreach (var line in File.ReadLines(file).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("point").GetInt32() == point)
            {
                return doc.RootElement.GetProperty("time").GetProperty(graphed ? "graphedMsPerStep" : "eagerMsPerStep").GetDouble();
            }
        }

        return double.NaN;
    }

    private sealed record Entry(string Sweep, string Name, string Optimizer, double PredictedMs, JsonElement Result)
    {
        public double Number(string field) => Result.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
    }
}
