using System;

namespace SlmGen.Data;

/// <summary>A tokenised corpus: train, validation and test ids and the tokenizer that made them.</summary>
public sealed record TokenDataset(string Name, ITokenizer Tokenizer, int[] Train, int[] Validation, int[] Test)
{
    /// <summary>Vocabulary size.</summary>
    public int VocabSize => Tokenizer.VocabSize;

    /// <summary>The ids of a split.</summary>
    public int[] this[Split split] => split switch
    {
        Split.Train => Train,
        Split.Validation => Validation,
        Split.Test => Test,
        _ => throw new ArgumentOutOfRangeException(nameof(split)),
    };

    /// <summary>A copy with each split cut to its first tokens (the study trains on the first 80,000 words).</summary>
    public TokenDataset Truncate(int train, int validation, int test) => this with
    {
        Train = Train[..Math.Min(train, Train.Length)],
        Validation = Validation[..Math.Min(validation, Validation.Length)],
        Test = Test[..Math.Min(test, Test.Length)],
    };
}

/// <summary>A data split.</summary>
public enum Split
{
    /// <summary>Training data.</summary>
    Train,
    /// <summary>Validation data.</summary>
    Validation,
    /// <summary>Test data.</summary>
    Test,
}
