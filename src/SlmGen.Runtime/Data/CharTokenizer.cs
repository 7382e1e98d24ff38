using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace SlmGen.Data;

/// <summary>One token per character; the vocabulary is the sorted set of characters it was built from.</summary>
public sealed class CharTokenizer : ITokenizer
{
    private readonly char[] chars;
    private readonly Dictionary<char, int> ids;

    /// <summary>Builds the vocabulary from <paramref name="texts"/> (all characters that occur, sorted by code).</summary>
    public CharTokenizer(params string[] texts)
    {
        chars = texts.SelectMany(t => t).Distinct().OrderBy(c => c).ToArray();
        ids = chars.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
    }

    /// <inheritdoc />
    public int VocabSize => chars.Length;

    /// <summary>The characters, in id order.</summary>
    public IReadOnlyList<char> Characters => chars;

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        var result = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (!ids.TryGetValue(text[i], out result[i]))
            {
                throw new ArgumentException($"Character '{text[i]}' (U+{(int)text[i]:X4}) at {i} is not in the vocabulary.", nameof(text));
            }
        }

        return result;
    }

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            sb.Append(chars[id]);
        }

        return sb.ToString();
    }
}
