using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace SlmGen.Samples.LabReport;

/// <summary>
/// The second lab's README (results/lab2/PROTOCOL.md §7), regenerated from its records alone: for each tuning sweep
/// the validation score of every design at every rate with the chosen rate; for each seed sweep every design's
/// parameters, FLOPs, steps, epochs, tokens per byte and both test scores (final weights, the primary result, and the
/// validation-selected checkpoint), then its comparison family of §6 on the final weights' test bits per byte.
/// </summary>
public static class Lab2Report
{
    /// <summary>The metric the families compare (the final weights: PROTOCOL.md §4).</summary>
    public const string Metric = "final_test_bits_per_byte";

    /// <summary>The equivalence margin of §5, in bits per byte.</summary>
    public const double Margin = 0.01;

    /// <summary>Q3's unshared base (8 stored blocks, no repeats, no LoRA): the baseline of its families.</summary>
    public const string Q3Baseline = "layers.0.transformer.layers=8,layers.0.transformer.repeat=1,layers.0.transformer.block_repeat=1,layers.0.transformer.lora_rank=0";

    /// <summary>Q4's design without a stabiliser: the baseline of its families (and of its answer table's gains).</summary>
    public const string Q4Baseline = "layers.0.transformer.qk_norm=false,head=tied,train.z_loss=0,train.ema_decay=0";

    /// <summary>The metric of the quantised arms: the test split after the artifact round trip (§1, Q4).</summary>
    public const string RoundTripMetric = "test_bits_per_byte_artifact";

    /// <summary>
    /// The comparison families of PROTOCOL.md §6, by the seed sweep's name (the first rule whose prefix matches): a
    /// baseline (null: the best design) picked within each group of designs sharing the <c>GroupBy</c> values, on a metric.
    /// </summary>
    private static readonly FamilyRule[] Rules =
    [
        new("q1-", "the best design against each other", null, [], Metric),
        new("q2b-", "each two-level head against the full tied head of its vocabulary", "head=tied", ["vocab"], Metric),
        // The LoRA seed sweeps hold only the adapted designs: their baseline is the unshared base of the seed sweep of the
        // same budget (same seeds, data and FLOPs), paired by seed.
        new("q3-b1-lora-", "each shared design with LoRA against the unshared base (8 stored blocks) of q3-b1-seeds", Q3Baseline, [], Metric, "q3-b1-seeds"),
        new("q3-b2-lora-", "each shared design with LoRA against the unshared base (8 stored blocks) of q3-b2-seeds", Q3Baseline, [], Metric, "q3-b2-seeds"),
        new("q3-", "each shared design against the unshared base (8 stored blocks)", Q3Baseline, [], Metric),
        new("q4-seeds-ptq", "each stabiliser against none, per after-training plan, after the round trip", Q4Baseline, ["quantization"], RoundTripMetric),
        new("q4-qat", "each stabiliser against none, per QAT plan and start, after the round trip", Q4Baseline, ["quantization", "train.qat_start"], RoundTripMetric),
        new("q4-grid", string.Empty, null, [], null), // compared with q4-qat's symmetric cells in ANALYSIS.md
        new("q4-", "each stabiliser against none (full precision)", Q4Baseline, [], Metric),
    ];

