using System;
using System.Globalization;

namespace SlmGen.Generator.Parsing;

/// <summary>
/// Numbers as people write them in specs: <c>128</c>, <c>10_000</c>, <c>12M</c>, <c>1.5B</c>, <c>1e15</c>,
/// <c>64Ki</c>. Decimal suffixes K, M, G/B, T (10³ … 10¹²) and binary ones Ki, Mi, Gi, Ti (2¹⁰ … 2⁴⁰).
/// </summary>
internal static class HumanNumbers
{
    /// <summary>Parses a number; false when the text is not one (or not finite).</summary>
    public static bool TryParse(string text, out double value)
    {
        value = 0;
        var s = text.Trim().Replace("_", string.Empty);
        if (s.Length == 0)
        {
            return false;
        }

        double scale = 1;
        foreach (var (suffix, factor) in Suffixes)
        {
            if (s.Length > suffix.Length && s.EndsWith(suffix, StringComparison.Ordinal))
            {
                scale = factor;
                s = s.Substring(0, s.Length - suffix.Length);
                break;
            }
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        value = number * scale;
        return !double.IsNaN(value) && !double.IsInfinity(value);
    }

    /// <summary>Parses a whole number that fits in a long; <paramref name="problem"/> says why not.</summary>
    public static bool TryParseWhole(string text, out long value, out string problem)
    {
        value = 0;
        problem = string.Empty;
        if (!TryParse(text, out var d))
        {
            problem = "not a number";
            return false;
        }

        if (Math.Abs(d - Math.Round(d)) > 1e-9 * Math.Max(1, Math.Abs(d)))
        {
            problem = "not a whole number";
            return false;
        }

        if (d >= 9.2e18 || d <= -9.2e18)
        {
            problem = "too large";
            return false;
        }

        value = (long)Math.Round(d);
        return true;
    }

    private static readonly (string Suffix, double Factor)[] Suffixes =
    {
        ("Ki", 1024.0), ("Mi", 1024.0 * 1024), ("Gi", 1024.0 * 1024 * 1024), ("Ti", 1024.0 * 1024 * 1024 * 1024),
        ("k", 1e3), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1e9), ("T", 1e12),
    };
}
