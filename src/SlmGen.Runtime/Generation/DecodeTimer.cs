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
/// (the exact KV cache): one warm-up generation, then several timed ones; each token's time is read when its id
/// reaches the host (the draw synchronises), so the times are latencies, not launch rates.
/// </summary>
public static class DecodeTimer
{
    /// <exception cref="ArgumentException">The prompt and the new tokens do not fit the context, or the model predicts one token per window.</exception>
    public static DecodeTiming Time(SlmModel model, Device device, int promptTokens, int newTokens, int runs = 3, long seed = 0)
    {
        if (!model.PredictsEveryPosition)
        {
            throw new ArgumentException($"{model.GetName()} makes one prediction per window: it decodes without a KV cache, and the decode timer times cached decoding.");
        }

        if (promptTokens < 1 || newTokens < 2 || promptTokens + newTokens > model.Context || runs < 1)
        {
            throw new ArgumentException($"{model.GetName()}: a prompt of {promptTokens} and {newTokens} new tokens must fit its context of {model.Context} (prompt ≥ 1, new tokens ≥ 2, runs ≥ 1).");
        }

        model.to(device);
        var random = new Random((int)seed);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(model.DeclaredVocab)).ToArray();
        var prefill = new List<double>();
        var perToken = new List<double>();
        for (var r = 0; r <= runs; r++)
        {
            var stamps = new List<double>(newTokens);
            var clock = Stopwatch.StartNew();
            TextGenerator.Generate(model, prompt, newTokens, SamplingOptions.Greedy, device, _ => stamps.Add(clock.Elapsed.TotalMilliseconds));
            if (r == 0)
            {
                continue; // warm-up
            }

            prefill.Add(stamps[0]);
            perToken.Add((stamps[^1] - stamps[0]) / (newTokens - 1));
        }

        prefill.Sort();
        perToken.Sort();
        var median = perToken[perToken.Count / 2];
        return new DecodeTiming(promptTokens, newTokens, prefill[prefill.Count / 2], median, (perToken[^1] - perToken[0]) / median);
    }
}
