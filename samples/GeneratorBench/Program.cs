using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using SlmGen.Generator;

// Times the SlmGen generator on synthetic YAML specs, each run in a fresh driver (what a cold build does),
// after one warm-up run of the same shape so that JIT time is not counted twice.
//   dotnet run --project samples/GeneratorBench -c Release -- [layers...] [--specs N] [--repeat R]
//   (a number: that many dense layers; t + a number, e.g. t20000: that many transformer stacks)
var layerCounts = new List<(int Count, bool Transformer)>();
var specCount = 200;
var repeat = 5;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--specs": specCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--repeat": repeat = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default:
            var transformer = args[i].StartsWith("t", StringComparison.Ordinal);
            layerCounts.Add((int.Parse(transformer ? args[i][1..] : args[i], CultureInfo.InvariantCulture), transformer));
            break;
    }
}

if (layerCounts.Count == 0)
{
    layerCounts.AddRange(new[] { (5_000, false), (10_000, false), (20_000, false), (20_000, true) });
}

Console.WriteLine($"SlmGen generator benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, median of {repeat} fresh drivers");
if (Environment.GetEnvironmentVariable("BENCH_YAML_FIRST") == "1")
{
    var w = Stopwatch.StartNew();
    new YamlDotNet.RepresentationModel.YamlStream().Load(new System.IO.StringReader(BabyGpt(0)));
    Console.WriteLine($"  YamlDotNet alone, first load: {w.Elapsed.TotalMilliseconds:N1} ms");
}

var babiesFirst = Enumerable.Range(0, specCount).Select(i => ($"/specs/baby{i}.yaml", BabyGpt(i))).ToArray();
Time($"{specCount} baby-GPT specs, first run (JIT included)", babiesFirst, 1, specCount);
foreach (var (n, transformer) in layerCounts)
{
    var spec = new[] { ($"/specs/deep{n}.yaml", Layers(n, transformer)) };
    Time($"1 spec of {n:N0} {(transformer ? "transformer stacks" : "dense layers")}", spec, repeat, 1);
}

var babies = Enumerable.Range(0, specCount).Select(i => ($"/specs/baby{i}.yaml", BabyGpt(i))).ToArray();
Time($"{specCount} baby-GPT specs", babies, repeat, specCount);

static void Time(string what, (string Path, string Text)[] specs, int repeat, int models)
{
    var times = new List<double>();
    var runs = repeat == 1 ? 1 : repeat + 1;
    for (var r = 0; r < runs; r++)
    {
        var driver = CreateDriver(specs);
        // The runtime and TorchSharp, which generated code names (without them the generator reports SLM0025 and emits nothing).
        var compilation = CSharpCompilation.Create("Bench", new[] { CSharpSyntaxTree.ParseText(string.Empty, path: "/0/Empty.cs") },
            new[] { typeof(object), typeof(SlmGen.SlmModel), typeof(TorchSharp.torch) }.Select(t => MetadataReference.CreateFromFile(t.Assembly.Location)));
        var watch = Stopwatch.StartNew();
        driver = driver.RunGenerators(compilation);
        watch.Stop();
        var result = driver.GetRunResult();
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) || result.GeneratedTrees.Length < models)
        {
            throw new InvalidOperationException($"{what}: the generator did not generate every model: {string.Join("; ", result.Diagnostics.Take(3))}");
        }

        if (r > 0 || repeat == 1)
        {
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
    }

    times.Sort();
    var median = times[times.Count / 2];
    Console.WriteLine($"  {what,-42} {median,10:N1} ms   {median / models,8:N3} ms per model   (min {times[0]:N1}, max {times[^1]:N1})");
}

static GeneratorDriver CreateDriver((string Path, string Text)[] specs)
{
    return SlmGen.Generator.Hosting.InMemoryHost.CreateDriver(
        new CSharpParseOptions(LanguageVersion.Latest),
        specs.Select(s => new SlmGen.Generator.Hosting.InMemoryText(s.Path, s.Text)).ToList(),
        new Dictionary<string, string> { ["RootNamespace"] = "Bench.Models" });
}

static string Layers(int n, bool transformer)
{
    var sb = new StringBuilder("vocab: 65\ncontext: 16\nembedding: 32\nlayers:\n");
    for (var i = 0; i < n; i++)
    {
        sb.Append(transformer ? "  - transformer: { layers: 1, heads: 4 }\n" : "  - dense: { units: 32, activation: gelu }\n");
    }

    return sb.ToString();
}

static string BabyGpt(int i) => $"""
    name: BabyGpt{i}
    vocab: 65
    context: 256
    dropout: 0.2
    init: gpt2
    embedding: 384
    positions: learned
    layers:
      - transformer: {"{"} layers: 6, heads: 6, ffn: 4x, activation: gelu, norm: layernorm, pre_norm: true {"}"}
    final_norm: layernorm
    head: tied
    budget:
      max_parameters: 12M
      training_tokens: 80M
    """;
