using SlmGen.Data.Tokenizers;

namespace SlmGen;

/// <summary>
/// A model's costs per unit of text, for a tokenizer's measured compression (<see cref="TokenizerStats"/>): what a
/// per-token cost becomes per character and per byte, and how much text the context reaches. Models with
/// different tokenizers compare on these, not per token. Per-prediction models (flatten) predict one token per
/// window, so their figures are per predicted token's text.
/// </summary>
/// <param name="Cost">The model's compile-time costs.</param>
/// <param name="Stats">The tokenizer's compression on the text the costs are for.</param>
public sealed record TextCost(ModelCost Cost, TokenizerStats Stats)
{
    /// <summary>Forward FLOPs per character: per token × tokens per character.</summary>
    public double ForwardFlopsPerCharacter => Cost.ForwardFlopsPerToken / Stats.CharactersPerToken;

    /// <summary>Training FLOPs per character.</summary>
    public double TrainingFlopsPerCharacter => Cost.TrainingFlopsPerToken / Stats.CharactersPerToken;

    /// <summary>Forward FLOPs per UTF-8 byte.</summary>
    public double ForwardFlopsPerByte => Cost.ForwardFlopsPerToken / Stats.BytesPerToken;

    /// <summary>Training FLOPs per UTF-8 byte.</summary>
    public double TrainingFlopsPerByte => Cost.TrainingFlopsPerToken / Stats.BytesPerToken;

    /// <summary>Characters a full context spans.</summary>
    public double ContextCharacters => Cost.Context * Stats.CharactersPerToken;

    /// <summary>Bytes a full context spans.</summary>
    public double ContextBytes => Cost.Context * Stats.BytesPerToken;

    /// <summary>KV-cache bytes (bf16) per character of text held.</summary>
    public double KvCacheBytesPerCharacter => Cost.KvCacheBytesPerTokenBf16 / Stats.CharactersPerToken;

    /// <summary>Training activation bytes (fp32) per character of a full window.</summary>
    public double ActivationBytesPerCharacter => Cost.ActivationBytesPerSequenceFp32 / ContextCharacters;

    /// <summary>Training FLOPs for a budget declared in characters of text.</summary>
    public double TrainingFlopsForCharacters(double characters) => characters * TrainingFlopsPerCharacter;
}
