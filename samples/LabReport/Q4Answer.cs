using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace SlmGen.Samples.LabReport;

/// <summary>
/// Question 4's answer table (results/lab2/PROTOCOL.md §6 Q4): which stabiliser is worth its time under aggressive
/// compression. From the records of the full-precision seeds (q4-seeds), their after-training quantisers
/// (q4-seeds-ptq) and the quantisation-aware arms (q4-qat), each scored after the artifact round trip, and the time
/// model's predictions of each design's training step (predictions/q4-*-time.jsonl, scripts/lab2-time-predictions.sh):
/// the score of every stabiliser × plan, then the stabilisers ranked by bits per byte gained per % of step time added.
/// </summary>
public static class Q4Answer
{
    private const string None = "none";
    private static readonly int[] Bits = [4, 3, 2];
    private static readonly string[] Methods = ["QAT", "late QAT", "absmax", "MSE", "GPTQ", "GPTQ-MSE", "learned", "GPTQ-learned"];

    /// <summary>Appends the section when the three sweeps' records are there; returns whether it did.</summary>
    public static bool Write(string lab, StringBuilder text)
    {
        var records = Path.Combine(lab, "records");
        string Sweep(string name) => Path.Combine(records, name);
        if (!new[] { "q4-seeds", "q4-seeds-ptq", "q4-qat" }.All(s => File.Exists(Path.Combine(Sweep(s), "results.jsonl"))))
        {
            return false;
        }

        // Every design's scores, by (stabiliser, plan).
        var cells = new Dictionary<(string Stabiliser, string Plan), LabComparison.DesignScores>();
        foreach (var d in LabComparison.Read(Sweep("q4-seeds"), Lab2Report.Metric))
        {
            cells[(Stabiliser(d.Values), "full precision")] = d;
        }

        foreach (var name in new[] { "q4-seeds-ptq", "q4-qat" })
        {
            foreach (var d in LabComparison.Read(Sweep(name), Lab2Report.RoundTripMetric))
            {
                cells[(Stabiliser(d.Values), Plan(d.Values))] = d;
            }
        }

        var stabilisers = cells.Keys.Select(k => k.Stabiliser).Distinct().OrderBy(s => s == None ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal).ToList();
        var plans = new List<string> { "full precision" };
        plans.AddRange(Bits.SelectMany(b => Methods.Select(m => $"{b}-bit {m}")).Where(p => cells.Keys.Any(k => k.Plan == p)));

        text.AppendLine("## Q4: stabilisers under compression (the answer's tables)");
        text.AppendLine();
        text.AppendLine("Test bits per byte **after the artifact round trip** (full precision: the final weights), mean over seeds (n), per");
        text.AppendLine("stabiliser (rows) and plan (columns: attention and FFN at the bits, 8-bit embedding, groups of 64; QAT from the start,");
        text.AppendLine("late QAT from half-way, or an after-training quantiser on the full-precision seeds' final weights). Sweeps: q4-seeds,");
        text.AppendLine("q4-seeds-ptq, q4-qat. Each stabiliser trained at its own tuned rate (q4-tune).");
        text.AppendLine();
        text.AppendLine("| stabiliser | " + string.Join(" | ", plans) + " |");
        text.AppendLine("|---|" + string.Concat(plans.Select(_ => "---:|")));
        foreach (var s in stabilisers)
        {
            text.AppendLine($"| {s} | " + string.Join(" | ", plans.Select(p => cells.TryGetValue((s, p), out var d) && d.Scores.Count > 0 ? $"{d.Scores.Values.Average():0.0000} ({d.Scores.Count})" : "–")) + " |");
        }

        text.AppendLine();
        var best = Bits.Select(b => (Bits: b, Cell: cells.Where(c => c.Key.Plan.StartsWith($"{b}-bit", StringComparison.Ordinal) && c.Value.Scores.Count > 0).OrderBy(c => c.Value.Scores.Values.Average()).FirstOrDefault()))
            .Where(x => x.Cell.Value is not null)
            .Select(x => $"{x.Bits} bits: {x.Cell.Key.Stabiliser}, {x.Cell.Key.Plan.Split(' ', 2)[1]} ({x.Cell.Value.Scores.Values.Average():0.0000})");
        text.AppendLine("Lowest mean per bit width — " + string.Join("; ", best) + ".");
        text.AppendLine();

        // Gains: the stabiliser against none in the same plan, paired by seed (positive = better), and the families' verdicts.
        var verdicts = new Dictionary<(string, string), string>();
        var baseline = LabComparison.ParseValues(Lab2Report.Q4Baseline);
        foreach (var (name, metric, groups) in new[] { ("q4-seeds", Lab2Report.Metric, Array.Empty<string>()), ("q4-seeds-ptq", Lab2Report.RoundTripMetric, new[] { "quantization" }), ("q4-qat", Lab2Report.RoundTripMetric, new[] { "quantization", "train.qat_start" }) })
        {
            foreach (var c in LabComparison.CompareWithin(Sweep(name), baseline, groups, metric, Lab2Report.Margin))
            {
                verdicts[(Stabiliser(c.Values), name == "q4-seeds" ? "full precision" : Plan(c.Values))] = c.Verdict;
            }
        }

        var fp32Time = Times(Path.Combine(lab, "predictions", "q4-seeds-time.jsonl"), v => "full precision");
        var qatTime = Times(Path.Combine(lab, "predictions", "q4-qat-time.jsonl"), Plan);
        var measured = Measured(Sweep("q4-seeds"), v => "full precision");
        text.AppendLine("Ranked: **bits per byte gained per % of training-step time added** (PROTOCOL.md §6 Q4). Gain: the paired mean");
        text.AppendLine("difference against no stabiliser in the same plan (positive = better), median over the quantised plans; verdicts: the");
        text.AppendLine("families of q4-seeds-ptq and q4-qat (Holm, §5) over those plans. Time added: the time model's prediction of one");
        text.AppendLine("training step (graphed, fused kernels: how the lab ran; eager beside it) on the profile named, against the design");
        text.AppendLine("without a stabiliser — a **prediction** (predictions/q4-*-time.jsonl by scripts/lab2-time-predictions.sh), not a");
        text.AppendLine("measurement: the lab's runs shared the GPU, so their own step times are not each design's.");
        text.AppendLine();
        // Measured alone (slmgen sweep --time: q4-seeds' timing.jsonl) where every design was timed: then the rank's time.
        var timedAll = stabilisers.All(st => measured.ContainsKey((st, "full precision")));
        text.AppendLine("| rank | stabiliser | time added, graphed (eager), full precision | time added, graphed (eager), 4-bit QAT | time added, measured alone, full precision | gain at full precision | median gain, quantised plans | better / equivalent / worse / inconclusive (of plans) | gain per % time added |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|---|---:|");
        var rows = new List<(string Stabiliser, double Added, string Line)>();
        foreach (var s in stabilisers.Where(s => s != None))
        {
            double Gain(string plan) => cells.TryGetValue((None, plan), out var n) && cells.TryGetValue((s, plan), out var d)
                ? n.Scores.Keys.Intersect(d.Scores.Keys).Select(k => n.Scores[k] - d.Scores[k]).DefaultIfEmpty(double.NaN).Average()
                : double.NaN;
            var quantised = plans.Skip(1).Where(p => cells.ContainsKey((s, p))).ToList();
            var median = Lab2Report.Median(quantised.Select(Gain));
            var counts = quantised.Select(p => verdicts.GetValueOrDefault((s, p), string.Empty)).ToList();
            string Count(string prefix) => counts.Count(v => v.StartsWith(prefix, StringComparison.Ordinal)).ToString(CultureInfo.InvariantCulture);
            var predictedAdded = Added(fp32Time, s, "full precision");
            var addedQat = Added(qatTime, s, "4-bit QAT");
            var measuredAdded = measured.TryGetValue((s, "full precision"), out var ms) && measured.TryGetValue((None, "full precision"), out var msNone) ? 100 * ((ms / msNone) - 1) : double.NaN;
            var added = timedAll ? (Graphed: measuredAdded, Eager: double.NaN) : predictedAdded;
            var perPercent = !double.IsFinite(added.Graphed) || !double.IsFinite(median) ? "–"
                : added.Graphed <= 0.05 ? "no time added"
                : (median / added.Graphed).ToString("+0.00000;−0.00000", CultureInfo.InvariantCulture);
            rows.Add((s, added.Graphed, $"| {{0}} | {s} | {Percent(predictedAdded)} | {Percent(addedQat)} | {(double.IsFinite(measuredAdded) ? $"{measuredAdded:+0.0;−0.0;0.0} %" : "–")} | {Signed(Gain("full precision"))} ({verdicts.GetValueOrDefault((s, "full precision"), "–").Split(' ')[0]}) | {Signed(median)} | {Count("better")} / {Count("equivalent")} / {Count("worse")} / {Count("inconclusive")} (of {quantised.Count}) | {perPercent} |"));
            // The rank: a stabiliser better in some plan by its gain per % (a free one first among those), then the
            // others by their gain alone.
            var key = !double.IsFinite(median) ? double.NegativeInfinity
                : counts.Any(v => v.StartsWith("better", StringComparison.Ordinal)) ? 1e6 + (added.Graphed <= 0.05 ? 1e6 * median : median / added.Graphed)
                : median;
            rows[^1] = (s, key, rows[^1].Line);
        }

        var rank = 1;
        foreach (var r in rows.OrderByDescending(r => r.Added))
        {
            text.AppendLine(string.Format(CultureInfo.InvariantCulture, r.Line, rank++));
        }

        var profile = fp32Time.Values.Select(v => v.Profile).FirstOrDefault(p => p.Length > 0);
        text.AppendLine();
        text.AppendLine((profile is null ? "No time predictions found (scripts/lab2-time-predictions.sh q4-seeds q4-qat writes them). " : $"Time predictions on the profile of {profile}. ")
            + (timedAll ? "Gain per % time added uses the time **measured alone** (q4-seeds' timing.jsonl). " : "Gain per % time added uses the **predicted** graphed time (no measured-alone timing of every design yet: `slmgen sweep results/lab2/experiments/q4-seeds.yaml --time` on the GPU). ")
            + $"Rank: the stabilisers better than none in at least one plan first, by gain per % time added (one predicted to add under 0.05 % before them all), then the rest by their median gain.");
        text.AppendLine();
        return true;
    }

