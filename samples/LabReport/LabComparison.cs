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
/// <param name="Baseline">The grid values of the design it is compared with.</param>
/// <param name="Seeds">Seeds both the design and the baseline ran (paired), or the design's seeds (Welch).</param>
/// <param name="Mean">The design's mean of the metric over those seeds.</param>
/// <param name="Difference">design − baseline at the family's simultaneous level: paired t when the two share a
/// tokenizer (the same windows in the same order per seed), Welch's interval otherwise (PROTOCOL.md §5).</param>
/// <param name="HolmP">Holm-adjusted p-value within the family.</param>
/// <param name="Detectable">The smallest difference these seeds detect (80 % power, two-sided 5 %) at the differences' sd.</param>
/// <param name="Verdict">better, worse, equivalent within the margin, or inconclusive.</param>
public sealed record Comparison(IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, string> Baseline, IReadOnlyList<long> Seeds, double Mean, Difference Difference, double HolmP, double Detectable, string Verdict);

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
    public static IReadOnlyList<Comparison> Compare(string records, IReadOnlyDictionary<string, string> baseline, string metric = "test_bits_per_byte", double margin = 0.01) =>
        CompareWithin(records, baseline, [], metric, margin);

    /// <summary>
    /// Compares, within each group of designs that share the values of <paramref name="groupBy"/> (the whole sweep when
    /// it is empty), every design with the group's one design matching <paramref name="baseline"/>; the comparisons of
    /// all groups form one family (one Bonferroni level, one Holm adjustment).
    /// </summary>
    /// <exception cref="InvalidDataException">No records, a group whose baseline matches no design or several, or a paired design with fewer than two seeds in common with its baseline.</exception>
    /// <param name="baselineRecords">Another sweep's records whose designs matching <paramref name="baseline"/> join the
    /// comparison as its baseline (a sweep of the designs alone, run with the same seeds, data and budget); null: none.</param>
    public static IReadOnlyList<Comparison> CompareWithin(string records, IReadOnlyDictionary<string, string> baseline, IReadOnlyList<string> groupBy, string metric = "test_bits_per_byte", double margin = 0.01, string? baselineRecords = null)
    {
        var designs = Read(records, metric);
        if (baselineRecords is not null)
        {
            designs.AddRange(Read(baselineRecords, metric).Where(d => baseline.All(b => d.Values.TryGetValue(b.Key, out var v) && v == b.Value)));
        }

        var pairs = new List<(DesignScores Design, DesignScores Baseline)>();
        foreach (var group in designs.GroupBy(d => string.Join("\u0001", groupBy.Select(k => d.Values.TryGetValue(k, out var v) ? v : string.Empty)), StringComparer.Ordinal))
        {
            var matches = group.Where(d => baseline.All(b => d.Values.TryGetValue(b.Key, out var v) && v == b.Value)).ToList();
            if (matches.Count != 1)
            {
                throw new InvalidDataException($"{records}: the baseline {Describe(baseline)} matches {matches.Count} designs{(groupBy.Count > 0 ? $" where {Describe(groupBy.ToDictionary(k => k, k => group.First().Values.GetValueOrDefault(k, string.Empty)))}" : string.Empty)}; it must match one "
                    + $"(designs: {string.Join("; ", group.Select(d => Describe(d.Values)))}).");
            }

            pairs.AddRange(group.Where(d => !ReferenceEquals(d, matches[0])).Select(d => (d, matches[0])));
        }

        return Family(records, pairs, margin);
    }

    /// <summary>The design with the lowest mean of the metric (at least two seeds) against each other design: the family of Q1 (PROTOCOL.md §6).</summary>
    public static IReadOnlyList<Comparison> CompareWithBest(string records, string metric = "test_bits_per_byte", double margin = 0.01)
    {
        var designs = Read(records, metric);
        var best = designs.Where(d => d.Scores.Count >= 2).OrderBy(d => d.Scores.Values.Average()).FirstOrDefault()
            ?? throw new InvalidDataException($"{records}: no design has two seeds of {metric}.");
        return Family(records, designs.Where(d => !ReferenceEquals(d, best)).Select(d => (d, best)).ToList(), margin);
    }

    /// <summary>Each design against its baseline at the family's Bonferroni level, Holm-adjusted over the family.</summary>
    private static List<Comparison> Family(string records, IReadOnlyList<(DesignScores Design, DesignScores Baseline)> pairs, double margin)
    {
        var level = PairedStatistics.SimultaneousLevel(pairs.Count);
        var raw = new List<(DesignScores Design, DesignScores Baseline, List<long> Seeds, Difference Difference, double Detectable)>();
        foreach (var (d, reference) in pairs)
        {
            if (d.Tokenizer == reference.Tokenizer)
            {
                var seeds = d.Scores.Keys.Intersect(reference.Scores.Keys).OrderBy(s => s).ToList();
                if (seeds.Count < 2)
                {
                    throw new InvalidDataException($"{records}: {Describe(d.Values)} shares {seeds.Count} seed(s) with the baseline; a paired comparison needs at least 2.");
                }

                var a = seeds.Select(s => d.Scores[s]).ToList();
                var b = seeds.Select(s => reference.Scores[s]).ToList();
                var (_, sd) = PairedStatistics.MeanSd(a.Zip(b, (x, y) => x - y).ToList());
                raw.Add((d, reference, seeds, PairedStatistics.Paired(a, b, level), PairedStatistics.MinimumDetectable(sd, seeds.Count)));
            }
            else
            {
                // Different tokenizers see different windows: the seeds are not pairs (PROTOCOL.md §5).
                var a = d.Scores.OrderBy(s => s.Key).Select(s => s.Value).ToList();
                var b = reference.Scores.OrderBy(s => s.Key).Select(s => s.Value).ToList();
                if (a.Count < 2 || b.Count < 2)
                {
                    throw new InvalidDataException($"{records}: {Describe(d.Values)} has {a.Count} seed(s) and its baseline {b.Count}; Welch's interval needs at least 2 a side.");
                }

                var (_, sa) = PairedStatistics.MeanSd(a);
                var (_, sb) = PairedStatistics.MeanSd(b);
                raw.Add((d, reference, d.Scores.Keys.OrderBy(s => s).ToList(), PairedStatistics.Welch(a, b, level),
                    PairedStatistics.MinimumDetectable(Math.Sqrt((sa * sa) + (sb * sb)), Math.Min(a.Count, b.Count))));
            }
        }

        var holm = PairedStatistics.Holm(raw.Select(r => r.Difference.P).ToList());
        return raw.Select((r, i) => new Comparison(r.Design.Values, r.Baseline.Values, r.Seeds, r.Seeds.Average(s => r.Design.Scores[s]), r.Difference, holm[i], r.Detectable,
            Verdict(r.Difference, holm[i], margin, r.Detectable))).ToList();
    }

    /// <summary>The comparisons as a Markdown table, with the family's level stated above it (the baseline there, or in a column where the family has several).</summary>
    public static string Markdown(IReadOnlyList<Comparison> rows, string metric, double margin)
    {
        var text = new StringBuilder();
        var level = rows.Count == 0 ? 0.95 : rows[0].Difference.Confidence;
        var baselines = rows.Select(r => Describe(r.Baseline)).Distinct(StringComparer.Ordinal).ToList();
        var paired = rows.All(r => r.Difference.Paired) ? "paired by seed" : rows.Any(r => r.Difference.Paired) ? "paired by seed where the tokenizer is shared, Welch otherwise" : "Welch (different tokenizers)";
        text.AppendLine(CultureInfo.InvariantCulture, $"{(baselines.Count == 1 ? $"Baseline: {baselines[0]}; " : string.Empty)}metric: {metric} (lower is better); {paired}; intervals at {level:P2} (Bonferroni over {rows.Count}), p-values Holm-adjusted; equivalence margin ±{margin:0.####}.");
        text.AppendLine();
        var many = baselines.Count > 1;
        text.AppendLine(many ? "| design | baseline | seeds | mean | difference | interval | p (Holm) | detectable | verdict |" : "| design | seeds | mean | difference | interval | p (Holm) | detectable | verdict |");
        text.AppendLine(many ? "|---|---|---:|---:|---:|---|---:|---:|---|" : "|---|---:|---:|---:|---|---:|---:|---|");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {Describe(r.Values)}{(many ? $" | {Describe(r.Baseline)}" : string.Empty)} | {r.Seeds.Count} | {r.Mean:0.0000} | {r.Difference.Mean:+0.0000;-0.0000} | [{r.Difference.Low:+0.0000;-0.0000}, {r.Difference.High:+0.0000;-0.0000}] | {r.HolmP:0.###} | {r.Detectable:0.0000} | {r.Verdict} |");
        }

        return text.ToString();
    }

    /// <summary>Parses <c>key=value,key=value</c>.</summary>
    public static IReadOnlyDictionary<string, string> ParseValues(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p.Length == 2 ? p[1].Trim() : throw new ArgumentException($"'{string.Join('=', p)}' is not key=value"), StringComparer.Ordinal);

    /// <summary>One design of a seed sweep: its grid values and the metric per seed.</summary>
    /// <param name="Point">The point's number in the sweep (its <c>p###</c> folder).</param>
    public sealed record DesignScores(int Point, IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<long, double> Scores)
    {
        /// <summary>The tokenizer the design declares in the grid (null: the template's, shared by every design).</summary>
        public string? Tokenizer => Values.TryGetValue("tokenizer", out var t) ? t : null;
    }

    private static string Verdict(Difference d, double holmP, double margin, double detectable) =>
        holmP < 0.05 && d.Excludes0 ? (d.Mean < 0 ? "better" : "worse")
        : d.EquivalentWithin(margin) ? $"equivalent within ±{margin:0.####}"
        : $"inconclusive (these seeds detect {detectable:0.0000})";

    /// <summary>One design of one sweep against one design of another, and Welch's interval for the difference.</summary>
    /// <param name="AMetric">The field compared for the first (<c>metric</c>, or the final weights' score where the sweep has no artifact).</param>
    public sealed record CrossComparison(DesignScores A, string AMetric, DesignScores B, string BMetric, Difference Difference);

    /// <summary>
    /// Point <paramref name="aPoint"/> of the sweep in <paramref name="a"/> against point <paramref name="bPoint"/> of
    /// <paramref name="b"/> on <paramref name="metric"/> — a full-precision sweep (no runs with the metric) on its final
    /// weights' test score, which is what it ships — with Welch's interval (different trainings: never paired), at
    /// <paramref name="confidence"/>, outside any family (descriptive).
    /// </summary>
    /// <exception cref="InvalidDataException">A point that is not there or has neither score.</exception>
    public static CrossComparison Across(string a, int aPoint, string b, int bPoint, string metric = "test_bits_per_byte_artifact", double confidence = 0.95)
    {
        (DesignScores Design, string Metric) Pick(string dir, int point)
        {
            foreach (var m in new[] { metric, "final_test_bits_per_byte" })
            {
                var found = Read(dir, m).SingleOrDefault(d => d.Point == point) ?? throw new InvalidDataException($"{dir}: no finished point {point}.");
                if (found.Scores.Count > 0)
                {
                    return (found, m);
                }
            }

            throw new InvalidDataException($"{dir}: point {point} has neither {metric} nor final_test_bits_per_byte.");
        }

        var (da, ma) = Pick(a, aPoint);
        var (db, mb) = Pick(b, bPoint);
        return new CrossComparison(da, ma, db, mb, PairedStatistics.Welch(da.Scores.Values.ToList(), db.Scores.Values.ToList(), confidence));
    }

    /// <summary>A design's grid values as <c>key=value, …</c> (a tokenizer path by its folder name).</summary>
    public static string Describe(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? "(base)" : string.Join(", ", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={(v.Key == "tokenizer" ? Path.GetFileName(v.Value) : v.Value)}"));

    /// <summary>Each done point's values and, per seed (its <c>s&lt;seed&gt;/result.json</c>), the metric.</summary>
    public static List<DesignScores> Read(string records, string metric)
    {
        var index = Path.Combine(records, "results.jsonl");
        if (!File.Exists(index))
        {
            throw new InvalidDataException($"{index} is missing: the sweep's out folder holds it once the sweep has run.");
        }

        var designs = new List<DesignScores>();
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

            designs.Add(new DesignScores(root.GetProperty("point").GetInt32(), values, scores));
        }

        return designs.Count > 0 ? designs : throw new InvalidDataException($"{index} has no finished points.");
    }
}
