using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Samples.LabReport;

/// <summary>One design of a tuning sweep: its values (the grid's, without the rate) and its score at each rate tried.</summary>
/// <param name="Values">The point's grid values except <c>train.lr</c>, by key.</param>
/// <param name="Scores">Validation bits per byte of the final weights, by learning rate.</param>
/// <param name="Chosen">The rate with the lowest score.</param>
/// <param name="AtEdge">The chosen rate is the grid's smallest or largest and the grid was not extended yet: the protocol
/// extends it once on that side (<see cref="LearningRateSelection.ExtensionRate"/>) before the design's seeds run.</param>
/// <param name="Extended">The design's grid was extended once (its extension sweep's records are in its scores).</param>
public sealed record TunedDesign(IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<double, double> Scores, double Chosen, bool AtEdge, bool Extended = false)
{
    /// <summary>The rate one factor of 2 past the chosen end of the grid.</summary>
    public double ExtensionRate => Chosen == Scores.Keys.Min() ? Chosen / 2 : Chosen * 2;
}

/// <summary>
/// The learning-rate selection of results/lab2/PROTOCOL.md §3: reads a tuning sweep's records (one seed, a
/// <c>train.lr</c> axis), picks each design's rate by the validation bits per byte of its final weights, and writes the
/// seed sweep — the same base and training options, one combined grid axis of each design's values and its rate.
/// </summary>
public static class LearningRateSelection
{
    /// <summary>The extension sweep of a tuning sweep: <c>X-tune.yaml</c> → <c>X-tune-extend.yaml</c> beside it.</summary>
    public static string ExtensionOf(string template) => Path.ChangeExtension(template, null) + "-extend.yaml";

    /// <summary>
    /// The designs of the tuning sweep <paramref name="template"/> (its records under its <c>out</c> folder), with the
    /// records of its extension sweep (<see cref="ExtensionOf"/>) where that has run: a design extended once is not at
    /// the edge again, whatever it chooses (PROTOCOL.md §3: the grid is extended once).
    /// </summary>
    public static IReadOnlyList<TunedDesign> Select(string template)
    {
        var records = Path.Combine(OutFolder(template), "results.jsonl");
        if (!File.Exists(records))
        {
            throw new FileNotFoundException($"{records} is missing: run the tuning sweep first (slmgen sweep {template}).", records);
        }

        var points = new Dictionary<string, (Dictionary<string, string> Values, Dictionary<double, double> Scores)>();
        Read(template, points, mustExist: true);
        var grid = points.ToDictionary(p => p.Key, p => (Min: p.Value.Scores.Keys.Min(), Max: p.Value.Scores.Keys.Max()));
        var extension = ExtensionOf(template);
        var extended = new HashSet<string>(StringComparer.Ordinal);
        if (File.Exists(extension) && File.Exists(Path.Combine(OutFolder(extension), "results.jsonl")))
        {
            foreach (var key in Read(extension, points, mustExist: false))
            {
                extended.Add(key);
            }
        }

        return points.Select(kv =>
        {
            var p = kv.Value;
            var chosen = p.Scores.Where(s => double.IsFinite(s.Value)).OrderBy(s => s.Value).ThenBy(s => s.Key).First().Key;
            var isExtended = extended.Contains(kv.Key);
            var atEdge = !isExtended && grid.TryGetValue(kv.Key, out var g) && (chosen == g.Min || chosen == g.Max);
            return new TunedDesign(p.Values, p.Scores, chosen, atEdge, isExtended);
        }).ToList();
    }

    /// <summary>The points of a tuning sweep's records (and of its extension's, where it has records) that have not finished, as <c>p###: status</c>.</summary>
    public static IReadOnlyList<string> Unfinished(string template)
    {
        var unfinished = new List<string>();
        foreach (var sweep in new[] { template, ExtensionOf(template) })
        {
            var records = File.Exists(sweep) ? Path.Combine(OutFolder(sweep), "results.jsonl") : string.Empty;
            if (sweep == template && !File.Exists(records))
            {
                throw new FileNotFoundException($"{records} is missing: run the tuning sweep first (slmgen sweep {template}).", records);
            }

            foreach (var line in File.Exists(records) ? File.ReadLines(records).Where(l => l.Length > 0) : [])
            {
                using var record = JsonDocument.Parse(line);
                var status = record.RootElement.GetProperty("status").GetString();
                if (status != "done")
                {
                    unfinished.Add($"{Path.GetFileNameWithoutExtension(sweep)} p{record.RootElement.GetProperty("point").GetInt32():D3}: {status}");
                }
            }
        }

        return unfinished;
    }

    /// <summary>
    /// The rate a tuning sweep varies: <c>lora_lr</c> where its grid has a <c>train.lora_lr</c> axis (Q3's LoRA
    /// adapters, tuned as multiples of their design's chosen rate: PROTOCOL.md §3), else <c>lr</c>.
    /// </summary>
    public static string AxisOf(string template)
    {
        var records = Path.Combine(OutFolder(template), "results.jsonl");
        var text = File.Exists(records) ? File.ReadAllText(records) : File.ReadAllText(template);
        return text.Contains("train.lora_lr", StringComparison.Ordinal) ? "lora_lr" : "lr";
    }

