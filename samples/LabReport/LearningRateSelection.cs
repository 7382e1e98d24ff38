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
/// <param name="AtEdge">The chosen rate is the grid's smallest or largest: the protocol extends the grid once on that side.</param>
public sealed record TunedDesign(IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<double, double> Scores, double Chosen, bool AtEdge);

/// <summary>
/// The learning-rate selection of results/lab2/PROTOCOL.md §3: reads a tuning sweep's records (one seed, a
/// <c>train.lr</c> axis), picks each design's rate by the validation bits per byte of its final weights, and writes the
/// seed sweep — the same base and training options, one combined grid axis of each design's values and its rate.
/// </summary>
public static class LearningRateSelection
{
    /// <summary>The designs of the tuning sweep <paramref name="template"/> (its records under its <c>out</c> folder).</summary>
    public static IReadOnlyList<TunedDesign> Select(string template)
    {
        var records = Path.Combine(OutFolder(template), "results.jsonl");
        if (!File.Exists(records))
        {
            throw new FileNotFoundException($"{records} is missing: run the tuning sweep first (slmgen sweep {template}).", records);
        }

        var points = new Dictionary<string, (Dictionary<string, string> Values, Dictionary<double, double> Scores)>();
        foreach (var line in File.ReadLines(records).Where(l => l.Length > 0))
        {
            using var record = JsonDocument.Parse(line);
            var root = record.RootElement;
            if (root.GetProperty("status").GetString() != "done")
            {
                continue;
            }

            var values = root.GetProperty("values").EnumerateObject().Where(v => v.Name != "train.lr").ToDictionary(v => v.Name, v => v.Value.GetString()!);
            var lr = double.Parse(root.GetProperty("train").GetProperty("lr").GetString()!, CultureInfo.InvariantCulture);
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
        }

        return points.Values.Select(p =>
        {
            var chosen = p.Scores.Where(s => double.IsFinite(s.Value)).OrderBy(s => s.Value).ThenBy(s => s.Key).First().Key;
            return new TunedDesign(p.Values, p.Scores, chosen, chosen == p.Scores.Keys.Min() || chosen == p.Scores.Keys.Max());
        }).ToList();
    }

    /// <summary>Writes the seed sweep for <paramref name="designs"/> beside <paramref name="template"/>'s settings.</summary>
    public static void WriteSeedSweep(string template, IReadOnlyList<TunedDesign> designs, IReadOnlyList<long> seeds, string output, string outFolder)
    {
        var source = Load(template);
        var keys = designs.SelectMany(d => d.Values.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var rows = new YamlSequenceNode();
        foreach (var d in designs)
        {
            var row = new YamlSequenceNode { Style = SequenceStyle.Flow };
            foreach (var k in keys)
            {
                row.Add(Parse(d.Values[k]));
            }

            row.Add(new YamlScalarNode(d.Chosen.ToString("R", CultureInfo.InvariantCulture)));
            rows.Add(row);
        }

        var root = new YamlMappingNode();
        root.Add("base", Relative(source, "base", template, output));
        root.Add("grid", new YamlMappingNode { { string.Join(", ", keys.Append("train.lr")), rows } });
        root.Add("seeds", new YamlSequenceNode(seeds.Select(s => new YamlScalarNode(s.ToString(CultureInfo.InvariantCulture)))) { Style = SequenceStyle.Flow });
        root.Add("train", source.Children[new YamlScalarNode("train")]);
        root.Add("out", outFolder);
        using var writer = new StringWriter();
        writer.WriteLine($"# Seeds at each design's chosen learning rate (results/lab2/PROTOCOL.md §3), written by LabReport select-lr from {Path.GetFileName(template)}'s records.");
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        File.WriteAllText(output, writer.ToString().Replace("\n...\n", "\n"));
    }

    private static string OutFolder(string template) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(template))!, ((YamlScalarNode)Load(template).Children[new YamlScalarNode("out")]).Value!));

    private static YamlMappingNode Load(string template)
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

    private static YamlNode Parse(string value)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(value));
        return stream.Documents.Count == 0 ? new YamlScalarNode(value) : stream.Documents[0].RootNode;
    }
}
