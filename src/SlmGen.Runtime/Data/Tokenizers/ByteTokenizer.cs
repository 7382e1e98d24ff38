using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace SlmGen.Data.Tokenizers;

/// <summary>UTF-8 bytes as tokens: a vocabulary of 256, every text encodable, one token per byte.</summary>
public sealed class ByteTokenizer : ITokenizer
{
    /// <inheritdoc />
    public int VocabSize => 256;

    /// <inheritdoc />
    public int[] Encode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString(ids.Select(i => (byte)i).ToArray());
}
