using System;
using System.Linq;

namespace SlmGen.Inference;

/// <summary>Draws the next token from a row of logits under <see cref="SamplingSettings"/> (the same rules as SlmGen's own sampler; its own random numbers).</summary>
public sealed class TokenSampler
{
    private readonly SamplingSettings settings;
    private readonly Random random;

    /// <summary>A sampler whose draws follow <paramref name="settings"/>'s seed.</summary>
    public TokenSampler(SamplingSettings settings)
    {
        settings.Validate();
        this.settings = settings;
        random = new Random(settings.Seed);
    }

    /// <summary>The next token's id: the arg-max at temperature 0 (the lowest id among ties), else a draw.</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.Length == 0)
        {
            throw new ArgumentException("no logits", nameof(logits));
        }

        if (settings.Temperature == 0)
        {
            var best = 0;
            for (var i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[best])
                {
                    best = i;
                }
            }

            return best;
        }

        var scaled = new double[logits.Length];
        for (var i = 0; i < scaled.Length; i++)
        {
            scaled[i] = logits[i] / settings.Temperature;
        }

        if (settings.TopK > 0 && settings.TopK < scaled.Length)
        {
            var threshold = scaled.OrderByDescending(v => v).ElementAt(settings.TopK - 1);
            for (var i = 0; i < scaled.Length; i++)
            {
                if (scaled[i] < threshold)
                {
                    scaled[i] = double.NegativeInfinity;
                }
            }
        }

        var max = scaled.Max();
        var probs = scaled.Select(v => Math.Exp(v - max)).ToArray();
        var total = probs.Sum();
        for (var i = 0; i < probs.Length; i++)
        {
            probs[i] /= total;
        }

        if (settings.TopP < 1)
        {
            // Keep the most likely tokens while the probability before them is below p (always at least one).
            var order = Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ThenBy(i => i).ToArray();
            var before = 0.0;
            foreach (var i in order)
            {
                var p = probs[i];
                if (before >= settings.TopP)
                {
                    probs[i] = 0;
                }

                before += p;
            }

            total = probs.Sum();
            for (var i = 0; i < probs.Length; i++)
            {
                probs[i] /= total;
            }
        }

        var u = random.NextDouble();
        var cumulative = 0.0;
        var last = 0;
        for (var i = 0; i < probs.Length; i++)
        {
            if (probs[i] <= 0)
            {
                continue;
            }

            last = i;
            cumulative += probs[i];
            if (u < cumulative)
            {
                return i;
            }
        }

        return last;
    }
}
