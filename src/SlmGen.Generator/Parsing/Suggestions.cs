using System;
using System.Collections.Generic;
using System.Linq;

namespace SlmGen.Generator.Parsing;

/// <summary>"Did you mean …?" for a misspelled key or name: the closest of the allowed ones, when it is close.</summary>
internal static class Suggestions
{
    /// <summary>" (did you mean 'x'?)", or empty when no allowed word is within a few edits of <paramref name="written"/>.</summary>
    public static string DidYouMean(string written, IEnumerable<string> allowed)
    {
        if (written.Length == 0 || written.Length > 64)
        {
            return string.Empty;
        }

        var w = written.ToLowerInvariant().Replace('-', '_');
        var best = allowed
            .Select(a => (Word: a, Distance: Distance(w, a.ToLowerInvariant())))
            .OrderBy(x => x.Distance).ThenBy(x => x.Word, StringComparer.Ordinal)
            .FirstOrDefault();
        var limit = Math.Max(1, Math.Min(3, w.Length / 3));
        return best.Word is not null && best.Distance <= limit ? $" (did you mean '{best.Word}'?)" : string.Empty;
    }

    /// <summary>Edit distance with transpositions (optimal string alignment): "embeding" → "embedding" is 1, "haeds" → "heads" is 1.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