    /// <summary>The stabiliser a Q4 design declares (none, or the one of QK-norm, soft-cap, z-loss, EMA it turns on).</summary>
    public static string Stabiliser(IReadOnlyDictionary<string, string> v)
    {
        var on = new List<string>();
        if (v.GetValueOrDefault("layers.0.transformer.qk_norm") == "true")
        {
            on.Add("QK-norm");
        }

        if (v.GetValueOrDefault("head", string.Empty).Contains("softcap", StringComparison.Ordinal))
        {
            on.Add("logit soft-cap " + v["head"].Split("softcap:", 2)[1].Trim(' ', '}'));
        }

        if (v.TryGetValue("train.z_loss", out var z) && double.TryParse(z, NumberStyles.Float, CultureInfo.InvariantCulture, out var zv) && zv > 0)
        {
            on.Add("z-loss " + z);
        }

        if (v.TryGetValue("train.ema_decay", out var e) && double.TryParse(e, NumberStyles.Float, CultureInfo.InvariantCulture, out var ev) && ev > 0)
        {
            on.Add("weight EMA " + e);
        }

        return on.Count == 0 ? None : string.Join(" + ", on);
    }

    /// <summary>A design's plan: "full precision", or "&lt;bits&gt;-bit &lt;method&gt;" (QAT, late QAT, absmax, MSE, GPTQ, GPTQ-MSE, learned, GPTQ-learned; a stretched grid says so).</summary>
    public static string Plan(IReadOnlyDictionary<string, string> v)
    {
        if (!v.TryGetValue("quantization", out var q))
        {
            return "full precision";
        }

        var bits = Field(q, "attention");
        var method = Field(q, "method") switch
        {
            "qat" => v.GetValueOrDefault("train.qat_start", "0") is "0" or "0.0" ? "QAT" : "late QAT",
            "mse" => "MSE",
            "gptq" => "GPTQ",
            "gptq-mse" => "GPTQ-MSE",
            "gptq-learned" => "GPTQ-learned",
            var m => m,
        };
        return $"{bits}-bit {method}" + (Field(q, "grid") is { Length: > 0 } g ? $" ({g} grid)" : string.Empty);
    }

