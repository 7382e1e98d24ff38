using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Generation;

/// <summary>How sampling uses the key/value cache.</summary>
public enum KvCacheMode
{
    /// <summary>Every token from the whole window (the reference).</summary>
    Off,

    /// <summary>
    /// The cache while the text fits the context (identical tokens to <see cref="Off"/>); once it is full, every
    /// token from the whole window again, as <see cref="Off"/> does. The default.
    /// </summary>
    Exact,

    /// <summary>
    /// The cache throughout: when it is full, the newest half of the context is re-read into an empty cache and
    /// decoding goes on. Faster past the context, but a token then sees between half and all of the context,
    /// so it is not identical to <see cref="Off"/> there.
    /// </summary>
    Sliding,
}

/// <summary>How the next token is drawn.</summary>
/// <param name="Temperature">0 for greedy decoding (the most likely token), otherwise the softmax temperature.</param>
/// <param name="TopK">Keep the k most likely tokens (0 = all).</param>
/// <param name="TopP">Keep the smallest set of tokens whose probability reaches p (1 = all).</param>
/// <param name="Seed">Seed of the sampling generator.</param>
/// <param name="Cache">How the key/value cache is used (models that predict one token per window always read whole windows).</param>
public sealed record SamplingOptions(double Temperature = 1.0, int TopK = 0, double TopP = 1.0, long Seed = 0, KvCacheMode Cache = KvCacheMode.Exact)
{
    /// <summary>Greedy decoding.</summary>
    public static SamplingOptions Greedy { get; } = new(Temperature: 0);

    /// <summary>Throws when an option is out of range.</summary>
    public void Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "The temperature must be 0 (greedy) or positive.");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be 0 (off) or positive.");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1].");
        }

        if (!Enum.IsDefined(Cache))
        {
            throw new ArgumentOutOfRangeException(nameof(Cache), Cache, "not a cache mode");
        }
    }
}

/// <summary>Autoregressive sampling from a generated model, with a key/value cache for models that predict every position.</summary>
public static class TextGenerator
{
    /// <summary>Samples <paramref name="count"/> tokens after <paramref name="prompt"/> (temperature, top-k; the cache on).</summary>
    public static int[] Generate(SlmModel model, IReadOnlyList<int> prompt, int count, double temperature = 1.0, int topK = 0, long seed = 0, Device? device = null) =>
        Generate(model, prompt, count, new SamplingOptions(temperature, topK, Seed: seed), device);

    /// <summary>
    /// Samples <paramref name="count"/> tokens after <paramref name="prompt"/> (an empty prompt starts from token 0);
    /// <paramref name="onToken"/> sees each token as it is drawn (streaming).
    /// </summary>
    public static int[] Generate(SlmModel model, IReadOnlyList<int> prompt, int count, SamplingOptions options, Device? device = null, Action<int>? onToken = null)
    {
        options.Validate();
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The number of tokens to sample must be 0 or more.");
        }

        if (prompt.Any(t => t < 0 || t >= model.Vocab))
        {
            throw new ArgumentOutOfRangeException(nameof(prompt), $"The prompt has token ids outside the vocabulary of {model.Vocab}.");
        }

        device ??= model.parameters().First().device;
        SlmGen.Native.CHeap.PrepareFor(device); // as DecodeTimer times it (a long prompt's logits can pass 32 MiB)
        var tokens = new List<int>(prompt.Count == 0 ? new[] { 0 } : prompt);
        // Sampling draws on the CPU generator: it is seeded here and does not touch the device's streams.
        var generator = new torch.Generator((ulong)options.Seed, CPU);
        var mode = model.PredictsEveryPosition ? options.Cache : KvCacheMode.Off;
        using var cache = mode == KvCacheMode.Off ? null : new KvCache(model.Context);
        var wasTraining = model.training;
        model.eval();
        model.SetKvCache(cache);
        try
        {
            using var noGrad = no_grad();
            for (var i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                var logits = NextLogits(model, tokens, cache, mode, device);
                // Padded vocabulary (pad_vocab_to): the ids past the declared ones are never drawn.
                var next = Draw(logits.to(ScalarType.Float32).reshape(-1).narrow(0, 0, model.DeclaredVocab), options, generator);
                tokens.Add(next);
                onToken?.Invoke(next);
            }
        }
        finally
        {
            model.SetKvCache(null);
            model.train(wasTraining);
        }

