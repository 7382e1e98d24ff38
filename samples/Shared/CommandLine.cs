using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;

namespace SlmGen.Samples;

/// <summary>
/// The samples' command lines, on System.CommandLine (the library the slmgen tool uses): each call declares an
/// option ("--name value" or a flag) with its help text and default and returns its value; positional words
/// are <see cref="Positional"/>. Numbers accept 1e6, 5k, 2M and underscores; whole numbers are range-checked.
/// A bad value, an unknown option or a user's mistake later in the run is one line on stderr and exit status 2.
/// </summary>
internal sealed class CommandLine
{
    private readonly string[] args;
    private readonly RootCommand root = new();
    private readonly Argument<string[]> positional = new("words") { Arity = ArgumentArity.ZeroOrMore, Description = "the command and its arguments" };

    public CommandLine(IEnumerable<string> args, string description = "")
    {
        this.args = args.ToArray();
        root.Description = description;
        root.Add(positional);
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is ArgumentException or InvalidOperationException or IOException)
            {
                Console.Out.Flush();
                Console.Error.WriteLine("error: " + ((Exception)e.ExceptionObject).Message);
                Environment.Exit(2);
            }
        };
    }

    /// <summary>The words that are not options (a command and its arguments).</summary>
    public List<string> Positional => root.Parse(args).GetValue(positional)?.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList() ?? new List<string>();

    /// <summary>Whether --help, -h or -? was given.</summary>
    public bool WantsHelp => args.Any(a => a is "--help" or "-h" or "-?");

    /// <summary>The options declared so far, as System.CommandLine prints them.</summary>
    public string Usage
    {
        get
        {
            var text = new StringWriter();
            root.Parse(new[] { "--help" }).Invoke(new InvocationConfiguration { Output = text });
            return text.ToString();
        }
    }

    public string String(string name, string fallback, string description) => Get(new Option<string>("--" + name) { Description = description, DefaultValueFactory = _ => fallback })!;

    public string? Optional(string name, string description) => Get(new Option<string?>("--" + name) { Description = description });

    public long Long(string name, long fallback, string description) => Get(Number("--" + name, fallback, description, long.MinValue, long.MaxValue));

    public int Int(string name, int fallback, string description) => (int)Get(Number("--" + name, fallback, description, int.MinValue, int.MaxValue));

    public double Double(string name, double fallback, string description) => Get(new Option<double>("--" + name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = r => Parse(r, r.Tokens.Count == 0 ? fallback.ToString(CultureInfo.InvariantCulture) : r.Tokens[0].Value) ?? fallback,
    });

    public bool Flag(string name, string description) => Get(new Option<bool>("--" + name) { Description = description });

    /// <summary>Throws when an option was given that no call asked for, or a value did not parse.</summary>
    public void EnsureAllKnown()
    {
        var result = root.Parse(args);
        var unknown = (result.GetValue(positional) ?? Array.Empty<string>()).Where(w => w.StartsWith("--", StringComparison.Ordinal)).Concat(result.UnmatchedTokens).Distinct().ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown)}.\n{Usage}");
        }

        if (result.Errors.Count > 0)
        {
            throw new ArgumentException(string.Join("\n", result.Errors.Select(e => e.Message)));
        }
    }

    private T Get<T>(Option<T> option)
    {
        root.Add(option);
        var result = root.Parse(args);
        var errors = result.Errors.Where(e => e.SymbolResult is OptionResult o && o.Option == option).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(errors[0].Message);
        }

        return result.GetValue(option)!;
    }

    private static Option<long> Number(string name, long fallback, string description, long min, long max) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 0 ? fallback.ToString(CultureInfo.InvariantCulture) : r.Tokens[0].Value;
            var v = Parse(r, text);
            if (v is not { } d)
            {
                return fallback;
            }

            if (d != Math.Floor(d) || d < min || d >= (double)max + 1.0)
            {
                r.AddError($"{name} expects a whole number from {min:N0} to {max:N0}, not '{text}'.");
                return fallback;
            }

            return (long)d;
        },
    };

    private static double? Parse(ArgumentResult r, string s)
    {
        var text = s.Replace("_", string.Empty, StringComparison.Ordinal).Trim();
        var scale = 1.0;
        if (text.EndsWith("k", StringComparison.OrdinalIgnoreCase)) { scale = 1e3; text = text[..^1]; }
        else if (text.EndsWith("M", StringComparison.Ordinal)) { scale = 1e6; text = text[..^1]; }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            var option = (r.Parent as OptionResult)?.Option.Name ?? "the option";
            r.AddError($"{option} expects a number, not '{s}'.");
            return null;
        }

        return v * scale;
    }
}