    /// <summary>Writes <paramref name="lab"/>/README.md (or <paramref name="output"/>) and its plots (plots/ beside it); returns the number of sweeps in it and its path.</summary>
    /// <exception cref="DirectoryNotFoundException">The lab has no records folder.</exception>
    public static (int Sweeps, string Path) Write(string lab, string? output = null)
    {
        var records = Path.Combine(lab, "records");
        if (!Directory.Exists(records))
        {
            throw new DirectoryNotFoundException($"{records} is missing: the lab's records are imported there (scripts/lab-import.sh).");
        }

        var sweeps = Directory.GetDirectories(records)
            .Where(d => File.Exists(Path.Combine(d, "results.jsonl")))
            .Select(d => Path.GetFileName(d)!)
            .Where(n => !n.EndsWith("-extend", StringComparison.Ordinal)) // shown in its tuning sweep's table
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToList();
        var text = new StringBuilder();
        text.AppendLine("# The second lab's tables (generated)");
        text.AppendLine();
        text.AppendLine("Regenerated from `results/lab2/records` by `dotnet run --project samples/LabReport -c Release -- lab2`; do not edit by");
        text.AppendLine("hand. The protocol is [PROTOCOL.md](PROTOCOL.md), the predictions [PREDICTIONS.md](PREDICTIONS.md), the GPU calls");
        text.AppendLine("[CALLS.md](CALLS.md); the answers, with these numbers, are in [ANALYSIS.md](ANALYSIS.md). Scores are bits per byte of");
        text.AppendLine($"WikiText-2's UTF-8 text (lower is better); comparisons use `{Metric}` (the final weights: §4), for quantised arms");
        text.AppendLine($"`{RoundTripMetric}` (after the artifact round trip: §1); intervals and verdicts as §5.");
        text.AppendLine();
        foreach (var name in sweeps)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"## {name}");
            text.AppendLine();
            var runs = Runs(Path.Combine(records, name));
            text.AppendLine(Provenance(runs));
            text.AppendLine();
            if (name.EndsWith("-tune", StringComparison.Ordinal))
            {
                Tuning(Path.Combine(lab, "experiments", name + ".yaml"), name, runs, text);
            }
            else
            {
                SeedSweep(Path.Combine(records, name), name, runs, text, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output ?? Path.Combine(lab, "README.md")))!, "plots"));
            }
        }

        Q3Answer.Write(lab, text);
        Q4Answer.Write(lab, text);
        Q6Contest.Write(records, text);
        var q2a = Path.Combine(records, "q2a");
        if (Directory.Exists(q2a))
        {
            HeadShares(q2a, text);
        }

        var path = output ?? Path.Combine(lab, "README.md");
        File.WriteAllText(path, text.ToString());
        return (sweeps.Count, path);
    }

    /// <param name="Metric">The result.json field compared; null: the sweep has no family of its own.</param>
    /// <param name="BaselineSweep">The sweep (beside this one in records/) whose design matching <c>Baseline</c> is the baseline; null: this sweep's own.</param>
    private sealed record FamilyRule(string Prefix, string Question, string? Baseline, string[] GroupBy, string? Metric, string? BaselineSweep = null);

    /// <summary>One run's record: its point, seed and the result.json fields the tables use.</summary>
    private sealed record Run(int Point, long Seed, JsonElement Result)
    {
        public double Number(string field) => Result.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

        public string Text(string field) => Result.TryGetProperty(field, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString()! : v.ToString() : string.Empty;

        /// <summary>
        /// A run-total field (steps, epochs): records since 2026-12-07 give the run's totals and say where a resumed call
        /// started (<c>resumed_from_step</c>); an earlier record of a resumed call (<c>--resume</c> in its command)
        /// counted that call alone, so its total is not in the record (NaN).
        /// </summary>
        public double Total(string field) =>
            Result.TryGetProperty("resumed_from_step", out _) || !Text("command").Contains(" --resume", StringComparison.Ordinal) ? Number(field) : double.NaN;
    }

    /// <summary>Every finished run of a sweep (a <c>p###/s&lt;seed&gt;/result.json</c>).</summary>
    private static List<Run> Runs(string sweep)
    {
        var runs = new List<Run>();
        foreach (var point in Directory.GetDirectories(sweep, "p*").OrderBy(p => p, StringComparer.Ordinal))
        {
            if (!int.TryParse(Path.GetFileName(point)[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                continue;
            }

            foreach (var seedDir in Directory.GetDirectories(point, "s*"))
            {
                var file = Path.Combine(seedDir, "result.json");
                if (File.Exists(file) && long.TryParse(Path.GetFileName(seedDir)[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
                {
                    runs.Add(new Run(p, seed, JsonDocument.Parse(File.ReadAllText(file)).RootElement.Clone()));
                }
            }
        }

        return runs;
    }

    /// <summary>How many runs, on which device, commit and execution path.</summary>
    private static string Provenance(IReadOnlyList<Run> runs)
    {
        if (runs.Count == 0)
        {
            return "No finished run yet.";
        }

        static string Set(IEnumerable<string> xs) => string.Join(", ", xs.Where(x => x.Length > 0).Distinct(StringComparer.Ordinal).OrderBy(x => x, StringComparer.Ordinal));
        var graphed = runs.Count(r => r.Number("cuda_graph_steps") > 0);
        var fused = runs.Count(r => r.Text("fused_kernels") == "true" || r.Text("fused_kernels") == "True");
        return $"{runs.Count} finished runs; device {Set(runs.Select(r => r.Text("device")))}; commit {Set(runs.Select(r => r.Text("commit").Length >= 7 ? r.Text("commit")[..7] : r.Text("commit")))}; "
            + $"CUDA-graph steps in {graphed}, SlmGen's fused kernels in {fused} (the rest eager / unfused: CALLS.md).";
    }

    private static void Tuning(string template, string name, IReadOnlyList<Run> runs, StringBuilder text)
    {
        if (!File.Exists(template))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"(its template {Path.GetFileName(template)} is not in experiments/)");
            text.AppendLine();
            return;
        }

        var planned = File.ReadLines(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(template))!, "records", name, "results.jsonl")).Count(l => l.Length > 0);
        var designs = LearningRateSelection.Select(template);
        var rates = designs.SelectMany(d => d.Scores.Keys).Distinct().OrderBy(r => r).ToList();
        var complete = runs.Count >= planned;
        var axis = LearningRateSelection.AxisOf(template) == "lora_lr" ? " (the rate tuned: the LoRA adapters' `train.lora_lr`, the design's own `train.lr` fixed)" : string.Empty;
        text.AppendLine(CultureInfo.InvariantCulture, $"Validation bits per byte of the final weights, seed 1; **bold** the chosen rate (§3){axis}{(complete ? string.Empty : $". **Incomplete: {runs.Count} of {planned} runs** — no choice stands until every rate of a design has run")}.");
        text.AppendLine();
        text.AppendLine("| design | " + string.Join(" | ", rates.Select(r => r.ToString("g3", CultureInfo.InvariantCulture))) + " | chosen |");
        text.AppendLine("|---|" + string.Concat(rates.Select(_ => "---:|")) + "---|");
        foreach (var d in designs)
        {
            var cells = rates.Select(r => d.Scores.TryGetValue(r, out var s) ? r == d.Chosen ? $"**{s:0.0000}**" : $"{s:0.0000}" : "–");
            var note = d.AtEdge ? " (at the grid's edge: extend)" : d.Extended ? " (grid extended once)" : string.Empty;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {LabComparison.Describe(d.Values)} | {string.Join(" | ", cells)} | {d.Chosen:g3}{note} |");
        }

        text.AppendLine();
    }

    /// <summary>A design's grid values, short: the values alone (a tokenizer by its folder name), the keys' last parts where they say more.</summary>
    private static string Label(IReadOnlyDictionary<string, string> values) =>
        string.Join("  ", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key.Split('.')[^1]}={(v.Key == "tokenizer" ? Path.GetFileName(v.Value) : v.Value)}"));

    private static void SeedSweep(string records, string name, IReadOnlyList<Run> runs, StringBuilder text, string plots)
    {
        var designs = LabComparison.Read(records, Metric);
        var roundTrip = runs.Any(r => double.IsFinite(r.Number(RoundTripMetric)));
        var alone = TimedAlone(records);
        text.AppendLine("| design | seeds | parameters | training FLOPs / token | training FLOPs / byte of test text | steps | epochs | tokens / byte of test text | test, final weights | test, best checkpoint |"
            + (roundTrip ? " test after the round trip | artifact bytes (file) |" : string.Empty) + " validation, final | tokens/s (shared GPU) |" + (alone.Count > 0 ? " ms/step alone |" : string.Empty));
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---|" + (roundTrip ? "---|---:|" : string.Empty) + "---:|---:|" + (alone.Count > 0 ? "---:|" : string.Empty));
        foreach (var d in designs.OrderBy(d => d.Scores.Count > 0 ? d.Scores.Values.Average() : double.MaxValue))
        {
            var mine = runs.Where(r => r.Point == d.Point).ToList();
            if (mine.Count == 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {LabComparison.Describe(d.Values)} | 0 |{string.Concat(Enumerable.Repeat(" |", 10 + (roundTrip ? 2 : 0) + (alone.Count > 0 ? 1 : 0)))}");
                continue;
            }

            var first = mine[0];
            // tokens per byte = (bits per byte) / (bits per token), from the same evaluation of the test split
            var tokensPerByte = mine.Select(r => r.Number("final_test_bits_per_byte") / (r.Number("final_test_nll") / Math.Log(2))).Average();
            var msAlone = alone.TryGetValue(first.Text("model"), out var ms) ? ms.ToString("0.000", CultureInfo.InvariantCulture) : "–";
            var ic = CultureInfo.InvariantCulture;
            text.Append(ic, $"| {LabComparison.Describe(d.Values)} | {mine.Count} | {first.Number("parameters"):N0} | {first.Number("training_flops_per_token"):N0} | {first.Number("training_flops_per_token") * tokensPerByte:N0} | {Steps(mine)} | {Average(mine.Select(r => r.Total("epochs")), "0.00")} | {tokensPerByte:0.000} | ");
            text.Append(ic, $"{MeanSd(mine.Select(r => r.Number("final_test_bits_per_byte")))} | {MeanSd(mine.Select(r => r.Number("test_bits_per_byte")))} |");
            if (roundTrip)
            {
                text.Append(ic, $" {MeanSd(mine.Select(r => r.Number(RoundTripMetric)))} | {Median(mine.Select(r => r.Number("artifact_file_bytes"))):N0} |");
            }

            text.Append(ic, $" {Average(mine.Select(r => r.Number("final_validation_bits_per_byte")))} | {Median(mine.Select(r => r.Number("tokens_per_second"))):N0} |");
            text.AppendLine(alone.Count > 0 ? $" {msAlone} |" : string.Empty);
        }

        text.AppendLine();
        var plotted = roundTrip ? LabComparison.Read(records, RoundTripMetric) : designs;
        if (plotted.Any(d => d.Scores.Count > 0))
        {
            Directory.CreateDirectory(plots);
            Plots.Designs(plotted.Select(d => (Label(d.Values), (IReadOnlyList<double>)d.Scores.Values.ToList())).ToList(),
                $"{name}: test bits/byte{(roundTrip ? " after the round trip" : ", final weights")}, mean and 95 % interval", "bits per byte (lower is better)",
                Path.Combine(plots, name + ".png"));
            text.AppendLine(CultureInfo.InvariantCulture, $"![{name}](plots/{name}.png)");
            text.AppendLine();
        }

        var rule = Rules.FirstOrDefault(r => name.StartsWith(r.Prefix, StringComparison.Ordinal));

        if (rule?.Metric is not { } metric)
        {
            return;
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Family ({rule.Prefix.Split('-')[0].ToUpperInvariant()}, PROTOCOL.md §6): {rule.Question}.");
        text.AppendLine();
        try
        {
            var rows = rule.Baseline is null
                ? LabComparison.CompareWithBest(records, metric, Margin)
                : LabComparison.CompareWithin(records, LabComparison.ParseValues(rule.Baseline), rule.GroupBy, metric, Margin,
                    rule.BaselineSweep is { } other ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(records))!, other) : null);
            text.AppendLine(LabComparison.Markdown(rows, metric, Margin));
        }
        catch (InvalidDataException e)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Not compared yet: {e.Message}");
            text.AppendLine();
        }
    }

    /// <summary>
    /// Q2a (PROTOCOL.md §6): the head's share of the training step — of its FLOPs, of the measured time (the head timed
    /// in the step), and the time model's predicted share — per width and vocabulary, one table per file of
    /// <c>records/q2a</c> (<c>slmgen time --json</c> records of one batch shape and path: scripts/gpu/lab2-call-a.sh),
    /// with the measured step time and the peak allocated memory where recorded.
    /// </summary>
    private static void HeadShares(string folder, StringBuilder text)
    {
        text.AppendLine("## q2a — the head's share of the step (width × vocabulary)");
        text.AppendLine();
        text.AppendLine("Each cell: head's share of the training FLOPs → of the measured step time (the time model's predicted share); below it the");
        text.AppendLine("measured ms per step and, where recorded, the peak allocated memory. Designs timed alone (`slmgen time`), never trained.");
        text.AppendLine();
        foreach (var file in Directory.GetFiles(folder, "time-*.jsonl").OrderBy(f => f, StringComparer.Ordinal))
        {
            var rows = File.ReadLines(file).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())
                .Where(r => r.TryGetProperty("width", out _) && r.TryGetProperty("vocab", out _)).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            static double N(JsonElement r, string f) => r.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
            var first = rows[0];
            var graphed = first.TryGetProperty("graphed", out var g) && g.ValueKind == JsonValueKind.True;
            text.AppendLine(CultureInfo.InvariantCulture, $"### {Path.GetFileNameWithoutExtension(file)}: {N(first, "batch"):0} × {N(first, "context"):0} tokens, {(graphed ? "one CUDA graph" : "eager")}, {first.GetProperty("device").GetString()}");
            text.AppendLine();
            var widths = rows.Select(r => N(r, "width")).Distinct().OrderBy(w => w).ToList();
            var vocabs = rows.Select(r => N(r, "vocab")).Distinct().OrderBy(v => v).ToList();
            text.AppendLine("| width \\ vocabulary | " + string.Join(" | ", vocabs.Select(v => v.ToString("N0", CultureInfo.InvariantCulture))) + " |");
            text.AppendLine("|---|" + string.Concat(vocabs.Select(_ => "---|")));
            foreach (var w in widths)
            {
                var cells = vocabs.Select(v =>
                {
                    var r = rows.LastOrDefault(x => N(x, "width") == w && N(x, "vocab") == v);
                    if (r.ValueKind != JsonValueKind.Object)
                    {
                        return "–";
                    }

                    static string P(double x) => double.IsFinite(x) ? x.ToString("P1", CultureInfo.InvariantCulture) : "–";
                    var predicted = N(r, "predicted_head_ms_per_step") / N(r, "predicted_ms_per_step");
                    var peak = N(r, "peak_allocated_bytes");
                    return $"{P(N(r, "head_share_of_flops"))} → {P(N(r, "head_share_of_time"))} ({P(predicted)})<br>{N(r, "ms_per_step"):0.000} ms"
                        + (double.IsFinite(peak) ? $", {peak / (1L << 30):0.00} GiB" : string.Empty);
                });
                text.AppendLine(CultureInfo.InvariantCulture, $"| {w:0} | {string.Join(" | ", cells)} |");
            }

            text.AppendLine();
        }
    }

    /// <summary>Each model's ms per step timed alone (the sweep's <c>timing.jsonl</c>, <c>slmgen sweep --time</c>); the last line of a model counts.</summary>
    internal static Dictionary<string, double> TimedAlone(string records)
    {
        var timing = Path.Combine(records, "timing.jsonl");
        var alone = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in File.Exists(timing) ? File.ReadLines(timing).Where(l => l.Length > 0) : [])
        {
            using var record = JsonDocument.Parse(line);
            var root = record.RootElement;
            if (root.TryGetProperty("model", out var m) && root.TryGetProperty("ms_per_step", out var ms) && ms.ValueKind == JsonValueKind.Number)
            {
                alone[m.GetString()!] = ms.GetDouble();
            }
        }

        return alone;
    }

    private static string Average(IEnumerable<double> values, string format = "0.0000")
    {
        var xs = values.Where(double.IsFinite).ToList();
        return xs.Count == 0 ? "–" : xs.Average().ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>A design's steps: its runs' totals where the records hold them, one figure where they agree, the range where not.</summary>
    private static string Steps(IReadOnlyList<Run> runs)
    {
        var steps = runs.Select(r => r.Total("steps")).Where(double.IsFinite).Distinct().Order().ToList();
        return steps.Count switch
        {
            0 => "–",
            1 => steps[0].ToString("N0", CultureInfo.InvariantCulture),
            _ => $"{steps[0].ToString("N0", CultureInfo.InvariantCulture)}–{steps[^1].ToString("N0", CultureInfo.InvariantCulture)}",
        };
    }

    internal static string MeanSd(IEnumerable<double> values)
    {
        var xs = values.Where(double.IsFinite).ToList();
        return xs.Count switch
        {
            0 => "–",
            1 => xs[0].ToString("0.0000", CultureInfo.InvariantCulture),
            _ => $"{xs.Average():0.0000} ± {PairedStatistics.MeanSd(xs).Sd:0.0000}",
        };
    }

    internal static double Median(IEnumerable<double> values)
    {
        var xs = values.Where(double.IsFinite).OrderBy(x => x).ToList();
        return xs.Count == 0 ? double.NaN : xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[(xs.Count / 2) - 1] + xs[xs.Count / 2]) / 2;
    }
}