    /// <summary>Adds the done points of <paramref name="template"/>'s records to <paramref name="points"/>; returns the designs it scored.</summary>
    private static List<string> Read(string template, Dictionary<string, (Dictionary<string, string> Values, Dictionary<double, double> Scores)> points, bool mustExist)
    {
        var records = Path.Combine(OutFolder(template), "results.jsonl");
        var keys = new List<string>();
        if (!mustExist && !File.Exists(records))
        {
            return keys;
        }

        foreach (var line in File.ReadLines(records).Where(l => l.Length > 0))
        {
            using var record = JsonDocument.Parse(line);
            var root = record.RootElement;
            if (root.GetProperty("status").GetString() != "done")
            {
                continue;
            }

            var axis = AxisOf(template);
            var values = root.GetProperty("values").EnumerateObject().Where(v => v.Name != "train." + axis).ToDictionary(v => v.Name, v => v.Value.GetString()!);
            var lr = double.Parse(root.GetProperty("train").GetProperty(axis).GetString()!, CultureInfo.InvariantCulture);
            var result = Path.Combine(OutFolder(template), $"p{root.GetProperty("point").GetInt32():D3}", "s1", "result.json");
            using var run = JsonDocument.Parse(File.ReadAllText(result));
            var score = run.RootElement.TryGetProperty("final_validation_bits_per_byte", out var f) && f.ValueKind == JsonValueKind.Number
                ? f.GetDouble()
                : run.RootElement.GetProperty("validation_bits_per_byte").GetDouble();
            var key = string.Join("\u0001", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + v.Value));
            if (!points.TryGetValue(key, out var design))
            {
                design = (values, new Dictionary<double, double>());
                points[key] = design;
            }

            design.Scores[lr] = score;
            keys.Add(key);
        }

        return keys;
    }

    /// <summary>
    /// Writes the extension sweep of the designs at the grid's edge: each at <see cref="TunedDesign.ExtensionRate"/>, seed
    /// 1, with <paramref name="template"/>'s base and training options, its records under <paramref name="outFolder"/>.
    /// </summary>
    public static void WriteExtension(string template, IReadOnlyList<TunedDesign> designs, string output, string outFolder) =>
        Write(template, designs.Where(d => d.AtEdge).Select(d => (d, d.ExtensionRate)).ToList(), new long[] { 1 }, output, outFolder,
            $"# The learning-rate grid extended once for the designs that chose its edge (results/lab2/PROTOCOL.md §3), written by LabReport select-lr from {Path.GetFileName(template)}'s records.");

    /// <summary>Writes the seed sweep for <paramref name="designs"/> beside <paramref name="template"/>'s settings.</summary>
    public static void WriteSeedSweep(string template, IReadOnlyList<TunedDesign> designs, IReadOnlyList<long> seeds, string output, string outFolder) =>
        Write(template, designs.Select(d => (d, d.Chosen)).ToList(), seeds, output, outFolder,
            $"# Seeds at each design's chosen learning rate (results/lab2/PROTOCOL.md §3), written by LabReport select-lr from {Path.GetFileName(template)}'s records.");

    private static void Write(string template, IReadOnlyList<(TunedDesign Design, double Rate)> designs, IReadOnlyList<long> seeds, string output, string outFolder, string comment)
    {
        var source = Load(template);
        var keys = designs.SelectMany(d => d.Design.Values.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var rows = new YamlSequenceNode();
        foreach (var (d, rate) in designs)
        {
            var row = new YamlSequenceNode { Style = SequenceStyle.Flow };
            foreach (var k in keys)
            {
                row.Add(Parse(d.Values[k]));
            }

            row.Add(new YamlScalarNode(rate.ToString("R", CultureInfo.InvariantCulture)));
            rows.Add(row);
        }

        var root = new YamlMappingNode();
        root.Add("base", Relative(source, "base", template, output));
        root.Add("grid", new YamlMappingNode { { string.Join(", ", keys.Append("train." + AxisOf(template))), rows } });
        root.Add("seeds", new YamlSequenceNode(seeds.Select(s => new YamlScalarNode(s.ToString(CultureInfo.InvariantCulture)))) { Style = SequenceStyle.Flow });
        root.Add("train", source.Children[new YamlScalarNode("train")]);
        root.Add("out", outFolder);
        using var writer = new StringWriter();
        writer.WriteLine(comment);
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        File.WriteAllText(output, writer.ToString().Replace("\n...\n", "\n"));
    }

    /// <summary>
    /// The out folder (as written in a template beside <paramref name="template"/>) of a sweep called <paramref name="name"/>:
    /// a sibling of <paramref name="template"/>'s own out folder, so every sweep of a question keeps its records together
    /// (results/lab2/records/, committed).
    /// </summary>
    public static string SiblingOut(string template, string name)
    {
        var own = ((YamlScalarNode)Load(template).Children[new YamlScalarNode("out")]).Value!.Replace('\\', '/').TrimEnd('/');
        var slash = own.LastIndexOf('/');
        return slash < 0 ? name : own[..(slash + 1)] + name;
    }

    /// <summary>The full path of a sweep template's <c>out</c> folder (its records).</summary>
    internal static string OutFolder(string template) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(template))!, ((YamlScalarNode)Load(template).Children[new YamlScalarNode("out")]).Value!));

    /// <summary>A sweep template's YAML mapping.</summary>
    internal static YamlMappingNode Load(string template)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(template);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlScalarNode Relative(YamlMappingNode source, string key, string template, string output)
    {
        var value = ((YamlScalarNode)source.Children[new YamlScalarNode(key)]).Value!;
        var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(template))!, value));
        return new YamlScalarNode(Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(output))!, full).Replace('\\', '/'));
    }

    /// <summary>A grid value as the YAML node it was written as (a number, a string, a flow mapping).</summary>
    internal static YamlNode Parse(string value)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(value));
        return stream.Documents.Count == 0 ? new YamlScalarNode(value) : stream.Documents[0].RootNode;
    }
}
