using System;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Data;

/// <summary>What the loss is computed on.</summary>
public enum Objective
{
    /// <summary>The standard language-model loss: the next token at every position of the window.</summary>
    EveryPosition,
    /// <summary>The study's protocol: only the token after the window (logits of the last position).</summary>
    LastPosition,
}

/// <summary>A batch: inputs (B, T) and targets (B, T) for <see cref="Objective.EveryPosition"/> or (B) for <see cref="Objective.LastPosition"/>.</summary>
public sealed record Batch(Tensor Inputs, Tensor Targets) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}

/// <summary>Cuts windows of a token stream into batches.</summary>
public static class Windows
{
    /// <summary>Number of windows of <paramref name="context"/> tokens that have a next token in a stream of <paramref name="length"/>.</summary>
    public static long Count(int length, int context) => Math.Max(0, length - context);

    /// <summary>A batch of the windows that start at <paramref name="starts"/>.</summary>
    public static Batch Make(int[] tokens, ReadOnlySpan<long> starts, int context, Objective objective, Device? device = null)
    {
        var b = starts.Length;
        var x = new long[b * context];
        var y = new long[objective == Objective.EveryPosition ? b * context : b];
        for (var i = 0; i < b; i++)
        {
            var s = (int)starts[i];
            if (s < 0 || s + context >= tokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(starts), $"A window at {s} of {context} tokens needs a next token; the stream has {tokens.Length}.");
            }

            for (var t = 0; t < context; t++)
            {
                x[(i * context) + t] = tokens[s + t];
            }

            if (objective == Objective.EveryPosition)
            {
                for (var t = 0; t < context; t++)
                {
                    y[(i * context) + t] = tokens[s + t + 1];
                }
            }
            else
            {
                y[i] = tokens[s + context];
            }
        }

        var inputs = tensor(x, new long[] { b, context }, ScalarType.Int64);
        var targets = objective == Objective.EveryPosition ? tensor(y, new long[] { b, context }, ScalarType.Int64) : tensor(y, new long[] { b }, ScalarType.Int64);
        if (device is not null && device.type != DeviceType.CPU)
        {
            return new Batch(inputs.to(device, disposeAfter: true, non_blocking: true), targets.to(device, disposeAfter: true, non_blocking: true));
        }

        return new Batch(inputs, targets);
    }

    /// <summary>Draws <paramref name="batch"/> window starts uniformly at random (with replacement).</summary>
    public static long[] RandomStarts(SplitMix64 rng, int length, int context, int batch)
    {
        var count = Count(length, context);
        if (count <= 0)
        {
            throw new ArgumentException($"The split has {length} tokens, too few for a window of {context} and its next token.");
        }

        var starts = new long[batch];
        for (var i = 0; i < batch; i++)
        {
            starts[i] = rng.NextLong(count);
        }

        return starts;
    }
}
