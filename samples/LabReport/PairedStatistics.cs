using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.Distributions;

namespace SlmGen.Samples.LabReport;

/// <summary>A difference of means (a − b) with its confidence interval and two-sided p-value.</summary>
/// <param name="Mean">The mean difference.</param>
/// <param name="Low">The interval's lower end.</param>
/// <param name="High">The interval's upper end.</param>
/// <param name="P">The two-sided p-value of "no difference".</param>
/// <param name="DegreesOfFreedom">Student's t degrees of freedom (Welch–Satterthwaite for unpaired samples).</param>
/// <param name="Confidence">The interval's level (0.95, or the Bonferroni level of a family).</param>
/// <param name="Paired">Seed-matched (paired t) or not (Welch).</param>
public sealed record Difference(double Mean, double Low, double High, double P, double DegreesOfFreedom, double Confidence, bool Paired)
{
    /// <summary>The interval lies inside ±<paramref name="margin"/>: the two are equivalent to within it.</summary>
    public bool EquivalentWithin(double margin) => Low > -margin && High < margin;

    /// <summary>The interval excludes 0.</summary>
    public bool Excludes0 => Low > 0 || High < 0;
}

/// <summary>
/// The second lab's statistics (results/lab2/PROTOCOL.md §5): paired t-intervals for seed-matched runs, Welch's interval
/// otherwise, Holm's adjustment within a family of comparisons (with Bonferroni-level simultaneous intervals), and the
/// minimum detectable difference of a comparison. Student's t quantiles from MathNet.Numerics.
/// </summary>
public static class PairedStatistics
{
    /// <summary>Seed-matched runs: the mean of the differences a[i] − b[i] and its t-interval (n − 1 degrees of freedom).</summary>
    public static Difference Paired(IReadOnlyList<double> a, IReadOnlyList<double> b, double confidence = 0.95)
    {
        if (a.Count != b.Count || a.Count < 2)
        {
            throw new ArgumentException($"paired samples need the same number (at least 2) of values: {a.Count} and {b.Count}");
        }

        var d = a.Zip(b, (x, y) => x - y).ToList();
        var (mean, sd) = MeanSd(d);
        double df = d.Count - 1;
        return Interval(mean, sd / Math.Sqrt(d.Count), df, confidence, paired: true);
    }

    /// <summary>Independent samples: Welch's interval for mean(a) − mean(b) (Welch–Satterthwaite degrees of freedom).</summary>
    public static Difference Welch(IReadOnlyList<double> a, IReadOnlyList<double> b, double confidence = 0.95)
    {
        if (a.Count < 2 || b.Count < 2)
        {
            throw new ArgumentException($"Welch's interval needs at least 2 values a side: {a.Count} and {b.Count}");
        }

        var (ma, sa) = MeanSd(a);
        var (mb, sb) = MeanSd(b);
        var va = sa * sa / a.Count;
        var vb = sb * sb / b.Count;
        var se = Math.Sqrt(va + vb);
        var df = (va + vb) * (va + vb) / (va * va / (a.Count - 1) + vb * vb / (b.Count - 1));
        return Interval(ma - mb, se, df, confidence, paired: false);
    }

    /// <summary>Holm's step-down adjustment: each p-value of the family made comparable with the family's level.</summary>
    public static double[] Holm(IReadOnlyList<double> p)
    {
        var order = Enumerable.Range(0, p.Count).OrderBy(i => p[i]).ToArray();
        var adjusted = new double[p.Count];
        var running = 0.0;
        for (var rank = 0; rank < order.Length; rank++)
        {
            running = Math.Max(running, Math.Min(1, (p.Count - rank) * p[order[rank]]));
            adjusted[order[rank]] = running;
        }

        return adjusted;
    }

    /// <summary>The level of each interval of a family of <paramref name="comparisons"/> so that all hold together at <paramref name="confidence"/> (Bonferroni).</summary>
    public static double SimultaneousLevel(int comparisons, double confidence = 0.95) => 1 - (1 - confidence) / Math.Max(1, comparisons);

    /// <summary>
    /// The smallest true difference a paired comparison of <paramref name="n"/> seeds detects with probability
    /// <paramref name="power"/> at two-sided level <paramref name="alpha"/>, when the differences' sd is <paramref name="sd"/>.
    /// </summary>
    public static double MinimumDetectable(double sd, int n, double alpha = 0.05, double power = 0.8)
    {
        double df = n - 1;
        return (StudentT.InvCDF(0, 1, df, 1 - alpha / 2) + StudentT.InvCDF(0, 1, df, power)) * sd / Math.Sqrt(n);
    }

    private static Difference Interval(double mean, double se, double df, double confidence, bool paired)
    {
        var t = StudentT.InvCDF(0, 1, df, 1 - (1 - confidence) / 2);
        var p = se > 0 ? 2 * (1 - StudentT.CDF(0, 1, df, Math.Abs(mean / se))) : mean == 0 ? 1 : 0;
        return new Difference(mean, mean - t * se, mean + t * se, p, df, confidence, paired);
    }

    /// <summary>The mean and the sample standard deviation (n − 1).</summary>
    public static (double Mean, double Sd) MeanSd(IReadOnlyCollection<double> xs)
    {
        var mean = xs.Average();
        return (mean, Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)));
    }
}
