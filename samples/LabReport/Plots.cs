using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace SlmGen.Samples.LabReport;

/// <summary>The lab's plots (ScottPlot, PNG): Pareto fronts of bits per character, and measured time against FLOPs.</summary>
internal static class Plots
{
    /// <summary>Test bits per character against log10 training FLOPs per character, one series per budget and head.</summary>
    public static void Vocabulary(List<LabPoint> points, string corpus, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var series in points.GroupBy(p => (p.Train["flops"], p.Value("head"))).OrderBy(g => g.Key.Item1, StringComparer.Ordinal))
        {
            var ordered = series.OrderBy(p => p.Vocab).ToList();
            var line = plot.Add.ScatterLine(ordered.Select(p => Math.Log10(p.TrainingFlopsPerCharacter)).ToArray(), ordered.Select(p => p.Runs.Average(r => r.TestBitsPerCharacter)).ToArray());
            line.LegendText = $"{series.Key.Item2} head, {series.Key.Item1} FLOPs";
            line.MarkerSize = 7;
            foreach (var p in ordered)
            {
                var label = plot.Add.Text(p.Vocab.ToString("N0", CultureInfo.InvariantCulture), Math.Log10(p.TrainingFlopsPerCharacter), p.Runs.Average(r => r.TestBitsPerCharacter));
                label.LabelFontSize = 9;
            }
        }

        plot.Title($"{(corpus == "shakespeare" ? "Tiny Shakespeare" : "WikiText-2")}: test bits per character at equal training FLOPs (labels: vocabulary)");
        plot.XLabel("log10 training FLOPs per character of text (exact, per token ÷ characters per token)");
        plot.YLabel("test bits per character (mean of 3 seeds)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1000, 650);
    }

    /// <summary>Test bits per character against log10 stored weight bytes for the sharing, width and precision designs.</summary>
    public static void Bytes(List<LabPoint> sharing, List<LabPoint> width, List<LabPoint> precision, Func<LabPoint, string> precisionLabel, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (name, points, bytes) in new[]
                 {
                     ("sharing (fp32 bytes)", sharing, (Func<LabPoint, long>)(p => p.WeightBytesFp32)),
                     ("width (fp32 bytes)", width, p => p.WeightBytesFp32),
                     ("precision (bytes at the declared precision)", precision, p => p.WeightBytesDeclared),
                 })
        {
            if (points.Count == 0)
            {
                continue;
            }

            var scatter = plot.Add.ScatterPoints(points.Select(p => Math.Log10(bytes(p))).ToArray(), points.Select(p => p.Runs.Average(r => r.TestBitsPerCharacter)).ToArray());
            scatter.LegendText = name;
            scatter.MarkerSize = 9;
        }

        plot.Title("Tiny Shakespeare characters: test bits per character against stored weight bytes (equal training FLOPs)");
        plot.XLabel("log10 weight bytes");
        plot.YLabel("test bits per character (mean of 3 seeds)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1000, 650);
    }

    /// <summary>Measured step time alone against exact training FLOPs per token, one series per experiment.</summary>
    public static void TimeAgainstFlops(List<LabPoint> points, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var series in points.GroupBy(p => p.Experiment.Replace("-4x", string.Empty, StringComparison.Ordinal).Replace("-grouped", string.Empty, StringComparison.Ordinal)))
        {
            var scatter = plot.Add.ScatterPoints(series.Select(p => p.TrainingFlopsPerToken / 1e6).ToArray(), series.Select(p => p.MillisecondsPerStep!.Value).ToArray());
            scatter.LegendText = series.Key;
            scatter.MarkerSize = 8;
        }

        plot.Title("Step time measured alone (H200, bf16, 32 × 128 tokens) against exact training FLOPs per token");
        plot.XLabel("training FLOPs per token (millions)");
        plot.YLabel("ms per training step");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 1000, 650);
    }

    /// <summary>
    /// One seed sweep of the second lab: each design's mean of a score (its seeds) with the 95 % t-interval of that mean,
    /// the designs top to bottom from the best, labelled with their grid values.
    /// </summary>
    public static void Designs(IReadOnlyList<(string Label, IReadOnlyList<double> Scores)> designs, string title, string xLabel, string path)
    {
        var plot = new ScottPlot.Plot();
        var ordered = designs.Where(d => d.Scores.Count > 0).OrderBy(d => d.Scores.Average()).ToList();
        var positions = new List<double>();
        var labels = new List<string>();
        for (var i = 0; i < ordered.Count; i++)
        {
            var (label, scores) = ordered[i];
            var y = ordered.Count - i;
            var mean = scores.Average();
            if (scores.Count > 1)
            {
                var (_, sd) = PairedStatistics.MeanSd(scores.ToList());
                var half = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, scores.Count - 1, 0.975) * sd / Math.Sqrt(scores.Count);
                var interval = plot.Add.Line(mean - half, y, mean + half, y);
                interval.LineWidth = 2;
                interval.Color = ScottPlot.Colors.Gray;
            }

            var marker = plot.Add.Marker(mean, y);
            marker.Size = 8;
            marker.Color = ScottPlot.Colors.Black;
            positions.Add(y);
            labels.Add(label);
        }

        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions.ToArray(), labels.ToArray());
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.SavePng(path, 1300, Math.Max(300, 80 + (34 * ordered.Count)));
    }
}
