using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Samples.LabReport;

/// <summary>One design of the equal-wall-clock arm: its grid values (with its rate), its step timed alone and the steps that budget buys.</summary>
public sealed record WallClockDesign(IReadOnlyDictionary<string, string> Values, double MillisecondsPerStep, long Steps);

/// <summary>
/// Q1's equal-wall-clock arm (results/lab2/PROTOCOL.md §4: "each design's ms/step measured alone sets steps = T /
/// ms_per_step; the runs themselves may then share the GPU"): from a sweep that was trained and timed alone
/// (<c>slmgen sweep --time</c>: its <c>timing.jsonl</c>), writes the sweep that gives every design the same seconds.
/// </summary>
public static class WallClockSweep
{
    /// <summary>
    /// Writes <paramref name="output"/>: the designs of the sweep <paramref name="template"/> (values and rates as its
    /// records give them) each with <c>train.steps</c> = <paramref name="seconds"/> / its ms per step alone, its base and
    /// training options (less the FLOP budget), <paramref name="seeds"/>, its records beside the template's.
    /// </summary>
    /// <exception cref="InvalidDataException">No timing of the sweep, or a design of it that was not timed.</exception>
    public static IReadOnlyList<WallClockDesign> Write(string template, double seconds, IReadOnlyList<long> seeds, string output)
    {
        var source = LearningRateSelection.Load(template);
        var records = LearningRateSelection.OutFolder(template);
        var timing = Path.Combine(records, "timing.jsonl");
        if (!File.Exists(timing))
        {
            throw new InvalidDataException($"{timing} is missing: time the sweep's designs alone first (slmgen sweep {template} --time).");
        }

        var alone = new Dictionary<string, (double Ms, bool Graphed)>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(timing).Where(l => l.Length > 0))
        {
            var root = JsonDocument.Parse(line).RootElement;
            if (root.TryGetProperty("ms_per_step", out var ms) && ms.ValueKind == JsonValueKind.Number)
            {
                alone[root.GetProperty("model").GetString()!] = (ms.GetDouble(), root.TryGetProperty("graphed", out var g) && g.ValueKind == JsonValueKind.True);
            }
        }

        var designs = new List<WallClockDesign>();
        var allGraphed = true;
        foreach (var line in File.ReadLines(Path.Combine(records, "results.jsonl")).Where(l => l.Length > 0))
        {
            var root = JsonDocument.Parse(line).RootElement;
            var values = root.GetProperty("values").EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString()!, StringComparer.Ordinal);
            var model = root.TryGetProperty("model", out var m) ? m.GetString() : null;
            if (model is null || !alone.TryGetValue(model, out var t))
            {
                throw new InvalidDataException($"{timing}: {LabComparison.Describe(values)} ({model ?? "no model name"}) was not timed alone; every design needs its own figure.");
            }

            designs.Add(new WallClockDesign(values, t.Ms, (long)Math.Floor(seconds * 1000 / t.Ms)));
            allGraphed &= t.Graphed;
        }

        var keys = designs.SelectMany(d => d.Values.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var rows = new YamlSequenceNode();
        foreach (var d in designs)
        {
            var row = new YamlSequenceNode { Style = YamlDotNet.Core.Events.SequenceStyle.Flow };
            foreach (var k in keys)
            {
                row.Add(LearningRateSelection.Parse(d.Values.GetValueOrDefault(k, string.Empty)));
            }

            row.Add(new YamlScalarNode(d.Steps.ToString(CultureInfo.InvariantCulture)));
            rows.Add(row);
        }

        var train = new YamlMappingNode { Style = YamlDotNet.Core.Events.MappingStyle.Flow };
        foreach (var (k, v) in ((YamlMappingNode)source.Children[new YamlScalarNode("train")]).Children)
        {
            // the FLOP budget and its minimum give way to the steps each design's seconds buy
            if (((YamlScalarNode)k).Value is not ("flops" or "min_steps" or "steps" or "eval_every"))
            {
                train.Add(k, v);
            }
        }

        // Evaluations are not training time (result.json's training_seconds leaves them out) but they are the sweep's
        // wall-clock: the template's interval, raised so that the shortest run still evaluates about 20 times and no
        // longer one more than its steps ÷ interval (a multiple of 50).
        var templateEvery = ((YamlMappingNode)source.Children[new YamlScalarNode("train")]).Children.TryGetValue(new YamlScalarNode("eval_every"), out var every)
            && long.TryParse(every.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        var evalEvery = Math.Max(templateEvery, (long)Math.Ceiling(designs.Min(d => d.Steps) / 20.0 / 50) * 50);
        if (evalEvery > 0)
        {
            train.Add("eval_every", evalEvery.ToString(CultureInfo.InvariantCulture));
        }

        var name = Path.GetFileNameWithoutExtension(output);
        var root2 = new YamlMappingNode
        {
            { "base", Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(output))!, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(template))!, Scalar(source, "base")))).Replace('\\', '/') },
            { "grid", new YamlMappingNode { { string.Join(", ", keys.Append("train.steps")), rows } } },
            { "seeds", new YamlSequenceNode(seeds.Select(s => new YamlScalarNode(s.ToString(CultureInfo.InvariantCulture)))) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
            { "train", train },
            { "out", LearningRateSelection.SiblingOut(template, name) },
        };
        using var writer = new StringWriter();
        var graphed = allGraphed ? "as one CUDA graph" : "eager, or not all graphed";
        writer.WriteLine($"# Equal wall-clock (results/lab2/PROTOCOL.md §4): {seconds.ToString(CultureInfo.InvariantCulture)} s of each design's step timed alone ({graphed}, {Path.GetFileName(records)}/timing.jsonl); written by LabReport wall from {Path.GetFileName(template)}.");
        new YamlStream(new YamlDocument(root2)).Save(writer, assignAnchors: false);
        File.WriteAllText(output, writer.ToString().Replace("\n...\n", "\n"));
        return designs;
    }

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value!;
}
