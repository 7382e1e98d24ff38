using System.Globalization;

namespace SlmGen.Generator.Parsing;

/// <summary>Durations in specs: a number and a unit (us, µs, ms, s, m, h, d), as "90s", "5ms", "1.5h".</summary>
internal static class DurationText
{
    /// <summary>Seconds; 0 for none (null or empty), NaN for text that is not a duration.</summary>
    public static double Seconds(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return 0;
        }

        var t = text!.Trim();
        var units = new (string Suffix, double Seconds)[] { ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400) };
        foreach (var (suffix, seconds) in units)
        {
            if (t.EndsWith(suffix, System.StringComparison.Ordinal)
                && !(suffix == "s" && (t.EndsWith("us", System.StringComparison.Ordinal) || t.EndsWith("µs", System.StringComparison.Ordinal) || t.EndsWith("ms", System.StringComparison.Ordinal)))
                && double.TryParse(t.Substring(0, t.Length - suffix.Length).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && value > 0 && !double.IsInfinity(value * seconds) && value * seconds >= 1e-9)
            {
                return value * seconds;
            }
        }

        return double.NaN;
    }
}
