using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace SlmGen.Samples;

/// <summary>A small "--name value" / "--flag" parser for the samples: unknown options are an error with the list of known ones.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> known = new(StringComparer.OrdinalIgnoreCase) { "help" };
    private readonly List<string> help = new();

    public CommandLine(IEnumerable<string> args)
    {
        // A user's mistake (a bad option, a refused checkpoint, missing data) is one line on stderr and exit
        // status 2, not a stack trace.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is ArgumentException or InvalidOperationException or System.IO.IOException)
            {
                Console.Out.Flush();
                Console.Error.WriteLine("error: " + ((Exception)e.ExceptionObject).Message);
                Environment.Exit(2);
            }
        };

        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(a);
                continue;
            }

            var name = a[2..];
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = list[++i];
            }

            values[name] = value;
        }
    }

    public List<string> Positional { get; } = new();

    public bool WantsHelp => values.ContainsKey("help");

    public string String(string name, string fallback, string description) => Get(name, fallback, description) ?? fallback;

    public string? Optional(string name, string description) => Get(name, null, description);

    public long Long(string name, long fallback, string description) =>
        Get(name, fallback.ToString(CultureInfo.InvariantCulture), description) is { } s ? Whole(name, s, long.MinValue, long.MaxValue) : fallback;

    public int Int(string name, int fallback, string description) =>
        Get(name, fallback.ToString(CultureInfo.InvariantCulture), description) is { } s ? (int)Whole(name, s, int.MinValue, int.MaxValue) : fallback;

    public double Double(string name, double fallback, string description) =>
        Get(name, fallback.ToString(CultureInfo.InvariantCulture), description) is { } s ? ParseNumber(name, s) : fallback;

    public bool Flag(string name, string description)
    {
        known.Add(name);
        help.Add($"  --{name,-22} {description}");
        return values.TryGetValue(name, out var v) && (v is null || v.Equals("true", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Throws when an option was given that no call asked for.</summary>
    public void EnsureAllKnown()
    {
        var unknown = values.Keys.Where(k => !known.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.\nOptions:\n{Usage}");
        }
    }

    public string Usage => string.Join("\n", help);

    private string? Get(string name, string? fallback, string description)
    {
        known.Add(name);
        help.Add($"  --{name,-22} {description}{(fallback is null ? string.Empty : $" (default {fallback})")}");
        return values.TryGetValue(name, out var v) ? v ?? throw new ArgumentException($"--{name} needs a value.") : fallback;
    }

    private static long Whole(string name, string s, long min, long max)
    {
        var v = ParseNumber(name, s);
        if (v != Math.Floor(v) || v < min || v >= (double)max + 1.0)
        {
            throw new ArgumentException($"--{name} expects a whole number from {min:N0} to {max:N0}, not '{s}'.");
        }

        return (long)v;
    }

    private static double ParseNumber(string name, string s)
    {
        var text = s.Replace("_", string.Empty).Trim();
        var scale = 1.0;
        if (text.EndsWith("k", StringComparison.OrdinalIgnoreCase)) { scale = 1e3; text = text[..^1]; }
        else if (text.EndsWith("M", StringComparison.Ordinal)) { scale = 1e6; text = text[..^1]; }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            throw new ArgumentException($"--{name} expects a number, not '{s}'.");
        }

        return v * scale;
    }
}
