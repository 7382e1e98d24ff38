using System;
using SlmGen.Data;

namespace SlmGen.Training;

/// <summary>Draws training windows; its whole state fits in a checkpoint, so a resumed run draws the same batches.</summary>
public sealed class WindowSampler
{
    private readonly long windows;
    private readonly Sampling sampling;
    private readonly SplitMix64 rng;
    private long[]? order;
    private ulong epochSeed;

    /// <summary>Creates a sampler over a stream of <paramref name="length"/> tokens cut into windows of <paramref name="context"/>.</summary>
    public WindowSampler(int length, int context, Sampling sampling, long seed)
    {
        windows = Windows.Count(length, context);
        if (windows <= 0)
        {
            throw new ArgumentException($"The training split has {length} tokens, too few for one window of {context} and its next token.");
        }

        this.sampling = sampling;
        rng = new SplitMix64(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 1));
    }

    /// <summary>Windows per epoch (every window once).</summary>
    public long WindowCount => windows;

    /// <summary>Position inside the current shuffled epoch.</summary>
    public long Position { get; private set; }

    /// <summary>The starts of the next <paramref name="batch"/> windows.</summary>
    public long[] Next(int batch)
    {
        var starts = new long[batch];
        for (var i = 0; i < batch; i++)
        {
            if (sampling == Sampling.Random)
            {
                starts[i] = rng.NextLong(windows);
                continue;
            }

            if (order is null || Position >= windows)
            {
                epochSeed = rng.State;
                order = Shuffle(epochSeed);
                Position = 0;
            }

            starts[i] = order[Position++];
        }

        return starts;
    }

    /// <summary>The state to save: the generator, and for shuffled epochs the epoch's seed and position.</summary>
    public (ulong Rng, ulong EpochSeed, long Position, bool InEpoch) State => (rng.State, epochSeed, Position, order is not null);

    /// <summary>Restores a saved state.</summary>
    public void Restore((ulong Rng, ulong EpochSeed, long Position, bool InEpoch) state)
    {
        rng.State = state.Rng;
        epochSeed = state.EpochSeed;
        Position = state.Position;
        order = state.InEpoch && sampling == Sampling.ShuffledEpochs ? Shuffle(epochSeed) : null;
    }

    private long[] Shuffle(ulong seed)
    {
        // The permutation is a function of the seed alone; the main generator advances by one draw per epoch.
        var local = new SplitMix64(seed);
        rng.NextUInt64();
        var result = new long[windows];
        for (long i = 0; i < windows; i++)
        {
            result[i] = i;
        }

        for (var i = windows - 1; i > 0; i--)
        {
            var j = local.NextLong(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }

        return result;
    }
}