        return tokens.Skip(prompt.Count == 0 ? 1 : prompt.Count).ToArray();
    }

    /// <summary>The logits of the token after <paramref name="tokens"/>.</summary>
    private static Tensor NextLogits(SlmModel model, List<int> tokens, KvCache? cache, KvCacheMode mode, Device device)
    {
        var context = model.Context;
        if (cache is not null)
        {
            var fresh = tokens.Count - cache.Length; // tokens not yet in the cache
            if (cache.Length > 0 && cache.Length + fresh > context)
            {
                if (mode == KvCacheMode.Exact)
                {
                    return Window(model, tokens, device); // past the context: whole windows, as without a cache
                }

                cache.Clear();
                fresh = Math.Min(tokens.Count, Math.Max(1, context / 2));
            }
            else if (cache.Length == 0 && fresh > context)
            {
                if (mode == KvCacheMode.Exact)
                {
                    return Window(model, tokens, device);
                }

                fresh = Math.Max(1, context / 2);
            }

            var input = tensor(tokens.Skip(tokens.Count - (int)fresh).Select(t => (long)t).ToArray(), new long[] { 1, fresh }, ScalarType.Int64).to(device);
            using (cache.Activate(fresh))
            {
                return model.Logits(input, lastPositionOnly: true);
            }
        }

        return Window(model, tokens, device);
    }

    private static Tensor Window(SlmModel model, List<int> tokens, Device device)
    {
        var cache = model.KvCache;
        if (cache is not null)
        {
            // A whole window, past what the cache holds: read without it.
            model.SetKvCache(null);
            try
            {
                return Window(model, tokens, device);
            }
            finally
            {
                model.SetKvCache(cache);
            }
        }

        var window = tokens.Skip(Math.Max(0, tokens.Count - model.Context)).Select(t => (long)t).ToList();
        if (!model.PredictsEveryPosition && window.Count < model.Context)
        {
            window.InsertRange(0, Enumerable.Repeat(0L, model.Context - window.Count));
        }

        var x = tensor(window.ToArray(), new long[] { 1, window.Count }, ScalarType.Int64).to(device);
        return model.Logits(x, lastPositionOnly: true);
    }

    /// <summary>The next token from one position's logits over the real vocabulary: greedy at temperature 0, else sampled after temperature, top-k and top-p (other runtimes draw with it too).</summary>
    public static int Draw(Tensor logits, SamplingOptions options, torch.Generator generator)
    {
        if (options.Temperature == 0)
        {
            return (int)logits.argmax().item<long>();
        }

        logits = logits.Over(options.Temperature);
        if (options.TopK > 0 && options.TopK < logits.shape[0])
        {
            var (values, _) = logits.topk(options.TopK);
            logits = logits.FillWhere(logits < values[options.TopK - 1], double.NegativeInfinity);
        }

        var probs = nn.functional.softmax(logits, 0);
        if (options.TopP < 1)
        {
            // Keep the most likely tokens until their probability reaches p (always at least one).
            var (sorted, order) = probs.sort(descending: true);
            var before = sorted.cumsum(0) - sorted;
            using var topP = options.TopP.ToScalar();
            var dropSorted = before >= topP;
            var drop = zeros_like(dropSorted).scatter(0, order, dropSorted);
            probs = probs.FillWhere(drop, 0);
            probs = probs / probs.sum();
        }

        return (int)probs.cpu().multinomial(1, replacement: false, generator: generator).item<long>();
    }
}