    private static string Field(string flow, string key)
    {
        var at = flow.IndexOf(key + ":", StringComparison.Ordinal);
        if (at < 0)
        {
            return string.Empty;
        }

        var rest = flow[(at + key.Length + 1)..].TrimStart();
        var end = rest.IndexOfAny([',', '}']);
        return (end < 0 ? rest : rest[..end]).Trim();
    }

    private sealed record Predicted(double Graphed, double Eager, string Profile);

    /// <summary>Each design's ms per step measured alone (the sweep's timing.jsonl), by (stabiliser, plan).</summary>
    private static Dictionary<(string, string), double> Measured(string sweep, Func<IReadOnlyDictionary<string, string>, string> plan)
    {
        var alone = Lab2Report.TimedAlone(sweep);
        var measured = new Dictionary<(string, string), double>();
        foreach (var line in File.ReadLines(Path.Combine(sweep, "results.jsonl")).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.TryGetProperty("model", out var model) && alone.TryGetValue(model.GetString()!, out var ms))
            {
                var values = root.GetProperty("values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
                measured[(Stabiliser(values), plan(values))] = ms;
            }
        }

        return measured;
    }

    /// <summary>Each prediction line's design, by (stabiliser, plan).</summary>
    private static Dictionary<(string, string), Predicted> Times(string file, Func<IReadOnlyDictionary<string, string>, string> plan)
    {
        var times = new Dictionary<(string, string), Predicted>();
        if (!File.Exists(file))
        {
            return times;
        }

        foreach (var line in File.ReadLines(file).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var values = root.GetProperty("values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            var time = root.GetProperty("time");
            var graphed = time.TryGetProperty("graphedMsPerStep", out var g) && g.ValueKind == JsonValueKind.Number ? g.GetDouble() : double.NaN;
            times[(Stabiliser(values), plan(values))] = new Predicted(graphed, time.GetProperty("eagerMsPerStep").GetDouble(), time.GetProperty("profile").GetString() ?? string.Empty);
        }

        return times;
    }

    /// <summary>The % of predicted step time a stabiliser adds to the design without one in the same plan (graphed, eager).</summary>
    private static (double Graphed, double Eager) Added(Dictionary<(string, string), Predicted> times, string stabiliser, string plan) =>
        times.TryGetValue((stabiliser, plan), out var s) && times.TryGetValue((None, plan), out var n)
            ? (100 * ((s.Graphed / n.Graphed) - 1), 100 * ((s.Eager / n.Eager) - 1))
            : (double.NaN, double.NaN);

    private static string Percent((double Graphed, double Eager) p) =>
        double.IsFinite(p.Eager) ? $"{p.Graphed:+0.0;−0.0;0.0} % ({p.Eager:+0.0;−0.0;0.0} %)" : "–";

    private static string Signed(double x) => double.IsFinite(x) ? x.ToString("+0.0000;−0.0000;0.0000", CultureInfo.InvariantCulture) : "–";
}
