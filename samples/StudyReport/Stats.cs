using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace SlmGen.Samples.StudyReport;

/// <summary>Mean and spread over seeds, and how the report writes numbers.</summary>
internal static class Stats
{
    /// <summary>Mean, sample standard deviation (NaN for one value) and count.</summary>
    public static (double Mean, double Sd, int N) Of(IEnumerable<double> xs)
    {
        var list = xs.ToList();
        var mean = list.Average();
        var sd = list.Count > 1 ? Math.Sqrt(list.Sum(x => (x - mean) * (x - mean)) / (list.Count - 1)) : double.NaN;
        return (mean, sd, list.Count);
    }

    /// <summary>A number with four decimals (or <paramref name="format"/>); NaN as a dash.</summary>
    public static string F(double v, string format = "0.0000") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>"mean ± sd (n)", or a dash for no values.</summary>
    public static string MeanSd(IReadOnlyCollection<double> xs)
    {
        if (xs.Count == 0)
        {
            return "–";
        }

        var s = Of(xs);
        return $"{F(s.Mean)} ± {F(s.Sd)} ({s.N})";
    }
}
