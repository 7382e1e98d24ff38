using System;

namespace SlmGen.Inference;

/// <summary>How the next token is chosen: greedy at temperature 0, otherwise drawn from the softmax at the temperature after the top-k and top-p cuts.</summary>
/// <param name="MaxTokens">Tokens to generate at most.</param>
/// <param name="Temperature">0: the most likely token (greedy, the same tokens as SlmGen's own sampler); above 0: drawn.</param>
/// <param name="TopK">Keep the k most likely tokens (0: all).</param>
/// <param name="TopP">Keep the most likely tokens until their probability reaches p (at least one).</param>
/// <param name="Seed">The draws' seed: the same seed, settings and model give the same text.</param>
/// <param name="StopAtEndOfText">Stop after the tokenizer's end-of-text token, when it has one.</param>
public sealed record SamplingSettings(int MaxTokens = 200, double Temperature = 0.8, int TopK = 0, double TopP = 1.0, int Seed = 0, bool StopAtEndOfText = true)
{
    /// <summary>Greedy decoding of up to <paramref name="maxTokens"/> tokens.</summary>
    public static SamplingSettings Greedy(int maxTokens = 200) => new(maxTokens, Temperature: 0);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (MaxTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "must be 0 or more");
        }

        if (!double.IsFinite(Temperature) || Temperature < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "must be a finite number, 0 or more");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "must be 0 or more");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "must be in (0, 1]");
        }
    }
}
