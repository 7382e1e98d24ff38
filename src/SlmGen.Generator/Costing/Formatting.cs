using System;
using System.Globalization;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Costing;

/// <summary>Numbers as messages and tables show them.</summary>
internal static class Formatting
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Count(decimal value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ratio(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Bytes in binary units ("3.1 MiB").</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    public static string Percent(double fraction) => Math.Round(fraction * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    /// <summary>Three significant digits with an SI suffix: 1.18 T, 10.8 M.</summary>
    public static string Short(double value)
    {
        var abs = Math.Abs(value);
        var (scale, suffix) = abs >= 1e18 ? (1e18, "E") : abs >= 1e15 ? (1e15, "P") : abs >= 1e12 ? (1e12, "T") : abs >= 1e9 ? (1e9, "G") : abs >= 1e6 ? (1e6, "M") : abs >= 1e3 ? (1e3, "k") : (1.0, string.Empty);
        var scaled = value / scale;
        var format = Math.Abs(scaled) >= 100 ? "0" : Math.Abs(scaled) >= 10 ? "0.0" : "0.00";
        return scaled.ToString(format, CultureInfo.InvariantCulture) + (suffix.Length > 0 ? " " + suffix : string.Empty);
    }

    /// <summary>A double budget or total, exactly when whole and small enough, else in scientific form.</summary>
    public static string Flops(double value) =>
        value < 1e18 && Math.Abs(value - Math.Round(value)) < 0.5
            ? ((decimal)Math.Round(value)).ToString("N0", CultureInfo.InvariantCulture)
            : value.ToString("0.###e+0", CultureInfo.InvariantCulture);
}
