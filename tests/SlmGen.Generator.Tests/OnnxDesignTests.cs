using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SlmGen.Generator.Tests.Infrastructure;
using SlmGen.Onnx;
using static TorchSharp.torch;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The ONNX export on random valid designs of every lever (both front-ends): each design the export covers gives
/// TorchSharp's logits in ONNX Runtime (fp32, within 1e-4 of the largest logit: two fp32 engines that sum in different
/// orders differ by up to 2.4e-5 on a design of six block applications, seen on a loaded 2-core machine; an export
/// error moves logits by orders more); each other one is refused with its reason, never with an
/// exception from the graph builder or a graph ONNX Runtime rejects.
/// </summary>
[HoldTensors]
public class OnnxDesignTests
{
    [Theory]
    [InlineData(9300, false)]
    [InlineData(9301, false)]
    [InlineData(9302, true)] // grouped heads, conditioned on the group or not
    public void Random_designs_run_in_Onnx_Runtime_with_TorchSharps_logits_or_are_refused_with_a_reason(int seed, bool grouped)
    {
        var compiled = RandomDesignRun.Compile(seed, 100, "O", grouped: grouped);
        var run = compiled.Run;
        var covered = 0;
        foreach (var descriptor in compiled.Models)
        {
            manual_seed(seed);
            using var model = descriptor.Create();
            model.eval();
            if (OnnxExport.Unsupported(model) is { } reason)
            {
                Assert.Contains(descriptor.Name, reason);
                continue;
            }

            covered++;
            using var ids = randint(0, model.DeclaredVocab, new long[] { 2, model.Context }, dtype: ScalarType.Int64);
            using var expected = model.Logits(ids, lastPositionOnly: false);
            using var session = new InferenceSession(OnnxExport.Build(model));
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.data<long>().ToArray(), new[] { 2, model.Context })) });
            var got = results.Single().AsTensor<float>().ToArray();
            var want = expected.data<float>().ToArray();
            Assert.Equal(want.Length, got.Length);
            var scale = want.Where(float.IsFinite).DefaultIfEmpty(0).Max(Math.Abs);
            var worst = want.Zip(got, (a, b) => float.IsFinite(a) || float.IsFinite(b) ? Math.Abs(a - b) : 0).Max();
            Assert.True(worst <= 1e-4 * Math.Max(1, scale), $"{descriptor.Name}: max |ORT − TorchSharp| = {worst} (largest logit {scale})\n{run.ModelAndCosts(descriptor.FullName)}");
        }

        Assert.Equal(100, covered); // every design the generator makes exports
        if (grouped)
        {
            Assert.Contains(compiled.Models, m => m.Cost.Components.Any(c => c.Description.Contains("conditioned on the group")));
        }
    }

    /// <summary>Random designs under random 4- and 8-bit plans: the artifact's ONNX (MatMulNBits where ONNX Runtime takes the blocks) gives the restored model's logits.</summary>
    [Fact]
    public void Quantized_artifacts_run_in_Onnx_Runtime_with_the_restored_models_logits()
    {
        var designs = new RandomDesigns(9310, levers: true, recent: true);
        var plans = new Random(9311);
        var specs = new List<(string, string)>();
        for (var i = 0; i < 60; i++)
        {
            var (yaml, _) = designs.Next($"Q{i}");
            if (yaml is null)
            {
                continue;
            }

            var tied = yaml.Contains("head: tied", StringComparison.Ordinal) || yaml.Contains("tied: true", StringComparison.Ordinal);
            int B() => plans.Next(3) switch { 0 => 4, 1 => 8, _ => 0 };
            var group = new[] { 0, 16, 32, 64, 7 }[plans.Next(5)];
            var plan = $"quantization: {{ attention: {B()}, mlp: {B()}, dense: {B()}, head: {(tied ? 0 : B())}, embedding: {B()}, group: {group}, method: {(plans.Next(2) == 0 ? "absmax" : "mse")}, grid: {(plans.Next(3) == 0 ? "stretched" : "symmetric")} }}\n";
            specs.Add(($"/specs/q{i}.yaml", System.Text.RegularExpressions.Regex.Replace(yaml, "quantization: .*\n", string.Empty) + plan));
        }

        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), specs);
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        var nbits = 0;
        foreach (var descriptor in ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray())))
        {
            manual_seed(1);
            using var model = descriptor.Create();
            model.eval();
            var onnx = OnnxExport.BuildQuantized(model);
            nbits += System.Text.Encoding.ASCII.GetString(onnx).Contains("MatMulNBits", StringComparison.Ordinal) ? 1 : 0;
            SlmGen.Artifacts.ArtifactFile.RoundTrip(model);
            var length = model.Context;
            using var ids = randint(0, model.DeclaredVocab, new long[] { 2, length }, dtype: ScalarType.Int64);
            using var expected = model.Logits(ids, lastPositionOnly: false);
            using var session = new InferenceSession(onnx);
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.data<long>().ToArray(), new[] { 2, length })) });
            var got = results.Single().AsTensor<float>().ToArray();
            var want = expected.data<float>().ToArray();
            var scale = want.Where(float.IsFinite).DefaultIfEmpty(0).Max(Math.Abs);
            var worst = want.Zip(got, (a, b) => float.IsFinite(a) || float.IsFinite(b) ? Math.Abs(a - b) : 0).Max();
            Assert.True(worst <= 1e-4 * Math.Max(1, scale) + 1e-5, $"{descriptor.Name}: max |ORT − TorchSharp| = {worst} (largest logit {scale})\n{run.ModelAndCosts(descriptor.FullName)}");
        }

        Assert.True(nbits >= 5, $"only {nbits} designs used MatMulNBits");
    }
}
