namespace SlmGen.Training;

/// <summary>How a split is evaluated.</summary>
public enum EvalKind
{
    /// <summary>Non-overlapping windows covering the split (every position scored; models with one prediction per window score every window, stride 1).</summary>
    Sequential,
    /// <summary>The first N windows, stride 1, scoring the token after each window (the study: 10,000 windows).</summary>
    FirstWindows,
    /// <summary>N random batches of the training objective (nanoGPT's quick estimate).</summary>
    RandomBatches,
    /// <summary>
    /// Windows every <c>stride</c> tokens over the whole split: the first window scores all its positions, each later
    /// one only its last <c>stride</c> (so every token is scored once, with at least context − stride tokens before it,
    /// or all of them), and a last window ending at the split's end scores what remains. Every token after the first
    /// is scored. Models with one prediction per window score every window (stride 1), as <see cref="Sequential"/>.
    /// </summary>
    Sliding,
}

/// <summary>An evaluation protocol.</summary>
/// <param name="Kind">What is scored.</param>
/// <param name="Count">Windows (<see cref="EvalKind.FirstWindows"/>), batches (<see cref="EvalKind.RandomBatches"/>), a token cap (<see cref="EvalKind.Sequential"/>, 0 = all) or the stride (<see cref="EvalKind.Sliding"/>).</param>
public sealed record EvalProtocol(EvalKind Kind, int Count)
{
    /// <summary>The whole split in non-overlapping windows.</summary>
    public static EvalProtocol Sequential(int maxTokens = 0) => new(EvalKind.Sequential, maxTokens);

    /// <summary>The study's protocol: the first <paramref name="windows"/> windows, next token after each.</summary>
    public static EvalProtocol FirstWindows(int windows = 10_000) => new(EvalKind.FirstWindows, windows);

    /// <summary>A quick estimate from <paramref name="batches"/> random batches.</summary>
    public static EvalProtocol RandomBatches(int batches = 20) => new(EvalKind.RandomBatches, batches);

    /// <summary>The whole split in windows every <paramref name="stride"/> tokens, each token scored once with as much context as the stride leaves.</summary>
    public static EvalProtocol Sliding(int stride) => new(EvalKind.Sliding, stride);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        EvalKind.Sequential => Count > 0 ? $"sequential (first {Count:N0} tokens)" : "sequential (whole split)",
        EvalKind.FirstWindows => $"first {Count:N0} windows, next token",
        EvalKind.Sliding => $"sliding windows, stride {Count:N0}, every token scored",
        _ => $"{Count} random batches",
    };
}

/// <summary>An evaluation result.</summary>
/// <param name="Nll">Mean negative log-likelihood, nats per token.</param>
/// <param name="Tokens">Tokens scored.</param>
public sealed record EvalResult(double Nll, long Tokens)
{
    /// <summary>How it was measured (<see cref="EvalProtocol.ToString"/>).</summary>
    public string? Protocol { get; init; }

    /// <summary>Characters of the scored text, when known (<see cref="Evaluator.EvaluateText"/>).</summary>
    public long? Characters { get; init; }

    /// <summary>UTF-8 bytes of the scored text, when known.</summary>
    public long? Bytes { get; init; }

    /// <summary>Bits per character of the scored text: total NLL in bits over its characters (comparable across tokenizers).</summary>
    public double? BitsPerCharacter => Characters is > 0 ? Nll * Tokens / System.Math.Log(2) / Characters : null;

    /// <summary>Bits per UTF-8 byte of the scored text.</summary>
    public double? BitsPerByte => Bytes is > 0 ? Nll * Tokens / System.Math.Log(2) / Bytes : null;

    /// <summary>Perplexity, exp(NLL).</summary>
    public double Perplexity => System.Math.Exp(Nll);

    /// <summary>Bits per token (per character for character models).</summary>
    public double BitsPerToken => Nll / System.Math.Log(2);
}
