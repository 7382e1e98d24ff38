using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Generation;

/// <summary>Measured decoding latency at batch 1 with the KV cache, as <c>slmgen sample</c> generates.</summary>
/// <param name="PromptTokens">Tokens of the prompt (the prefill).</param>
/// <param name="NewTokens">Tokens generated after it.</param>
/// <param name="PrefillMilliseconds">Median time to the first new token: the prompt's forward pass with an empty cache, and the draw.</param>
/// <param name="MillisecondsPerToken">Median time per token after the first (one forward with the cache at positions prompt … prompt + new − 2, and the draw).</param>
/// <param name="Spread">(slowest − fastest) / median of the runs' per-token times.</param>
public sealed record DecodeTiming(int PromptTokens, int NewTokens, double PrefillMilliseconds, double MillisecondsPerToken, double Spread);

/// <summary>
/// Times greedy generation through <see cref="TextGenerator.Generate(SlmModel, IReadOnlyList{int}, int, SamplingOptions, Device?, Action{int}?)"/>
/// (the exact KV cache): warm-up generations for at least <see cref="WarmUpSeconds"/>, then several timed ones; each token's time is read when its id
/// reaches the host (the draw synchronises), so the times are latencies, not launch rates.
/// </summary>
public static class DecodeTimer
{
    /// <summary>The least time spent generating before the timed runs (<see cref="Time"/>).</summary>
    public const double WarmUpSeconds = 1.0;

    /// <summary>
    /// Whether <paramref name="model"/> can be timed (or predicted: <c>slmgen time --decode --predict-only</c> checks the
    /// same) decoding <paramref name="newTokens"/> tokens after a prompt of <paramref name="promptTokens"/>: cached
    /// decoding, the prompt and at least two new tokens within its context.
    /// </summary>
    /// <exception cref="ArgumentException">It cannot, with the reason and the largest lengths that fit.</exception>
    public static void Check(SlmModel model, int promptTokens, int newTokens)
    {
        if (!model.PredictsEveryPosition)
        {
            throw new ArgumentException($"{model.GetName()} makes one prediction per window: it decodes without a KV cache, and the decode timer times cached decoding.");
        }

        if (promptTokens >= model.Context - 1)
        {
            throw new ArgumentException($"{model.GetName()}: a prompt of {promptTokens} tokens leaves no room for the 2 or more new tokens a measurement needs in its context of {model.Context} (a prompt of at most {model.Context - 2}).");
        }

        if (promptTokens < 1 || newTokens < 2 || promptTokens + newTokens > model.Context)
        {
            throw new ArgumentException($"{model.GetName()}: a prompt of {promptTokens} and {newTokens} new tokens must fit its context of {model.Context} (prompt ≥ 1, new tokens ≥ 2; after this prompt at most {Math.Max(0, model.Context - Math.Max(1, promptTokens))} new tokens).");
        }
    }

    /// <param name="model">The model (moved to <paramref name="device"/> and converted to its decoding precision there).</param>
    /// <param name="device">Where it decodes.</param>
    /// <param name="promptTokens">The prompt's length (random ids, drawn from <paramref name="seed"/>).</param>
    /// <param name="newTokens">Tokens generated after it, greedily.</param>
    /// <param name="runs">Timed generations after the warm-up (<see cref="WarmUpSeconds"/>); the medians over them.</param>
    /// <param name="seed">The prompt's seed.</param>
    /// <param name="trace">
    /// CUDA: after timing, one more generation under libtorch's profiler, written to this path as a Chrome trace (host
    /// operators and kernels of the prefill and every token; scripts/gpu/decode_trace.py sums it per token). Null: none.
    /// </param>
    /// <param name="bf16">On CUDA the model is converted to bf16 first, as <c>slmgen sample</c> decodes (<see cref="DecodePrecision"/>); false: fp32 (on the CPU always).</param>
    /// <exception cref="ArgumentException">The prompt and the new tokens do not fit the context, or the model predicts one token per window.</exception>
    /// <exception cref="InvalidOperationException">A trace asked for where there is no CUDA or no profiler is loaded.</exception>
    public static DecodeTiming Time(SlmModel model, Device device, int promptTokens, int newTokens, int runs = 5, long seed = 0, string? trace = null, bool bf16 = true)
    {
        if (trace is not null && SlmGen.Native.CudaNative.WhyNoTrace(device) is { } noTrace)
        {
            throw new InvalidOperationException($"a decoding trace needs CUDA and libslmgen_native's profiler ({noTrace}).");
        }

        Check(model, promptTokens, newTokens);
        if (runs < 1)
        {
            throw new ArgumentException($"{model.GetName()}: the decode timer needs 1 run or more (got {runs}).");
        }

        SlmGen.Native.CHeap.PrepareFor(device);
        DecodePrecision.Apply(model, device, bf16);
        var random = new Random((int)seed);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(model.DeclaredVocab)).ToArray();
        var prefill = new List<double>();
        var perToken = new List<double>();
        // Warm-up: generations until WarmUpSeconds have passed (at least two), so that what is timed is the steady
        // state — the runtime's tiered JIT recompiles the hot managed methods in the background some 30 calls in, which
        // on a machine of few cores slowed the timed runs of short generations up to threefold.
        var warm = Stopwatch.StartNew();
        for (var w = 0; w < 2 || (warm.Elapsed.TotalSeconds < WarmUpSeconds && w < 1000); w++)
        {
            TextGenerator.Generate(model, prompt, newTokens, SamplingOptions.Greedy, device);
        }

        for (var r = 0; r < runs; r++)
        {
            var stamps = new List<double>(newTokens);
            var clock = Stopwatch.StartNew();
            TextGenerator.Generate(model, prompt, newTokens, SamplingOptions.Greedy, device, _ => stamps.Add(clock.Elapsed.TotalMilliseconds));
            prefill.Add(stamps[0]);
            perToken.Add((stamps[^1] - stamps[0]) / (newTokens - 1));
        }

        if (trace is not null)
        {
            SlmGen.Native.CudaNative.RecordTrace(trace, 1, () => TextGenerator.Generate(model, prompt, newTokens, SamplingOptions.Greedy, device), () => cuda.synchronize(device));
        }

        prefill.Sort();
        perToken.Sort();
        var median = perToken[perToken.Count / 2];
        return new DecodeTiming(promptTokens, newTokens, prefill[prefill.Count / 2], median, (perToken[^1] - perToken[0]) / median);
    }
}
