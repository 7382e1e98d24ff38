using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Data;
using SlmGen.Generation;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

[HoldTensors]
public class GenerationTests
{
    [Fact]
    public void Sampling_is_repeatable_with_a_seed_and_decodes_through_the_vocabulary()
    {
        var data = Corpora.TinyShakespeare(CharSplit.NanoGpt);
        Devices.Seed(2);
        using var model = new SingleAttention();
        var prompt = data.Tokenizer.Encode("ROMEO:");
        var a = TextGenerator.Generate(model, prompt, 40, temperature: 0.9, topK: 10, seed: 4);
        var b = TextGenerator.Generate(model, prompt, 40, temperature: 0.9, topK: 10, seed: 4);
        var c = TextGenerator.Generate(model, prompt, 40, temperature: 0.9, topK: 10, seed: 5);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(40, a.Length);
        Assert.Equal(40, data.Tokenizer.Decode(a).Length);
    }

    [Fact]
    public void Flatten_models_sample_from_a_padded_window()
    {
        Devices.Seed(2);
        using var model = new LinearPredictor();
        var tokens = TextGenerator.Generate(model, new[] { 5, 6, 7 }, 10, topK: 1, seed: 1);
        Assert.Equal(10, tokens.Length);
        Assert.All(tokens, t => Assert.InRange(t, 0, 64));
    }

    private static IEnumerable<ModelDescriptor> EveryPositionModels() =>
        new[] { typeof(SingleAttention).Assembly, typeof(SlmGen.Samples.Twins.MobileLlm125M).Assembly }
            .SelectMany(ModelCatalog.For)
            .Where(d => d.Cost.PredictsEveryPosition && d.Cost.Parameters < 20_000_000);

