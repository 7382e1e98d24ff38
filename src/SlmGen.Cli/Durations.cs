using System;
using System.Globalization;

namespace SlmGen.Cli;

/// <summary>Durations on the command line: "90s", "10m", "2h", "1.5h", "00:10:00", or "off"/"0" for none.</summary>
public static class Durations
{
    /// <summary>Reads a duration; false when the text is not one (or is negative, infinite or over a year).</summary>
    public static bool TryParse(string text, out TimeSpan? value)
    {
        value = null;
        var t = text.Trim().ToLowerInvariant();
        if (t is "off" or "none" or "0")
        {
            return true;
        }

        if (t.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero && span <= TimeSpan.FromDays(366))
            {
                value = span;
                return true;
            }

            return false;
        }

        var unit = t.Length > 0 ? t[^1] : ' ';
        var seconds = unit switch { 's' => 1.0, 'm' => 60.0, 'h' => 3600.0, 'd' => 86400.0, _ => 0 };
        if (seconds == 0 || !double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n) || n <= 0 || n * seconds > 366 * 86400.0)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(n * seconds);
        return true;
    }

    /// <summary>Reads a duration or throws a <see cref="CliException"/> naming the option.</summary>
    public static TimeSpan? Parse(string text, string option) =>
        TryParse(text, out var value) ? value : throw new CliException($"{option} {text}: expected a duration such as 90s, 10m or 2h, or off.");
}
