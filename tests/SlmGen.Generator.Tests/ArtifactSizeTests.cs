using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using SlmGen.Artifacts;
using SlmGen.Generator.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The artifact's size is known at build time to the byte: random valid designs (both front-ends, every lever) under
/// random precision plans (every bit width, scale groups that divide and that do not, every storage type, QAT and
/// after-training quantisers, every compression) are compiled, instantiated, quantised and written; the file is the
/// generated <c>ArtifactBytes</c> long, plus the tokenizer's entry as the shared layout states; reading it back gives the
/// in-memory round trip's weights exactly.
/// </summary>
[HoldTensors]
public class ArtifactSizeTests
{
    private const int Designs = 60;
    private static readonly int[] Bits = { 0, 2, 3, 4, 5, 6, 8 };
    private static readonly int[] Groups = { 0, 0, 1, 2, 3, 4, 7, 16, 64 };
    private static readonly string[] Types = { "fp16", "bf16", "fp32" };
    private static readonly string[] Methods = { "qat", "absmax", "mse" };
    private static readonly string[] Compressions = { "none", "zstd", "lzma", "brotli", "deflate" };

    [Theory]
    [InlineData(9100)]
    [InlineData(9101)]
    [InlineData(9102)]
    public void Written_artifacts_are_exactly_the_bytes_the_build_states(int seed)
    {
        var plans = new Random(seed + 1);
        string WithPlan(string text, bool yaml)
        {
            if (yaml)
            {
                var tied = text.Contains("head: tied", StringComparison.Ordinal) || text.Contains("tied: true", StringComparison.Ordinal);
                return Regex.Replace(text, "quantization: .*\n", string.Empty) + Plan(plans, tied, yaml: true) + "\n";
            }

            var tiedAttribute = text.Contains("TiedToEmbedding = true", StringComparison.Ordinal);
            return Regex.Replace(text, @"\[Quantization\(.*\)\]\n", string.Empty).Replace("public partial class", Plan(plans, tiedAttribute, yaml: false) + "\npublic partial class", StringComparison.Ordinal);
        }

        var compiled = RandomDesignRun.Compile(seed, Designs, "A", recent: seed != 9100, edit: WithPlan);
        var run = compiled.Run;
        var models = compiled.Models;
        Assert.Equal(Designs, models.Count);

        var rng = new Random(seed + 2);
        var dir = Directory.CreateTempSubdirectory("slmgen-artifacts-");
        try
        {
            foreach (var descriptor in models)
            {
                using var model = descriptor.Create();
                var plan = model.ArtifactPlan;
                var inventory = ArtifactFile.Inventory(model); // throws when the plan's inventory is not the module's
                var weights = ArtifactLayout.Weights(inventory, plan).Sum(t => t.Bytes);
                Assert.True(weights == descriptor.Cost.WeightBytesDeclared, $"{descriptor.Name}: cost rows say {descriptor.Cost.WeightBytesDeclared} weight bytes, the layout {weights}\n{run.Costs(descriptor.FullName)}");

                // A tokenizer of random length (non-ASCII included) adds exactly its entry.
                var tokenizer = rng.Next(3) == 0 ? null : new string('é', rng.Next(0, 40)) + new string('x', rng.Next(0, 5000));
                var path = Path.Combine(dir.FullName, descriptor.Name + ".slmq");
                var written = ArtifactFile.Write(model, path, new ArtifactOptions { TokenizerJson = tokenizer });
                var expected = tokenizer is null
                    ? descriptor.Cost.ArtifactBytes
                    : ArtifactLayout.FileBytes(ArtifactLayout.Tensors(inventory, plan, Encoding.UTF8.GetByteCount(model.Architecture), Encoding.UTF8.GetByteCount(tokenizer)));
                Assert.True(written.Bytes == expected, $"{descriptor.Name} ({plan.Describe()}): wrote {written.Bytes} bytes, the build stated {expected}\n{run.Costs(descriptor.FullName)}");
                Assert.Equal(written.FileBytes, new FileInfo(path).Length);

                // Read back into a fresh model: the weights of the in-memory round trip, exactly; the tokenizer as written.
                var roundTrip = model;
                ArtifactFile.RoundTrip(roundTrip); // the written model's weights, through the artifact in memory
                using var loaded = descriptor.Create();
                var contents = ArtifactFile.Load(loaded, path);
                Assert.Equal(tokenizer, contents.TokenizerJson);
                Assert.Equal(plan.Compression, contents.Compression);
                var expectedWeights = roundTrip.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                foreach (var (name, p) in loaded.named_parameters())
                {
                    Assert.True(p.equal(expectedWeights[name]).all().item<bool>(), $"{descriptor.Name}: {name} differs after reading the file");
                }

                using var idx = randint(0, descriptor.Cost.Vocab, new long[] { 2, descriptor.Cost.Context }, dtype: ScalarType.Int64);
                loaded.eval();
                roundTrip.eval();
                using var a = loaded.Logits(idx, lastPositionOnly: false);
                using var b = roundTrip.Logits(idx, lastPositionOnly: false);
                Assert.True(a.allclose(b, rtol: 0, atol: 0, equal_nan: true), $"{descriptor.Name}: logits of the read-back model differ from the round trip's\n{run.ModelAndCosts(descriptor.FullName)}"); // deep unnormalised random designs may overflow: NaN where the round trip has NaN
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_stretched_grid_is_declared_by_spec_and_attribute_and_costs_the_bytes_of_the_symmetric_one()
    {
        const string Shape = "vocab: 96\ncontext: 16\nembedding: 32\nlayers:\n  - transformer: { layers: 2, heads: 2 }\n";
        var run = GeneratorRun.Of(
            new[] { ("/src/Seq.cs", "using SlmGen;\nnamespace Acme;\n[Model(Vocab = 96, Context = 16)]\n[TokenEmbedding(Dim = 32)]\n[TransformerBlocks(Layers = 2, Heads = 2)]\n[Quantization(Attention = 2, Mlp = 3, Embedding = 8, Group = 8, Grid = QuantGrid.Stretched)]\npublic partial class Seq { }\n") },
            new[]
            {
                ("/specs/stretched.yaml", "name: Stretched\n" + Shape + "quantization: { attention: 2, mlp: 3, embedding: 8, group: 8, grid: stretched }\n"),
                ("/specs/symmetric.yaml", "name: Symmetric\n" + Shape + "quantization: { attention: 2, mlp: 3, embedding: 8, group: 8 }\n"),
            });
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Empty(run.CompileErrors);
        Assert.Contains("Grid = global::SlmGen.QuantGrid.Stretched", run.Costs("Acme.Seq"), StringComparison.Ordinal);
        Assert.Contains("\\\"grid\\\": \\\"stretched\\\"", run.Costs("Test.Models.Stretched"), StringComparison.Ordinal);
        Assert.DoesNotContain("grid", run.Costs("Test.Models.Symmetric"), StringComparison.Ordinal); // the symmetric plan's architecture is as before

        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        var models = ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray())).ToDictionary(m => m.Name);
        var stretched = models["Stretched"];
        var symmetric = models["Symmetric"];
        Assert.Equal(symmetric.Cost.WeightBytesDeclared, stretched.Cost.WeightBytesDeclared);
        using var model = stretched.Create();
        Assert.Equal(QuantGrid.Stretched, model.ArtifactPlan.Grid);
        Assert.Contains("stretched grid", model.ArtifactPlan.Describe(), StringComparison.Ordinal);
        var (data, predicted) = ArtifactFile.Encode(model);
        Assert.Equal(stretched.Cost.ArtifactBytes, data.Length);
        Assert.Equal(predicted, data.Length);
    }

    private static string Plan(Random rng, bool tied, bool yaml)
    {
        int B() => Bits[rng.Next(Bits.Length)];
        var (attention, mlp, dense, embedding) = (B(), B(), B(), B());
        var head = tied ? 0 : B();
        var group = Groups[rng.Next(Groups.Length)];
        var scales = Types[rng.Next(Types.Length)];
        var others = rng.Next(4) == 0 ? null : Types[rng.Next(Types.Length)];
        var method = Methods[rng.Next(Methods.Length)];
        var compression = Compressions[rng.Next(Compressions.Length)];
        var grid = rng.Next(2) == 0 ? "symmetric" : "stretched";
        string Pascal(string s) => s switch { "fp16" => "Fp16", "bf16" => "Bf16", "fp32" => "Fp32", "qat" => "Qat", "absmax" => "Absmax", "mse" => "Mse", _ => char.ToUpperInvariant(s[0]) + s.Substring(1) };
        return yaml
            ? $"quantization: {{ attention: {attention}, mlp: {mlp}, dense: {dense}, head: {head}, embedding: {embedding}, group: {group}, scales: {scales}{(others is null ? string.Empty : $", others: {others}")}, method: {method}, compression: {compression}, grid: {grid} }}"
            : $"[Quantization(Attention = {attention}, Mlp = {mlp}, Dense = {dense}, Head = {head}, Embedding = {embedding}, Group = {group}, Scales = StoreType.{Pascal(scales)}{(others is null ? string.Empty : $", Others = StoreType.{Pascal(others)}")}, Method = Quantizer.{Pascal(method)}, Compression = ArtifactCompression.{Pascal(compression)}, Grid = QuantGrid.{Pascal(grid)})]";
    }
}