    /// <summary>Weights scaled up, so that the logits are far apart and greedy decoding has no near-ties.</summary>
    private static SlmModel Sharpened(ModelDescriptor d, long seed)
    {
        Devices.Seed(seed);
        var model = d.Create();
        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.add_(randn_like(p) * 0.3);
            }
        }

        return model;
    }

    [Fact]
    public void Greedy_decoding_with_the_kv_cache_gives_the_tokens_of_full_recomputation_for_every_model()
    {
        var models = EveryPositionModels().ToList();
        Assert.True(models.Count > 60, $"{models.Count} models");
        foreach (var d in models)
        {
            using var model = Sharpened(d, 3);
            var rng = new Random(d.Name.Length);
            var prompt = Enumerable.Range(0, Math.Min(3, model.Context)).Select(_ => rng.Next(model.Vocab)).ToArray();
            // Past the context too: the exact mode then reads whole windows, as recomputation does.
            var count = Math.Min(model.Context + 5, 40);
            var full = TextGenerator.Generate(model, prompt, count, SamplingOptions.Greedy with { Cache = KvCacheMode.Off });
            var cached = TextGenerator.Generate(model, prompt, count, SamplingOptions.Greedy);
            Assert.True(full.SequenceEqual(cached), $"{d.FullName}: {string.Join(",", full)} vs {string.Join(",", cached)}");
        }
    }

    [Fact]
    public void The_cache_gives_the_logits_of_the_whole_window_after_a_prefix_a_chunk_and_single_tokens()
    {
        foreach (var d in EveryPositionModels().Where(d => d.Cost.Context >= 8))
        {
            Devices.Seed(4);
            using var model = d.Create();
            model.eval();
            using var noGrad = no_grad();
            var t = model.Context;
            using var idx = randint(0, model.Vocab, new long[] { 2, t }, dtype: ScalarType.Int64);
            using var expected = model.Logits(idx, lastPositionOnly: false);
            using var cache = new KvCache(t);
            model.SetKvCache(cache);
            var parts = new List<Tensor>();
            foreach (var (start, length) in new[] { (0L, 3L), (3L, 4L), (7L, 1L), (8L, t - 8) }.Where(p => p.Item2 > 0))
            {
                using (cache.Activate(length))
                {
                    parts.Add(model.Logits(idx.narrow(1, start, length), lastPositionOnly: false));
                }
            }

            using var actual = cat(parts.ToArray(), 1);
            var err = ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-6)).item<float>();
            Assert.True(err < 1e-5, $"{d.FullName}: relative error {err}");
            Assert.Equal(t, cache.Length);
            Assert.Throws<ArgumentOutOfRangeException>(() => cache.Activate(1));
        }
    }

    [Fact]
    public void Converted_to_bf16_as_cuda_decodes_every_model_decodes_with_the_cache_as_its_whole_window()
    {
        // slmgen sample and slmgen time --decode convert a model to bf16 on CUDA (DecodePrecision); the same conversion
        // here on the CPU: the cache, its masks and every layer run in bf16, and the cached logits are the whole
        // window's to bf16's precision (both in bf16; the fp32 cache test above holds them to 1e-5).
        Assert.Equal(ScalarType.BFloat16, DecodePrecision.For(DeviceType.CUDA));
        Assert.Equal(ScalarType.Float32, DecodePrecision.For(DeviceType.CUDA, bf16: false));
        Assert.Equal(ScalarType.Float32, DecodePrecision.For(CPU));
        var models = EveryPositionModels().Where(d => d.Cost.Context >= 8 && d.Cost.Parameters < 2_000_000).ToList();
        Assert.True(models.Count > 30, $"{models.Count} models");
        foreach (var d in models)
        {
            Devices.Seed(4);
            using var model = d.Create();
            Assert.Equal(ScalarType.Float32, DecodePrecision.Apply(model, CPU));
            model.to(ScalarType.BFloat16);
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
            model.eval();
            using var noGrad = no_grad();
            var t = model.Context;
            using var idx = randint(0, model.Vocab, new long[] { 1, t }, dtype: ScalarType.Int64);
            using var expected = model.Logits(idx, lastPositionOnly: false).to(ScalarType.Float32);
            using var cache = new KvCache(t);
            model.SetKvCache(cache);
            var parts = new List<Tensor>();
            foreach (var (start, length) in new[] { (0L, 5L), (5L, 1L), (6L, 1L), (7L, t - 7) }.Where(p => p.Item2 > 0))
            {
                using (cache.Activate(length))
                {
                    parts.Add(model.Logits(idx.narrow(1, start, length), lastPositionOnly: false));
                }
            }

            model.SetKvCache(null);
            using var actual = cat(parts.ToArray(), 1).to(ScalarType.Float32);
            var err = ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-6)).item<float>();
            Assert.True(err < 0.05, $"{d.FullName}: relative error {err} in bf16");
            var tokens = TextGenerator.Generate(model, new[] { 1 % model.DeclaredVocab, 2 % model.DeclaredVocab, 0 }, Math.Min(6, t - 3), SamplingOptions.Greedy);
            Assert.All(tokens, id => Assert.InRange(id, 0, model.DeclaredVocab - 1));
        }
    }

    [Fact]
    public void Sliding_decoding_goes_past_the_context_and_top_p_keeps_the_likely_tokens()
    {
        using var model = Sharpened(ModelCatalog.For(typeof(SingleAttention).Assembly).Single(d => d.Name == "LeverBlockShared"), 5);
        var tokens = TextGenerator.Generate(model, new[] { 1, 2, 3 }, model.Context + 40, new SamplingOptions(Temperature: 0.8, TopK: 10, TopP: 0.9, Seed: 3, Cache: KvCacheMode.Sliding));
        Assert.Equal(model.Context + 40, tokens.Length);
        Assert.All(tokens, t => Assert.InRange(t, 0, model.Vocab - 1));

        // top-p this small keeps only the most likely token: sampling becomes greedy.
        var greedy = TextGenerator.Generate(model, new[] { 1, 2, 3 }, 20, SamplingOptions.Greedy);
        var nucleus = TextGenerator.Generate(model, new[] { 1, 2, 3 }, 20, new SamplingOptions(Temperature: 1, TopP: 1e-6, Seed: 9));
        Assert.Equal(greedy, nucleus);

        var streamed = new List<int>();
        var result = TextGenerator.Generate(model, new[] { 1 }, 7, SamplingOptions.Greedy, onToken: streamed.Add);
        Assert.Equal(result, streamed);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextGenerator.Generate(model, new[] { 1 }, 3, new SamplingOptions(TopP: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextGenerator.Generate(model, new[] { model.Vocab }, 3, SamplingOptions.Greedy));
    }
}
