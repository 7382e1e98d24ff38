namespace SlmGen.Data;

/// <summary>
/// A small, fast random generator whose whole state is one number, so that checkpoints can store it and a
/// resumed run draws the same batches (System.Random's state cannot be saved).
/// </summary>
public sealed class SplitMix64
{
    /// <summary>Creates a generator from a seed.</summary>
    public SplitMix64(ulong seed) => State = seed;

    /// <summary>The full state.</summary>
    public ulong State { get; set; }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        unchecked
        {
            var z = State += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) (Lemire's multiply-shift; bias below 2⁻³²).</summary>
    public long NextLong(long bound) => (long)(((System.UInt128)NextUInt64() * (ulong)bound) >> 64);
}
