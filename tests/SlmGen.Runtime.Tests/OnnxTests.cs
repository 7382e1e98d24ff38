using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SlmGen.Onnx;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The ONNX export run by ONNX Runtime (CPU) against TorchSharp: every sample model the export covers gives the same
/// logits (fp32, relative error ≤ 1e-5 of the largest logit); every other one is refused with a stated reason.
/// </summary>
[HoldTensors]
public class OnnxTests
{
    public static TheoryData<string> SampleModels()
    {
        var data = new TheoryData<string>();
        foreach (var m in ModelCatalog.For(typeof(SlmGen.Samples.BabyGpt).Assembly).Where(m => m.Cost.Parameters < 40_000_000))
        {
            data.Add(m.FullName);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampleModels))]
    public void Onnx_Runtime_gives_TorchSharps_logits_or_the_export_says_why_not(string fullName)
    {
        var descriptor = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, fullName);
        manual_seed(7);
        using var model = descriptor.Create();
        model.eval();
        if (OnnxExport.Unsupported(model) is { } reason)
        {
            Assert.Contains(model.GetName(), reason);
            Assert.Throws<NotSupportedException>(() => OnnxExport.Build(model));
            return;
        }

        // A flatten model reads a whole window; the others also a shorter one (positions and the mask cut to it).
        Compare(model, OnnxExport.Build(model), batch: 2, length: model.PredictsEveryPosition ? Math.Min(model.Context, 24) : model.Context);
        if (model.Context > 24 && model.PredictsEveryPosition)
        {
            Compare(model, OnnxExport.Build(model), batch: 1, length: model.Context); // a full window: positions and the mask to the end
        }
    }

    internal static void Compare(SlmModel model, byte[] onnx, int batch, int length, double tolerance = 1e-5)
    {
        using var ids = randint(0, model.DeclaredVocab, new long[] { batch, length }, dtype: ScalarType.Int64);
        using var expected = model.Logits(ids, lastPositionOnly: false);
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor<long>(ids.data<long>().ToArray(), new[] { batch, length });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input_ids", input) });
        var actual = results.Single(r => r.Name == "logits").AsTensor<float>();
        Assert.Equal(expected.shape, actual.Dimensions.ToArray().Select(d => (long)d).ToArray());
        var got = actual.ToArray();
        var want = expected.data<float>().ToArray();
        var scale = want.Max(Math.Abs);
        var worst = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= tolerance * Math.Max(1, scale) + 1e-6, $"{model.GetName()}: max |ORT − TorchSharp| = {worst} (largest logit {scale})");
    }
}

/// <summary>Which sample models the export covers (a guard against the covered set shrinking silently).</summary>
[HoldTensors]
public class OnnxCoverageTests
{
    [Fact]
    public void The_export_covers_the_gpt_and_llama_shaped_sample_models()
    {
        var models = ModelCatalog.For(typeof(SlmGen.Samples.BabyGpt).Assembly).Where(m => m.Cost.Parameters < 40_000_000).ToList();
        var refused = new List<string>();
        var covered = new List<string>();
        foreach (var m in models)
        {
            using var model = m.Create();
            if (OnnxExport.Unsupported(model) is { } reason)
            {
                refused.Add(reason);
            }
            else
            {
                covered.Add(m.Name);
            }
        }

        Assert.True(refused.Count == 0, $"covered {covered.Count}: {string.Join(", ", covered)}\nrefused: {string.Join("\n", refused)}");
        Assert.Contains("BabyGpt", covered);
        Assert.Contains("LeverGqa", covered);
        Assert.Contains("LeverQat", covered);
        Assert.Contains("LeverQkNorm", covered);
        Assert.Contains("Modern17M", covered);
    }
}

