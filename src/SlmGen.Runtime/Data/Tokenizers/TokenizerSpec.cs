using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using SlmGen.Interop;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Data.Tokenizers;

/// <summary>
/// Which tokenizer a run uses: <c>chars</c> (the training text's characters), <c>bytes</c> (UTF-8, 256),
/// <c>words</c> (whitespace words of the training text and &lt;eos&gt;), <c>gpt2</c>, <c>cl100k</c>, or a BPE folder
/// written by <see cref="BpeTrainer"/> (<c>bpe:DIR</c>, or a folder holding vocab.json and merges.txt).
/// </summary>
public sealed record TokenizerSpec(string Kind, string? Directory = null)
{
    /// <summary>The tokenizers known by name (every other name is a BPE folder): the one list the command line, sweeps and exports use.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal) { "chars", "char", "bytes", "words", "gpt2", "cl100k" };

    /// <summary>Whether <paramref name="text"/> names a built-in tokenizer rather than a BPE folder.</summary>
    public static bool IsName(string text) => Names.Contains(text);

    /// <summary>Parses "chars", "bytes", "words", "gpt2", "cl100k", "bpe:DIR" or DIR.</summary>
    /// <exception cref="ArgumentException">None of those.</exception>
    public static TokenizerSpec Parse(string text) => text switch
    {
        "chars" or "char" => new("chars"),
        "bytes" => new("bytes"),
        "words" => new("words"),
        "gpt2" => new("gpt2"),
        "cl100k" => new("cl100k"),
        _ when text.StartsWith("bpe:", StringComparison.Ordinal) => new("bpe", text[4..]),
        _ when File.Exists(Path.Combine(text, "vocab.json")) => new("bpe", text),
        _ => throw new ArgumentException($"Unknown tokenizer '{text}': chars, bytes, words, gpt2, cl100k, or a BPE folder (bpe:DIR) with vocab.json and merges.txt."),
    };

    /// <summary>The tokenizer, built from the text where it depends on it (chars: every split's characters; words: the training split's words).</summary>
    public ITokenizer Create((string Train, string Validation, string Test) text) => Kind switch
    {
        "chars" => new CharTokenizer(text.Train, text.Validation, text.Test),
        "bytes" => new ByteTokenizer(),
        "words" => new WordTokenizer(text.Train, endOfLine: true),
        "gpt2" => TiktokenTextTokenizer.Gpt2(),
        "cl100k" => TiktokenTextTokenizer.Cl100k(),
        "bpe" => BpeTextTokenizer.Load(Directory!),
        _ => throw new ArgumentException($"Unknown tokenizer kind '{Kind}'."),
    };

    /// <summary>A short name for data-set names and cache files.</summary>
    public string Name(ITokenizer tokenizer) => Kind == "bpe" ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Directory!)) : Kind;

    /// <summary>What identifies the tokenizer's output beyond the text: its files for BPE, the package for tiktoken.</summary>
    internal string Identity(ITokenizer tokenizer) => tokenizer switch
    {
        BpeTextTokenizer bpe => "bpe:" + bpe.Sha256,
        TiktokenTextTokenizer t => "tiktoken:" + t.Name + ":Microsoft.ML.Tokenizers 2.0.1",
        _ => Kind + ":from-training-text",
    };
}

/// <summary>Tokenized corpora cached as safetensors files (int32 splits, a whole-file SHA-256, the text's and tokenizer's identity in the metadata).</summary>
public static class TokenCache
{
    /// <summary>The cache folder: SLMGEN_CACHE, else ~/.cache/slmgen/tokens.</summary>
    public static string Folder => Environment.GetEnvironmentVariable("SLMGEN_CACHE") is { Length: > 0 } c
        ? c
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slmgen", "tokens");

    /// <summary>The splits of <paramref name="corpus"/> encoded by <paramref name="spec"/>, from the cache when it is current.</summary>
    public static TokenDataset Load(string corpus, TokenizerSpec spec, (string Train, string Validation, string Test) text)
    {
        var tokenizer = spec.Create(text);
        var name = $"{corpus}-{spec.Name(tokenizer)}";
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in new[] { text.Train, "\u0000", text.Validation, "\u0000", text.Test, "\u0000", spec.Identity(tokenizer) })
        {
            sha.AppendData(Encoding.UTF8.GetBytes(part));
        }

        var key = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
        var path = Path.Combine(Folder, $"{name}-{key[..16]}.safetensors");
        if (TryRead(path, key) is { } cached)
        {
            return new TokenDataset(name, tokenizer, cached[0], cached[1], cached[2]);
        }

        var splits = new[] { tokenizer.Encode(text.Train), tokenizer.Encode(text.Validation), tokenizer.Encode(text.Test) };
        Directory.CreateDirectory(Folder);
        using (var scope = NewDisposeScope())
        {
            var tensors = new List<(string, Tensor)> { ("train", tensor(splits[0])), ("validation", tensor(splits[1])), ("test", tensor(splits[2])) };
            var metadata = new Dictionary<string, string> { ["slmgen.tokens.key"] = key, ["corpus"] = corpus, ["tokenizer"] = spec.Identity(tokenizer), ["vocab"] = tokenizer.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            IO.AtomicFile.Write(path, s => SafetensorsFile.Write(s, tensors, metadata, "slmgen.sha256"));
        }

        return new TokenDataset(name, tokenizer, splits[0], splits[1], splits[2]);
    }

    /// <summary>The cached splits, or null when the file is missing, damaged or of another text or tokenizer.</summary>
    private static int[][]? TryRead(string path, string key)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            var header = SafetensorsFile.ReadHeader(stream, path);
            if (header.Metadata.GetValueOrDefault("slmgen.tokens.key") != key)
            {
                return null;
            }

            SafetensorsFile.VerifyDigest(stream, header, "slmgen.sha256");
            var tensors = SafetensorsFile.ReadTensors(stream, header);
            try
            {
                return new[] { tensors["train"].data<int>().ToArray(), tensors["validation"].data<int>().ToArray(), tensors["test"].data<int>().ToArray() };
            }
            finally
            {
                foreach (var t in tensors.Values)
                {
                    t.Dispose();
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or KeyNotFoundException or IOException)
        {
            return null; // a damaged cache file is made again
        }
    }
}
