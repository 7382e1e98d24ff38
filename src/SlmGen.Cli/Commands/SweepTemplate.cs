using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using SlmGen.IO;

namespace SlmGen.Cli.Commands;

/// <summary>One axis of a sweep's grid: one or several fields that take their values together.</summary>
/// <param name="Fields">Dotted spec fields, or <c>train.KEY</c> for a training option of the point.</param>
/// <param name="Values">One entry per grid value: a node per field.</param>
public sealed record SweepAxis(IReadOnlyList<string> Fields, IReadOnlyList<IReadOnlyList<YamlNode>> Values);

/// <summary>
/// A sweep template, read and checked: the base spec, the grid, the budget and training options of every point,
/// the seeds and the output folder. Every mistake names the template's line and column.
/// </summary>
public sealed class SweepTemplate
{
    /// <summary>Training options a template may set: the train command's settings (<see cref="TrainSettings"/>) that a point may set, and the sweep's own two.</summary>
    public static readonly IReadOnlySet<string> TrainKeys = new HashSet<string>(
        TrainSettings.All.Where(s => s.InSweeps).Select(s => s.Key).Concat(new[]
        {
            "flops",     // equal exact training FLOPs: each point's steps = flops / (its training FLOPs per step)
            "min_steps", // with flops: a design that cannot take this many steps within them is over the experiment's budget
        }),
        StringComparer.Ordinal);

    private static readonly string[] TopKeys = { "base", "grid", "budget", "train", "seeds", "out" };

    private SweepTemplate(string path, string basePath, IReadOnlyList<SweepAxis> axes, YamlNode? budget, IReadOnlyDictionary<string, string> train, IReadOnlyList<long>? seeds, string outDir)
    {
        Path = path;
        BasePath = basePath;
        Axes = axes;
        Budget = budget;
        Train = train;
        Seeds = seeds;
        OutDir = outDir;
    }

    /// <summary>The template file.</summary>
    public string Path { get; }

    /// <summary>The base spec (absolute).</summary>
    public string BasePath { get; }

    /// <summary>The grid's axes, in order.</summary>
    public IReadOnlyList<SweepAxis> Axes { get; }

    /// <summary>The budget set on every point, if any.</summary>
    public YamlNode? Budget { get; }

    /// <summary>Training options of every point (snake_case keys, scalar values).</summary>
    public IReadOnlyDictionary<string, string> Train { get; }

    /// <summary>The seeds each point trains with (null: one run, the train command's seed).</summary>
    public IReadOnlyList<long>? Seeds { get; }

    /// <summary>The output folder (absolute).</summary>
    public string OutDir { get; }

    /// <summary>The equal-FLOPs budget of every run, if the template sets one.</summary>
    public double? Flops => Train.TryGetValue("flops", out var f) ? double.Parse(f, CultureInfo.InvariantCulture) : null;

