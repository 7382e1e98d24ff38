using System.Collections.Generic;
using System.Linq;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Validation;

/// <summary>Divisors for suggestions in messages (head counts, key/value heads), in O(√n).</summary>
internal static class Divisors
{
    /// <summary>Every divisor of <paramref name="n"/> (n ≥ 1), ascending.</summary>
    public static List<long> Of(long n)
    {
        var low = new List<long>();
        var high = new List<long>();
        for (long d = 1; d * d <= n; d++)
        {
            if (n % d == 0)
            {
                low.Add(d);
                if (d * d != n)
                {
                    high.Add(n / d);
                }
            }
        }

        high.Reverse();
        low.AddRange(high);
        return low;
    }

    /// <summary>The two divisors of <paramref name="n"/> closest to <paramref name="target"/>, as "a or b".</summary>
    public static string Nearest(long n, long target) =>
        string.Join(" or ", Of(n).OrderBy(d => System.Math.Abs(d - target)).Take(2).OrderBy(d => d));
}
