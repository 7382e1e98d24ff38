using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace SlmGen.Samples.LabReport;

/// <summary>One design against the baseline: the seed-matched difference of a metric and what it supports.</summary>
/// <param name="Values">The design's grid values, by key.</param>
/// <param name="Seeds">Seeds both the design and the baseline ran.</param>
/// <param name="Mean">The design's mean of the metric over those seeds.</param>
/// <param name="Difference">design − baseline: the paired interval at the family's simultaneous level.</param>
/// <param name="HolmP">Holm-adjusted p-value within the family.</param>
/// <param name="Detectable">The smallest difference these seeds detect (80 % power, two-sided 5 %) at the differences' sd.</param>
/// <param name="Verdict">better, worse, equivalent within the margin, or inconclusive.</param>
public sealed record Comparison(IReadOnlyDictionary<string, string> Values, IReadOnlyList<long> Seeds, double Mean, Difference Difference, double HolmP, double Detectable, string Verdict);

/// <summary>
/// The second lab's comparisons (results/lab2/PROTOCOL.md §5) read from a seed sweep's records: every design against
/// one baseline on the seeds both ran (paired t), intervals at the Bonferroni level of the family, p-values adjusted
/// by Holm, and — where neither is shown better — equivalence within a stated margin or the difference these seeds
/// could have detected. Lower is better (bits per byte or character).
/// </summary>
public static class LabComparison
{
    /// <summary>Compares the designs of the sweep whose records are in <paramref name="records"/> (its <c>out</c> folder) with the one matching <paramref name="baseline"/>.</summary>
    /// <exception cref="InvalidDataException">No records, a baseline that matches no design or several, or a design with fewer than two seeds in common with it.</exception>
    public static IReadOnlyList<Comparison> Compare(string records, IReadOnlyDictionary<string, string> baseline, string metric = "test_bits_per_byte", double margin = 0.01)
    {
        var designs = Read(records, metric);
        var matches = designs.Where(d => baseline.All(b => d.Values.TryGetValue(b.Key, out var v) && v == b.Value)).ToList();
        if (matches.Count != 1)
        {
            throw new InvalidDataException($"{records}: the baseline {string.Join(", ", baseline.Select(b => $"{b.Key}={b.Value}"))} matches {matches.Count} designs; it must match one "
                + $"(designs: {string.Join("; ", designs.Select(d => Describe(d.Values)))}).");
        }

        var reference = matches[0];
        var others = designs.Where(d => !ReferenceEquals(d, reference)).ToList();
        var level = PairedStatistics.SimultaneousLevel(others.Count);
        var raw = new List<(Design Design, List<long> Seeds, Difference Difference, double Detectable)>();
        foreach (var d in others)
        {
            var seeds = d.Scores.Keys.Intersect(reference.Scores.Keys).OrderBy(s => s).ToList();
            if (seeds.Count < 2)
            {
                throw new InvalidDataException($"{records}: {Describe(d.Values)} shares {seeds.Count} seed(s) with the baseline; a paired comparison needs at least 2.");
            }

            var a = seeds.Select(s => d.Scores[s]).ToList();
            var b = seeds.Select(s => reference.Scores[s]).ToList();
            var (_, sd) = PairedStatistics.MeanSd(a.Zip(b, (x, y) => x - y).ToList());
            raw.Add((d, seeds, PairedStatistics.Paired(a, b, level), PairedStatistics.MinimumDetectable(sd, seeds.Count)));
        }

        var holm = PairedStatistics.Holm(raw.Select(r => r.Difference.P).ToList());
        return raw.Select((r, i) => new Comparison(r.Design.Values, r.Seeds, r.Seeds.Average(s => r.Design.Scores[s]), r.Difference, holm[i], r.Detectable,
            Verdict(r.Difference, holm[i], margin, r.Detectable))).ToList();
    }

    /// <summary>The comparisons as a Markdown table, with the baseline and the family's level stated above it.</summary>
    public static string Markdown(IReadOnlyList<Comparison> rows, IReadOnlyDictionary<string, string> baseline, string metric, double margin)
    {
        var text = new StringBuilder();
        var level = rows.Count == 0 ? 0.95 : rows[0].Difference.Confidence;
        text.AppendLine(CultureInfo.InvariantCulture, $"Baseline: {Describe(baseline)}; metric: {metric} (lower is better); paired by seed; intervals at {level:P2} (Bonferroni over {rows.Count}), p-values Holm-adjusted; equivalence margin ±{margin:0.####}.");
        text.AppendLine();
        text.AppendLine("| design | seeds | mean | difference | interval | p (Holm) | detectable | verdict |");
        text.AppendLine("|---|---:|---:|---:|---|---:|---:|---|");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {Describe(r.Values)} | {r.Seeds.Count} | {r.Mean:0.0000} | {r.Difference.Mean:+0.0000;-0.0000} | [{r.Difference.Low:+0.0000;-0.0000}, {r.Difference.High:+0.0000;-0.0000}] | {r.HolmP:0.###} | {r.Detectable:0.0000} | {r.Verdict} |");
        }

        return text.ToString();
    }

    /// <summary>Parses <c>key=value,key=value</c>.</summary>
    public static IReadOnlyDictionary<string, string> ParseValues(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p.Length == 2 ? p[1].Trim() : throw new ArgumentException($"'{string.Join('=', p)}' is not key=value"), StringComparer.Ordinal);

    private static string Verdict(Difference d, double holmP, double margin, double detectable) =>
        holmP < 0.05 && d.Excludes0 ? (d.Mean < 0 ? "better" : "worse")
        : d.EquivalentWithin(margin) ? $"equivalent within ±{margin:0.####}"
        : $"inconclusive (these seeds detect {detectable:0.0000})";

    private static string Describe(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? "(base)" : string.Join(", ", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));

    private sealed record Design(IReadOnlyDictionary<string, string> Values, Dictionary<long, double> Scores);

    /// <summary>Each done point's values and, per seed (its <c>s&lt;seed&gt;/result.json</c>), the metric.</summary>
    private static List<Design> Read(string records, string metric)
    {
        var index = Path.Combine(records, "results.jsonl");
        if (!File.Exists(index))
        {
            throw new InvalidDataException($"{index} is missing: the sweep's out folder holds it once the sweep has run.");
        }

        var designs = new List<Design>();
        foreach (var line in File.ReadLines(index).Where(l => l.Length > 0))
        {
            using var record = JsonDocument.Parse(line);
            var root = record.RootElement;
            if (root.GetProperty("status").GetString() != "done")
            {
                continue;
            }

            var values = root.GetProperty("values").EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString()!, StringComparer.Ordinal);
            var scores = new Dictionary<long, double>();
            var point = Path.Combine(records, $"p{root.GetProperty("point").GetInt32():D3}");
            foreach (var seedDir in Directory.Exists(point) ? Directory.GetDirectories(point, "s*") : Array.Empty<string>())
            {
                var result = Path.Combine(seedDir, "result.json");
                if (!long.TryParse(Path.GetFileName(seedDir)[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var seed) || !File.Exists(result))
                {
                    continue;
                }

                using var run = JsonDocument.Parse(File.ReadAllText(result));
                if (run.RootElement.TryGetProperty(metric, out var m) && m.ValueKind == JsonValueKind.Number)
                {
                    scores[seed] = m.GetDouble();
                }
            }

            designs.Add(new Design(values, scores));
        }

        return designs.Count > 0 ? designs : throw new InvalidDataException($"{index} has no finished points.");
    }
}