    /// <summary>Reads a template; command-line overrides (training options, seeds, output) win over its own.</summary>
    public static SweepTemplate Load(string path, IReadOnlyDictionary<string, string>? trainOverrides = null, IReadOnlyList<long>? seedOverride = null, string? outOverride = null)
    {
        var root = LoadMapping(path, "sweep template");
        foreach (var key in root.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } k } || !TopKeys.Contains(k))
            {
                throw new CliException($"{At(path, key)}: unknown template key '{key}' (expected {string.Join(", ", TopKeys)}).");
            }
        }

        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var basePath = System.IO.Path.Combine(dir, Scalar(root, "base", path) ?? throw new CliException($"{path}: 'base' (the spec to start from) is missing."));
        if (!File.Exists(basePath))
        {
            throw new CliException($"{At(path, root.Children[new YamlScalarNode("base")])}: the base spec {basePath} does not exist.");
        }

        Cli.EnsureReadable(basePath, "base spec");

        var grid = root.Children.TryGetValue(new YamlScalarNode("grid"), out var g) && g is YamlMappingNode gm ? gm : throw new CliException($"{path}: 'grid' (fields and their values) is missing.");
        var axes = grid.Children.Select(kv => Axis(path, kv.Key, kv.Value, dir)).ToList();
        var train = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.Children.TryGetValue(new YamlScalarNode("train"), out var t))
        {
            if (t is not YamlMappingNode tm)
            {
                throw new CliException($"{At(path, t)}: 'train' must be a mapping of training options.");
            }

            foreach (var (key, value) in tm.Children)
            {
                var name = (key as YamlScalarNode)?.Value ?? string.Empty;
                train[name] = ResolvePath(name, CheckTrain(name, value, path), dir);
                EnsureData(name, train[name], At(path, value));
            }
        }

        foreach (var (key, value) in trainOverrides ?? new Dictionary<string, string>())
        {
            train[key] = ResolvePath(key, CheckTrain(key, new YamlScalarNode(value), "--train"), Directory.GetCurrentDirectory());
            EnsureData(key, train[key], "--train");
        }

        if (train.ContainsKey("flops") && train.ContainsKey("steps"))
        {
            throw new CliException($"{path}: train sets both 'flops' and 'steps'; with flops each point's steps follow from its training FLOPs per step.");
        }

        List<long>? seeds = null;
        if (seedOverride is not null)
        {
            seeds = seedOverride.ToList();
        }
        else if (root.Children.TryGetValue(new YamlScalarNode("seeds"), out var s))
        {
            seeds = s is YamlSequenceNode seq && seq.Children.Count > 0
                ? seq.Children.Select(n => n is YamlScalarNode { Value: { } v } && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new CliException($"{At(path, n)}: a seed must be a whole number.")).ToList()
                : throw new CliException($"{At(path, s)}: 'seeds' must be a non-empty list of whole numbers.");
        }

        if (seeds is not null && seeds.Distinct().Count() != seeds.Count)
        {
            throw new CliException($"{path}: the seeds repeat.");
        }

        var budget = root.Children.TryGetValue(new YamlScalarNode("budget"), out var b) ? b : null;
        if (budget is not null)
        {
            EnsureSmall(path, budget, "the budget");
        }

        var outDir = outOverride is not null
            ? System.IO.Path.GetFullPath(outOverride)
            : Scalar(root, "out", path) is { } o ? System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, o)) : System.IO.Path.GetFullPath(System.IO.Path.Combine("runs", System.IO.Path.GetFileNameWithoutExtension(path)));
        return new SweepTemplate(path, basePath, axes, budget, train, seeds, outDir);
    }

    /// <summary>The most points a sweep may have (each is a spec file, a compilation and at least one training run).</summary>
    public const int MaxPoints = 100_000;

    /// <summary>The most YAML nodes one grid value or budget may expand to (aliases counted at every use).</summary>
    public const int MaxValueNodes = 10_000;

    /// <summary>The number of points (the product of the axes' lengths; a double, since a grid can be any size on paper).</summary>
    public double Size => Axes.Aggregate(1.0, (n, a) => n * a.Values.Count);

    /// <summary>
    /// The first <paramref name="limit"/> combinations of the axes' values in order (the first axis varies slowest),
    /// made one at a time; refused before any is made when they would be more than <see cref="MaxPoints"/>.
    /// </summary>
    public IEnumerable<IReadOnlyList<int>> Combinations(int? limit = null)
    {
        var count = Math.Min(Size, limit ?? double.PositiveInfinity);
        if (count > MaxPoints)
        {
            throw new CliException($"{Path}: the grid has {Size:N0} points ({string.Join(" × ", Axes.Select(a => a.Values.Count))}); a sweep makes at most {MaxPoints:N0}. Split it, or take the first N with --points N.");
        }

        return Make((int)count);
    }

    private IEnumerable<IReadOnlyList<int>> Make(int count)
    {
        for (var index = 0; index < count; index++)
        {
            var combo = new int[Axes.Count];
            var rest = index;
            for (var a = Axes.Count - 1; a >= 0; a--)
            {
                combo[a] = rest % Axes[a].Values.Count;
                rest /= Axes[a].Values.Count;
            }

            yield return combo;
        }
    }

    /// <summary>Loads a YAML file that must hold one mapping (a regular file of at most <see cref="SlmGen.IO.InputFile.SpecLimit"/> bytes).</summary>
    public static YamlMappingNode LoadMapping(string path, string what = "spec")
    {
        var text = Cli.ReadText(path, what, SlmGen.IO.InputFile.SpecLimit);
        try
        {
            var stream = new YamlStream();
            using var reader = new StringReader(text);
            stream.Load(reader);
            return stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode m ? m : throw new CliException($"{path}: expected one YAML mapping.");
        }
        catch (YamlException e)
        {
            throw new CliException($"{path}({e.Start.Line},{e.Start.Column}): {e.Message}");
        }
    }

    /// <summary>A scalar value of a mapping, or null when the key is absent.</summary>
    public static string? Scalar(YamlMappingNode map, string key, string path) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? (v as YamlScalarNode)?.Value ?? throw new CliException($"{At(path, v)}: '{key}' must be a single value.") : null;

    /// <summary>"file(line,column)" of a node.</summary>
    public static string At(string path, YamlNode node) => $"{path}({node.Start.Line},{node.Start.Column})";

    private static SweepAxis Axis(string path, YamlNode key, YamlNode values, string dir)
    {
        var name = (key as YamlScalarNode)?.Value ?? throw new CliException($"{At(path, key)}: a grid key must be a field name.");
        var fields = name.Split(',', StringSplitOptions.TrimEntries);
        if (fields.Any(f => f.Length == 0) || fields.Distinct().Count() != fields.Length)
        {
            throw new CliException($"{At(path, key)}: '{name}' is not a field or a comma list of distinct fields.");
        }

        foreach (var f in fields.Where(f => f.StartsWith("train.", StringComparison.Ordinal)))
        {
            if (!TrainKeys.Contains(f["train.".Length..]) || f is "train.flops" or "train.min_steps")
            {
                throw new CliException($"{At(path, key)}: '{f}' is not a training option a point can set ({string.Join(", ", TrainKeys.Where(k => k is not "flops" and not "min_steps"))}).");
            }
        }

        if (values is not YamlSequenceNode seq || seq.Children.Count == 0)
        {
            throw new CliException($"{At(path, values)}: the values of '{name}' must be a non-empty list.");
        }

        var list = new List<IReadOnlyList<YamlNode>>();
        foreach (var v in seq.Children)
        {
            EnsureSmall(path, v, $"a value of '{name}'");
            if (fields.Length == 1)
            {
                list.Add(new[] { v });
            }
            else if (v is YamlSequenceNode tuple && tuple.Children.Count == fields.Length)
            {
                list.Add(tuple.Children.ToList());
            }
            else
            {
                throw new CliException($"{At(path, v)}: each value of '{name}' must be a list of {fields.Length} values, one per field.");
            }
        }

        foreach (var (f, i) in fields.Select((f, i) => (f, i)).Where(x => x.f.StartsWith("train.", StringComparison.Ordinal)))
        {
            foreach (var value in list)
            {
                var option = f["train.".Length..];
                EnsureData(option, ResolvePath(option, CheckTrain(option, value[i], path), dir), At(path, value[i]));
            }
        }

        return new SweepAxis(fields, list);
    }

    /// <summary>Refuses a value that expands to more than <see cref="MaxValueNodes"/> nodes (an alias bomb is small on disk and huge written out).</summary>
    private static void EnsureSmall(string path, YamlNode node, string what)
    {
        var count = 0;
        var stack = new Stack<(YamlNode Node, int Depth)>();
        stack.Push((node, 0));
        while (stack.Count > 0)
        {
            var (n, depth) = stack.Pop();
            if (++count > MaxValueNodes || depth > 64)
            {
                throw new CliException($"{At(path, node)}: {what} expands to more than {MaxValueNodes:N0} YAML nodes or 64 levels (aliases count at every use); a grid value is a number, a word or a small mapping or list.");
            }

            foreach (var child in n switch { YamlMappingNode m => m.Children.SelectMany(kv => new[] { kv.Key, kv.Value }), YamlSequenceNode s => s.Children, _ => Enumerable.Empty<YamlNode>() })
            {
                stack.Push((child, depth + 1));
            }
        }
    }

    /// <summary>A data file named by a template must be there before any point is made.</summary>
    private static void EnsureData(string key, string value, string where)
    {
        if (key == "data" && !Cli.CorpusNames.Contains(value) && !File.Exists(value))
        {
            throw new CliException($"{where}: the data file {value} does not exist (a data file is relative to the template), and it is not one of {SlmGen.Data.Corpora.NameList}.");
        }
    }

    /// <summary>A data file or tokenizer folder given in a template is relative to the template (a corpus or tokenizer name stays a name).</summary>
    public static string ResolvePath(string key, string value, string dir)
    {
        if (key == "data" && !Cli.CorpusNames.Contains(value))
        {
            return System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, value));
        }

        if (key == "tokenizer" && !SlmGen.Data.Tokenizers.TokenizerSpec.IsName(value))
        {
            var folder = value.StartsWith("bpe:", StringComparison.Ordinal) ? value[4..] : value;
            return "bpe:" + System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, folder));
        }

        return value;
    }

    private static string CheckTrain(string key, YamlNode value, string where)
    {
        if (!TrainKeys.Contains(key))
        {
            throw new CliException($"{(value.Start.Line > 0 ? At(where, value) : where)}: unknown training option '{key}' (expected {string.Join(", ", TrainKeys)}).");
        }

        if (value is not YamlScalarNode { Value: { } text })
        {
            throw new CliException($"{At(where, value)}: training option '{key}' must be a single value.");
        }

        var at = value.Start.Line > 0 ? At(where, value) : where;
        if (key is "flops" or "min_steps" && !(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) && n >= 1))
        {
            throw new CliException($"{at}: '{key}' must be a number of at least 1 (got {text}).");
        }

        // The train command's own rules (one declaration: TrainSettings), checked here so that no child process is started with a value it refuses.
        if (TrainSettings.Find(key) is { } setting && setting.Problem(text) is { } rule)
        {
            throw new CliException($"{at}: training option '{key}' must be {rule} (got {text}).");
        }

        return text;
    }
}
