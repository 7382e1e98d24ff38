using System.Collections.Generic;

namespace SlmGen.Data;

/// <summary>Turns text into token ids and back. Implement it to train on your own data and vocabulary.</summary>
public interface ITokenizer
{
    /// <summary>Number of distinct tokens (the model's vocabulary size must equal it).</summary>
    int VocabSize { get; }

    /// <summary>Encodes text to ids.</summary>
    int[] Encode(string text);

    /// <summary>Decodes ids to text.</summary>
    string Decode(IEnumerable<int> ids);
}