/// <summary>The decode graph: greedy decoding through ONNX Runtime with its KV cache gives SlmGen's greedy tokens.</summary>
[HoldTensors]
public class OnnxDecodeTests
{
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        foreach (var m in ModelCatalog.For(typeof(SlmGen.Samples.BabyGpt).Assembly).Where(m => m.Cost.Parameters < 40_000_000 && m.Cost.PredictsEveryPosition))
        {
            data.Add(m.FullName);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Greedy_decoding_through_Onnx_Runtime_with_its_cache_gives_SlmGens_tokens(string fullName)
    {
        manual_seed(11);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, fullName).Create();
        model.eval();
        var count = Math.Min(12, model.Context - 5);
        var prompt = new[] { 1, 2, 3, 4, 5 }.Select(t => t % model.DeclaredVocab).ToArray();
        var expected = SlmGen.Generation.TextGenerator.Generate(model, prompt, count, SlmGen.Generation.SamplingOptions.Greedy);
        Assert.Equal(expected, OnnxGreedy.Generate(OnnxExport.Build(model, decode: true), prompt, count, model.DeclaredVocab));
    }
}

/// <summary>Greedy decoding with an exported decode graph, its cache carried from present to past.</summary>
internal static class OnnxGreedy
{
    public static int[] Generate(byte[] onnx, int[] prompt, int count, int realVocab)
    {
        using var session = new InferenceSession(onnx);
        var past = session.InputMetadata.Where(i => i.Key.StartsWith("past_key_", StringComparison.Ordinal) || i.Key.StartsWith("past_value_", StringComparison.Ordinal))
            .ToDictionary(i => i.Key, i => (Tensor<float>)new DenseTensor<float>(new[] { 1, i.Value.Dimensions[1], 0, i.Value.Dimensions[3] }));
        var tokens = new List<int>();
        long position = 0;
        long previous = 0;
        var feed = prompt.Select(t => (long)t).ToArray();
        for (var step = 0; step < count; step++)
        {
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(feed, new[] { 1, feed.Length })),
                NamedOnnxValue.CreateFromTensor("past_length", new DenseTensor<long>(new[] { position }, new[] { 1 })),
            };
            if (session.InputMetadata.ContainsKey("previous_token"))
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor("previous_token", new DenseTensor<long>(new[] { previous }, new[] { 1, 1 })));
            }

            inputs.AddRange(past.Select(p => NamedOnnxValue.CreateFromTensor(p.Key, p.Value)));
            using var results = session.Run(inputs);
            var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
            var last = logits.Dimensions[1] - 1;
            var best = 0;
            for (var v = 1; v < realVocab; v++)
            {
                if (logits[0, last, v] > logits[0, last, best])
                {
                    best = v;
                }
            }

            foreach (var r in results.Where(r => r.Name.StartsWith("present_", StringComparison.Ordinal)))
            {
                var t = r.AsTensor<float>();
                past["past_" + r.Name["present_".Length..]] = new DenseTensor<float>(t.ToArray(), t.Dimensions.ToArray());
            }

            position += feed.Length;
            previous = feed[^1];
            tokens.Add(best);
            feed = new long[] { best };
        }

        return tokens.ToArray();
    }
}

/// <summary>The artifact in ONNX: 4- and 8-bit matrices as MatMulNBits give the logits of the model restored from the artifact.</summary>
[HoldTensors]
public class OnnxQuantizedTests
{
    [Fact]
    public void MatMulNBits_runs_the_artifacts_weights()
    {
        manual_seed(3);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverQat").Create();
        model.eval();
        var onnx = OnnxExport.BuildQuantized(model, decode: false);
        Assert.Contains("MatMulNBits", System.Text.Encoding.ASCII.GetString(onnx));
        Assert.True(onnx.Length < OnnxExport.Build(model).Length / 3, "4-bit matrices and an 8-bit table make the file smaller");
        Artifacts.ArtifactFile.RoundTrip(model); // the model as the artifact restores it
        OnnxTests.Compare(model, onnx, batch: 2, length: Math.Min(model.Context, 24), tolerance: 1e-4);
    }
}
