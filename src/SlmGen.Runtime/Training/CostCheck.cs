using System;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;

namespace SlmGen.Training;

/// <summary>
/// The start-up check: the model's compile-time costs next to what the instantiated module holds and what
/// a real forward pass measures. A mismatch means the generated code and the cost model disagree: an error.
/// </summary>
public static class CostCheck
{
    /// <summary>Prints the table to <paramref name="log"/> and throws on a mismatch. Runs on the model's device.</summary>
    public static MeasuredCost Verify(SlmModel model, TextWriter log)
    {
        var cost = model.Cost;
        var measured = CostProbe.Measure(model, batch: 2);
        var rows = new[]
        {
            ("parameters", cost.Parameters, measured.Parameters),
            (cost.PredictsEveryPosition ? "forward FLOPs / token" : "forward FLOPs / prediction", cost.ForwardFlopsPerToken, measured.ForwardFlopsPerPrediction),
            (cost.PredictsEveryPosition ? "training FLOPs / token" : "training FLOPs / prediction", cost.TrainingFlopsPerToken, measured.TrainingFlopsPerPrediction),
        };

        log.WriteLine($"{cost.Model}: compile-time costs vs. the instantiated module");
        log.WriteLine($"  {"",-28} {"compile time",16} {"runtime",16}");
        foreach (var (name, compile, runtime) in rows)
        {
            log.WriteLine($"  {name,-28} {compile,16:N0} {runtime,16:N0}{(compile == runtime ? "" : "   MISMATCH")}");
        }

        log.WriteLine($"  by component: {string.Join(", ", cost.Components.Where(c => c.Parameters > 0).Select(c => $"{c.Name} {c.Parameters:N0}"))}");
        log.WriteLine($"  weights {Bytes(cost.WeightBytesFp32)} fp32 / {Bytes(cost.WeightBytesBf16)} bf16, AdamW state {Bytes(cost.AdamWStateBytes)}, KV cache {Bytes(cost.KvCacheBytesPerSequenceBf16)} per sequence (bf16)");
        var bad = rows.Where(r => r.Item2 != r.Item3).ToList();
        if (bad.Count > 0)
        {
            throw new InvalidOperationException(
                $"{cost.Model}: the compile-time costs do not match the module ({string.Join("; ", bad.Select(b => $"{b.Item1}: {b.Item2:N0} vs {b.Item3:N0}"))}).");
        }

        return measured;
    }

    internal static string Bytes(double bytes) =>
        bytes >= 1 << 30 ? (bytes / (1 << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB"
        : bytes >= 1 << 20 ? (bytes / (1 << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";
}
