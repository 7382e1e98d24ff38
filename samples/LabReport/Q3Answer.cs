using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace SlmGen.Samples.LabReport;

/// <summary>
/// Question 3's cost table (results/lab2/PROTOCOL.md §6 Q3: sharing "plus decode latency and artifact bytes for each"):
/// per shared design of each Q3 seed sweep, its parameters, the build's exact artifact bytes (the plan the design
/// declares: every tensor fp32 here), the time model's training step (graphed) and decoding latency at batch 1 (a
/// prefill of half the context, then one token with the KV cache) on the profile its predictions file names, and its
/// test score — so that what sharing saves in bytes and costs in quality and latency sits on one row.
/// </summary>
public static class Q3Answer
{
    /// <summary>Appends the section when a Q3 seed sweep has predictions (predictions/&lt;sweep&gt;-time.jsonl); returns whether it did.</summary>
    public static bool Write(string lab, StringBuilder text)
    {
        var sweeps = new[] { "q3-b1-seeds", "q3-b2-seeds" }
            .Where(s => File.Exists(Path.Combine(lab, "records", s, "results.jsonl")) && File.Exists(Predictions(lab, s)))
            .ToList();
        if (sweeps.Count == 0)
        {
            return false;
        }

        var ic = CultureInfo.InvariantCulture;
        text.AppendLine("## Q3: what sharing saves and costs — bytes, predicted latency, quality");
        text.AppendLine();
        text.AppendLine("Per design of Q3's seed sweeps: parameters and the build's **exact** artifact bytes (the design's own plan: every tensor");
        text.AppendLine("fp32; a quantised plan scales them, not their ratios), the time model's **predictions** on the profile named");
        text.AppendLine("(predictions/q3-*-time.jsonl by scripts/lab2-time-predictions.sh; blind checks of the time model: results/time — per-token");
        text.AppendLine("decoding 7.0 % median error in v8's check, 14.1 % in v9's on a host-slow machine; graphed steps 18 % and 10.5 %) of a graphed training step at the sweep's");
        text.AppendLine("batch and of decoding at batch 1 (a prefill of half the context, then one token after it with the KV cache), and");
        text.AppendLine("the test score of the final weights (mean ± sd over seeds). Shared designs run the same blocks more than once, so");
        text.AppendLine("they keep the unshared design's latency per token while storing fewer bytes.");
        text.AppendLine();
        foreach (var sweep in sweeps)
        {
            var records = Path.Combine(lab, "records", sweep);
            var costs = Costs(records);
            var predictions = File.ReadLines(Predictions(lab, sweep)).Where(l => l.Length > 0)
                .Select(l => JsonDocument.Parse(l).RootElement.Clone())
                .ToDictionary(p => p.GetProperty("point").GetInt32());
            var profile = predictions.Values.Select(p => p.GetProperty("profile").GetString()).FirstOrDefault();
            text.AppendLine(ic, $"### {sweep} (profile {profile})");
            text.AppendLine();
            var measured = Measured(records);
            if (measured.Count > 0)
            {
                var any = measured.Values.First();
                text.AppendLine(ic, $"Measured decoding (records/{sweep}/decode.jsonl: `slmgen time --decode`, batch 1, a prompt of {any.Prompt} tokens then {any.NewTokens} more, on {any.Device}): the median time a token after the prompt.");
                text.AppendLine();
            }

            text.AppendLine("| design | parameters | artifact bytes (exact) | vs the largest | training step, graphed (ms, predicted) | prefill (ms, predicted) | a token after it (ms, predicted) | a token (ms, measured) | test bits/byte, final weights |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
            var designs = LabComparison.Read(records, Lab2Report.Metric);
            var largest = costs.Values.Select(c => c.Bytes).DefaultIfEmpty(0).Max();
            foreach (var d in designs.OrderByDescending(d => costs.TryGetValue(d.Point, out var c) ? c.Bytes : 0))
            {
                var (parameters, bytes) = costs.TryGetValue(d.Point, out var c) ? c : (0, 0);
                var time = predictions.TryGetValue(d.Point, out var p) ? p.GetProperty("time") : default;
                string Ms(Func<JsonElement, double> pick) => time.ValueKind == JsonValueKind.Object ? pick(time).ToString("0.000", ic) : "–";
                var scores = d.Scores.Values.ToList();
                text.AppendLine(ic,
                    $"| {LabComparison.Describe(d.Values)} | {parameters:N0} | {bytes:N0} | {(largest > 0 ? (double)bytes / largest : double.NaN):0.00}× | {Ms(t => t.GetProperty("graphedMsPerStep").GetDouble())} | "
                    + $"{Ms(t => t.GetProperty("decode").GetProperty("prefillMs").GetDouble())} | {Ms(t => t.GetProperty("decode").GetProperty("msPerToken").GetDouble())} | {(measured.TryGetValue(d.Point, out var m) ? m.MsPerToken.ToString("0.000", ic) : "–")} | {(scores.Count > 0 ? Lab2Report.MeanSd(scores) : "–")} |");
            }

            text.AppendLine();
        }

        return true;
    }

    /// <summary>
    /// Each point's measured decoding, where the sweep's records hold decode.jsonl (slmgen time --decode --json over its
    /// points/pNNN.yaml): keyed by the point of the spec's file name.
    /// </summary>
    private static Dictionary<int, (double MsPerToken, int Prompt, int NewTokens, string Device)> Measured(string records)
    {
        var measured = new Dictionary<int, (double, int, int, string)>();
        var path = Path.Combine(records, "decode.jsonl");
        if (!File.Exists(path))
        {
            return measured;
        }

        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var name = Path.GetFileNameWithoutExtension(root.GetProperty("spec").GetString() ?? string.Empty);
            if (name.Length > 1 && name[0] == 'p' && int.TryParse(name[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var point)
                && root.TryGetProperty("ms_per_token", out var ms) && ms.ValueKind == JsonValueKind.Number)
            {
                measured[point] = (ms.GetDouble(), root.GetProperty("prompt_tokens").GetInt32(), root.GetProperty("new_tokens").GetInt32(), root.GetProperty("device").GetString() ?? "?");
            }
        }

        return measured;
    }

    private static string Predictions(string lab, string sweep) => Path.Combine(lab, "predictions", sweep + "-time.jsonl");

    /// <summary>Each point's parameters and the build's artifact bytes (results.jsonl's costs).</summary>
    private static Dictionary<int, (long Parameters, long Bytes)> Costs(string records)
    {
        var costs = new Dictionary<int, (long, long)>();
        foreach (var line in File.ReadLines(Path.Combine(records, "results.jsonl")).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.TryGetProperty("costs", out var c) && c.TryGetProperty("artifactBytes", out var b))
            {
                costs[root.GetProperty("point").GetInt32()] = (c.GetProperty("parameters").GetInt64(), b.GetInt64());
            }
        }

        return costs;
    }
}
