using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// Property-style checks over thousands of random and malformed specs (attributes and YAML): the generator
/// never throws, and every model it generates compiles. Seeds are fixed so a failure reproduces.
/// </summary>
public class PropertyTests
{
    private const int Rounds = 12;
    private const int SpecsPerRound = 100;

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_attribute_specs_never_crash_the_generator_and_always_compile(int seed)
    {
        var rng = new Random(seed);
        var source = new StringBuilder("using SlmGen;\nnamespace Fuzz;\n");
        for (var i = 0; i < SpecsPerRound; i++)
        {
            source.Append(RandomAttributes(rng)).Append($"public partial class M{i} {{ }}\n");
        }

        var run = GeneratorRun.Of(new[] { ("/0/Fuzz.cs", source.ToString()) });
        AssertSound(run, seed);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_and_malformed_yaml_specs_never_crash_the_generator_and_always_compile(int seed)
    {
        var rng = new Random(seed);
        var specs = Enumerable.Range(0, SpecsPerRound).Select(i => ($"/specs/s{i}.yaml", Mutate(rng, RandomYaml(rng)))).ToList();
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), specs);
        AssertSound(run, seed);
        Assert.All(run.GeneratorDiagnostics.Where(d => d.Id.StartsWith("SLM00", StringComparison.Ordinal)),
            d => Assert.StartsWith("/specs/s", d.Location.GetLineSpan().Path));
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Rounds; i++)
        {
            data.Add(1000 + i);
        }

        return data;
    }

    private static void AssertSound(GeneratorRun run, int seed)
    {
        Assert.Empty(run.Exceptions);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id is "CS8784" or "CS8785");
        var generatedErrors = run.CompileErrors.Where(d => d.Location.SourceTree?.FilePath.Contains("SlmGen.Generator", StringComparison.Ordinal) == true
                                                            || d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true).ToList();
        Assert.True(generatedErrors.Count == 0, $"seed {seed}: generated code does not compile: {string.Join("\n", generatedErrors.Take(5))}");
        Assert.True(run.HintNames.Any() || run.GeneratorDiagnostics.Any(), $"seed {seed}: neither models nor diagnostics");
    }

    private static string RandomAttributes(Random rng)
    {
        var sb = new StringBuilder();
        string Int(int typical) => rng.Next(10) switch
        {
            0 => "0",
            1 => "-" + rng.Next(1, 1000),
            2 => int.MaxValue.ToString(CultureInfo.InvariantCulture),
            _ => (typical * rng.Next(1, 5) / rng.Next(1, 5)).ToString(CultureInfo.InvariantCulture),
        };
        string Enum(string type, int max) => rng.Next(12) == 0 ? $"({type})" + rng.Next(6, 99) : $"({type})" + rng.Next(0, max);
        string Real() => rng.Next(8) switch { 0 => "-0.5", 1 => "1.5", 2 => "double.NaN", _ => (rng.NextDouble() * 0.5).ToString("0.0#", CultureInfo.InvariantCulture) };

        if (rng.Next(15) > 0)
        {
            sb.Append($"[Model(Vocab = {Int(65)}, Context = {Int(64)}{(rng.Next(3) == 0 ? ", Dropout = " + Real() : "")}{(rng.Next(4) == 0 ? ", EmbeddingDropout = " + Real() : "")}{(rng.Next(3) == 0 ? ", Init = " + Enum("InitScheme", 2) : "")})]\n");
        }
        else
        {
            sb.Append("[Model]\n");
        }

        if (rng.Next(10) > 0)
        {
            sb.Append($"[TokenEmbedding(Dim = {Int(64)})]\n");
        }

        if (rng.Next(2) == 0)
        {
            sb.Append($"[Positions({Enum("PositionKind", 4)}{(rng.Next(4) == 0 ? ", Length = " + Int(64) : "")}{(rng.Next(5) == 0 ? ", RopeBase = " + Real() : "")})]\n");
        }

        var layers = rng.Next(0, 4);
        for (var i = 0; i < layers; i++)
        {
            switch (rng.Next(3))
            {
                case 0:
                    sb.Append(rng.Next(2) == 0 ? "[ContextFlatten]\n" : $"[ContextFlatten(Window = {Int(32)})]\n");
                    break;
                case 1:
                    sb.Append($"[Dense({Int(64)}, Activation = {Enum("Act", 6)}{(rng.Next(3) == 0 ? ", Bias = false" : "")}{(rng.Next(4) == 0 ? ", Dropout = " + Real() : "")})]\n");
                    break;
                default:
                    sb.Append($"[TransformerBlocks(Layers = {Int(2)}, Heads = {Int(4)}");
                    if (rng.Next(2) == 0) sb.Append($", FfnHidden = {Int(128)}");
                    if (rng.Next(3) == 0) sb.Append($", FfnMultiplier = {Real()}");
                    if (rng.Next(3) == 0) sb.Append($", Activation = {Enum("Act", 6)}");
                    if (rng.Next(3) == 0) sb.Append($", Norm = {Enum("NormKind", 3)}");
                    if (rng.Next(3) == 0) sb.Append(", PreNorm = false");
                    if (rng.Next(3) == 0) sb.Append(", PackedQkv = false");
                    if (rng.Next(4) == 0) sb.Append($", Repeat = {Int(2)}");
                    if (rng.Next(4) == 0) sb.Append($", FfnDropout = {Real()}");
                    sb.Append(")]\n");
                    break;
            }
        }

        if (rng.Next(2) == 0)
        {
            sb.Append($"[FinalNorm({Enum("NormKind", 3)})]\n");
        }

        if (rng.Next(2) == 0)
        {
            sb.Append($"[LMHead(TiedToEmbedding = {(rng.Next(2) == 0 ? "true" : "false")}, Bias = {(rng.Next(2) == 0 ? "true" : "false")}{(rng.Next(4) == 0 ? ", Rank = " + Int(16) : "")})]\n");
        }

        if (rng.Next(3) == 0)
        {
            sb.Append($"[Budget(MaxParameters = {Int(100_000)}, TrainingTokens = {Int(1_000_000)}, MaxTrainingFlops = 1e{rng.Next(5, 30)})]\n");
        }

        return sb.ToString();
    }

    private static string RandomYaml(Random rng)
    {
        string Num(int typical) => rng.Next(12) switch
        {
            0 => "0",
            1 => "-" + rng.Next(1, 100),
            2 => "1e30",
            3 => "12M",
            4 => "abc",
            5 => "[1, 2]",
            6 => "",
            _ => (typical * rng.Next(1, 5) / rng.Next(1, 5)).ToString(CultureInfo.InvariantCulture),
        };
        string Pick(params string[] options) => options[rng.Next(options.Length)];

        var sb = new StringBuilder();
        if (rng.Next(4) == 0) sb.Append("name: ").Append(Pick("Good", "class", "1bad", "Also_Good", "a-b")).Append('\n');
        if (rng.Next(6) == 0) sb.Append("namespace: ").Append(Pick("A.B", "A..B", "if.x")).Append('\n');
        if (rng.Next(10) > 0) sb.Append("vocab: ").Append(Num(65)).Append('\n');
        if (rng.Next(10) > 0) sb.Append("context: ").Append(Num(32)).Append('\n');
        if (rng.Next(10) > 0) sb.Append("embedding: ").Append(rng.Next(3) == 0 ? "{ dim: " + Num(32) + " }" : Num(32)).Append('\n');
        if (rng.Next(5) == 0) sb.Append("embedding_dropout: ").Append(Pick("0", "0.1", "1", "-0.5", "x")).Append('\n');
        if (rng.Next(2) == 0) sb.Append("positions: ").Append(Pick("learned", "rope", "sinusoidal", "none", "spiral", "{ kind: rope, base: 500 }", "{ length: 8 }")).Append('\n');
        if (rng.Next(4) > 0)
        {
            sb.Append("layers:\n");
            for (var i = rng.Next(0, 4); i > 0; i--)
            {
                sb.Append(Pick(
                    "  - flatten\n",
                    $"  - flatten: {{ window: {Num(16)} }}\n",
                    $"  - dense: {{ units: {Num(32)}, activation: {Pick("relu", "gelu", "swiglu", "mish")} }}\n",
                    $"  - dense: {Num(32)}\n",
                    $"  - transformer: {{ layers: {Num(2)}, heads: {Num(4)}, ffn: {Pick("4x", "2.5x", "64", "0x", "-1")}, norm: {Pick("layernorm", "rmsnorm", "none", "batchnorm")}, pre_norm: {Pick("true", "no", "maybe")}, ffn_dropout: {Pick("0", "0.1", "2", "-1")} }}\n",
                    "  - transformer\n",
                    "  - { conv: 3 }\n",
                    "  - [1, 2]\n"));
            }
        }

        if (rng.Next(2) == 0) sb.Append("final_norm: ").Append(Pick("layernorm", "rmsnorm", "{ kind: layernorm, bias: false }", "{ bias: 3 }")).Append('\n');
        if (rng.Next(2) == 0) sb.Append("head: ").Append(Pick("tied", "untied", "bias", "{ rank: 8 }", "{ tied: true, bias: true }", "sideways")).Append('\n');
        if (rng.Next(3) == 0) sb.Append("budget:\n  max_parameters: ").Append(Num(1000)).Append("\n  training_tokens: ").Append(Num(100000)).Append('\n');
        if (rng.Next(8) == 0) sb.Append("unknown_key: 1\n");
        return sb.ToString();
    }

    private static string Mutate(Random rng, string yaml)
    {
        switch (rng.Next(8))
        {
            case 0: return yaml.Length > 2 ? yaml[..rng.Next(yaml.Length)] : yaml;   // truncated
            case 1: return yaml.Replace("  - ", "\t- ");                             // tabs
            case 2: return yaml.Insert(rng.Next(yaml.Length + 1), Pick(rng, "{", "]", ": :", "\"", "&a *b", "%YAML 9\n", "---\n"));
            case 3: return string.Empty;
            case 4: return yaml + "---\nvocab: 5\n";                                  // two documents
            default: return yaml;
        }
    }

    private static string Pick(Random rng, params string[] options) => options[rng.Next(options.Length)];
}
