using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Generation;

/// <summary>Samples tokens from a model: temperature, top-k, and a seed for repeatable output.</summary>
public static class TextGenerator
{
    /// <summary>
    /// Continues <paramref name="prompt"/> by <paramref name="count"/> tokens. The model sees at most its
    /// context; models that need a full window (flatten baselines) get the prompt left-padded with token 0.
    /// </summary>
    public static int[] Generate(SlmModel model, IReadOnlyList<int> prompt, int count, double temperature = 1.0, int topK = 0, long seed = 0, Device? device = null)
    {
        if (temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), "The temperature must be positive.");
        }

        device ??= model.parameters().First().device;
        var tokens = new List<int>(prompt.Count == 0 ? new[] { 0 } : prompt);
        // Sampling draws on the CPU generator: it is seeded here and does not touch the device's streams.
        var generator = new torch.Generator((ulong)seed, CPU);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (var i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                var window = tokens.Skip(Math.Max(0, tokens.Count - model.Context)).Select(t => (long)t).ToList();
                if (!model.PredictsEveryPosition && window.Count < model.Context)
                {
                    window.InsertRange(0, Enumerable.Repeat(0L, model.Context - window.Count));
                }

                var x = tensor(window.ToArray(), new long[] { 1, window.Count }, ScalarType.Int64).to(device);
                var logits = model.Logits(x, lastPositionOnly: true).to(ScalarType.Float32).squeeze(0) / temperature;
                if (topK > 0 && topK < logits.shape[0])
                {
                    var (values, _) = logits.topk(topK);
                    var threshold = values[topK - 1];
                    logits = logits.masked_fill(logits < threshold, double.NegativeInfinity);
                }

                var probs = nn.functional.softmax(logits, 0).cpu();
                var next = probs.multinomial(1, replacement: false, generator: generator);
                tokens.Add((int)next.item<long>());
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        return tokens.Skip(prompt.Count == 0 ? 1 : prompt.Count).ToArray();
    }
}
