using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace SlmGen.Inference;

/// <summary>
/// A tokenizer read from Hugging Face's <c>tokenizer.json</c> — the forms SlmGen writes for every tokenizer it trains or uses
/// (docs/interop.md), and other files made of the same parts:
/// <list type="bullet">
/// <item>models: <c>WordLevel</c> (with <c>unk_token</c>), and <c>BPE</c> with the <c>ByteLevel</c> pre-tokenizer and decoder
/// (GPT-2's byte-level BPE; encoded and decoded by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>);</item>
/// <item>normalizers: <c>Replace</c> (string patterns), <c>Sequence</c>; pre-tokenizers: <c>Split</c> (regex or string,
/// behaviour <c>Isolated</c>), <c>WhitespaceSplit</c>, <c>ByteLevel</c>; decoders: <c>Fuse</c>, <c>WordPiece</c>,
/// <c>Replace</c>, <c>ByteLevel</c>, <c>Sequence</c>.</item>
/// </list>
/// Anything else (SentencePiece's Unigram, byte fallback, post-processors that add tokens) is refused at load with its name,
/// never tokenized differently from Hugging Face's library.
/// </summary>
public sealed class TokenizerJson
{
    private readonly Func<string, int[]> encode;
    private readonly Func<IReadOnlyList<int>, string> decode;
    private readonly string?[] tokens;

    private TokenizerJson(int vocabSize, string?[] tokens, Func<string, int[]> encode, Func<IReadOnlyList<int>, string> decode)
    {
        VocabSize = vocabSize;
        this.tokens = tokens;
        this.encode = encode;
        this.decode = decode;
    }

    /// <summary>Ids 0 … VocabSize − 1.</summary>
    public int VocabSize { get; }

    /// <summary>The vocabulary's spelling of <paramref name="id"/> (byte-level characters for a byte-level BPE), or null.</summary>
    public string? TokenText(int id) => id >= 0 && id < tokens.Length ? tokens[id] : null;

    /// <summary>The id of a vocabulary entry, or null.</summary>
    public int? Id(string token)
    {
        var i = Array.IndexOf(tokens, token);
        return i < 0 ? null : i;
    }

    /// <summary>Encodes text to ids.</summary>
    /// <exception cref="ArgumentException">A word or character the vocabulary has no id for (and no unknown token).</exception>
    public int[] Encode(string text) => encode(text ?? throw new ArgumentNullException(nameof(text)));

    /// <summary>Decodes ids to text.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        var list = ids as IReadOnlyList<int> ?? ids.ToList();
        foreach (var id in list)
        {
            if (id < 0 || id >= VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"id {id} is outside the vocabulary (0 … {VocabSize - 1}).");
            }
        }

        return decode(list);
    }

    /// <summary>Reads a tokenizer.json file (at most 64 MiB).</summary>
    public static TokenizerJson Load(string path)
    {
        var length = new FileInfo(path).Length;
        if (length > 64L << 20)
        {
            throw new InvalidDataException($"{path}: {length:N0} bytes; a tokenizer.json of at most 64 MiB is read.");
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw e is NotSupportedException ? new NotSupportedException($"{path}: {e.Message}", e) : new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads a tokenizer.json text.</summary>
    /// <exception cref="InvalidDataException">Not a tokenizer.json.</exception>
    /// <exception cref="NotSupportedException">A part this reader does not implement, named.</exception>
    public static TokenizerJson Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not JSON: {e.Message}", e);
        }

        using (document)
        {
            try
            {
                return Build(document.RootElement);
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new InvalidDataException($"not a tokenizer.json: {e.Message}", e);
            }
        }
    }

    private static TokenizerJson Build(JsonElement root)
    {
        var model = root.GetProperty("model");
        var modelType = model.GetProperty("type").GetString();
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            vocab[entry.Name] = entry.Value.GetInt32();
        }

        // Added tokens (tiktoken's specials) are found in the raw text before anything else, as Hugging Face does.
        var addedTokens = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                var content = token.GetProperty("content").GetString()!;
                var id = token.GetProperty("id").GetInt32();
                vocab.TryAdd(content, id);
                if (content.Length > 0)
                {
                    addedTokens[content] = id;
                }
            }
        }

        if (vocab.Count == 0 || vocab.Values.Any(v => v < 0))
        {
            throw new InvalidDataException("the vocabulary is empty or has negative ids");
        }

        var size = vocab.Values.Max() + 1;
        var tokens = new string?[size];
        foreach (var (token, id) in vocab)
        {
            tokens[id] = token;
        }

        if (Present(root, "post_processor") is { } post)
        {
            throw new NotSupportedException($"a post-processor ({Type(post)}) adds tokens this reader does not add");
        }

        var normalize = Normalizer(Present(root, "normalizer"));
        var preTokenizer = Present(root, "pre_tokenizer");
        var decoder = Present(root, "decoder");
        switch (modelType)
        {
            case "WordLevel":
            {
                var split = PreTokenizer(preTokenizer);
                var unknownToken = Present(model, "unk_token")?.GetString();
                int? unknown = unknownToken is not null && vocab.TryGetValue(unknownToken, out var u) ? u : null;
                var decodeTokens = Decoder(decoder);
                return new TokenizerJson(size, tokens,
                    WithAddedTokens(addedTokens, text => split(normalize(text)).Select(w => vocab.TryGetValue(w, out var id) ? id
                        : unknown ?? throw new ArgumentException($"'{w}' is not in the vocabulary and the tokenizer has no unknown token.")).ToArray()),
                    ids => decodeTokens(ids.Select(i => tokens[i] ?? string.Empty).ToList()));
            }

            case "BPE":
            {
                // GPT-2's form: the ByteLevel pre-tokenizer (with its pattern), or a Split by a pattern of the file's own and then
                // ByteLevel without its pattern (cl100k's form); the ByteLevel decoder.
                string? splitPattern = null;
                if (preTokenizer is { } sequence && Type(sequence) == "Sequence" && sequence.GetProperty("pretokenizers").GetArrayLength() == 2)
                {
                    var split = sequence.GetProperty("pretokenizers")[0];
                    var byteLevel = sequence.GetProperty("pretokenizers")[1];
                    if (Type(split) == "Split" && split.GetProperty("behavior").GetString() == "Isolated" && Present(split, "invert") is not { ValueKind: JsonValueKind.True }
                        && Type(byteLevel) == "ByteLevel" && Present(byteLevel, "use_regex") is { ValueKind: JsonValueKind.False })
                    {
                        var pattern = Pattern(split, out var isRegex);
                        splitPattern = isRegex ? pattern : Regex.Escape(pattern);
                        preTokenizer = byteLevel;
                    }
                }

                if (preTokenizer is not { } pre || Type(pre) != "ByteLevel" || decoder is not { } dec || Type(dec) != "ByteLevel")
                {
                    throw new NotSupportedException($"a BPE model is read with the ByteLevel pre-tokenizer (alone, or after a Split) and the ByteLevel decoder (GPT-2's form); this one has {(preTokenizer is { } p ? Type(p) : "none")} and {(decoder is { } d ? Type(d) : "none")}");
                }

                if (Present(pre, "add_prefix_space") is { ValueKind: JsonValueKind.True })
                {
                    throw new NotSupportedException("add_prefix_space: true");
                }

                if (Present(model, "byte_fallback") is { ValueKind: JsonValueKind.True } || Present(model, "continuing_subword_prefix") is not null || Present(model, "end_of_word_suffix") is not null)
                {
                    throw new NotSupportedException("byte fallback or subword prefixes/suffixes in a BPE model");
                }

                var merges = new List<string>();
                foreach (var merge in model.GetProperty("merges").EnumerateArray())
                {
                    merges.Add(merge.ValueKind == JsonValueKind.Array
                        ? string.Join(" ", merge.EnumerateArray().Select(p => p.GetString()))
                        : merge.GetString()!);
                }

                var useRegex = Present(pre, "use_regex") is not { ValueKind: JsonValueKind.False };
                var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
                {
                    Merges = merges,
                    ByteLevel = true,
                    PreTokenizer = new RegexPreTokenizer(new Regex(splitPattern ?? (useRegex ? TokenizerPatterns.Gpt2 : @"[\s\S]+"), RegexOptions.CultureInvariant), null),
                });
                return new TokenizerJson(size, tokens, WithAddedTokens(addedTokens, text => normalize(text) is var n && n.Length == 0 ? Array.Empty<int>() : bpe.EncodeToIds(n).ToArray()), ids => bpe.Decode(ids));
            }

            default:
                throw new NotSupportedException($"the {modelType} model (this reader implements WordLevel and byte-level BPE)");
        }
    }

    /// <summary>The encoder with the added tokens cut out of the text first (longest first), the pieces between them encoded as usual.</summary>
    private static Func<string, int[]> WithAddedTokens(Dictionary<string, int> addedTokens, Func<string, int[]> encode)
    {
        if (addedTokens.Count == 0)
        {
            return encode;
        }

        var pattern = new Regex(string.Join("|", addedTokens.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)), RegexOptions.CultureInvariant);
        return text =>
        {
            var ids = new List<int>();
            var at = 0;
            foreach (Match m in pattern.Matches(text))
            {
                if (m.Index > at)
                {
                    ids.AddRange(encode(text[at..m.Index]));
                }

                ids.Add(addedTokens[m.Value]);
                at = m.Index + m.Length;
            }

            if (at < text.Length)
            {
                ids.AddRange(encode(text[at..]));
            }

            return ids.ToArray();
        };
    }

    private static JsonElement? Present(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string Type(JsonElement element) => element.GetProperty("type").GetString() ?? "?";

    private static string Pattern(JsonElement element, out bool regex)
    {
        var pattern = element.GetProperty("pattern");
        regex = pattern.TryGetProperty("Regex", out var r);
        return regex ? r.GetString()! : pattern.GetProperty("String").GetString()!;
    }

    private static Func<string, string> Normalizer(JsonElement? element)
    {
        if (element is not { } e)
        {
            return s => s;
        }

        switch (Type(e))
        {
            case "Sequence":
                var parts = e.GetProperty("normalizers").EnumerateArray().Select(n => Normalizer(n)).ToList();
                return s => parts.Aggregate(s, (text, f) => f(text));
            case "Replace":
                var from = Pattern(e, out var isRegex);
                var to = e.GetProperty("content").GetString()!;
                if (isRegex)
                {
                    var regex = new Regex(from, RegexOptions.CultureInvariant);
                    return s => regex.Replace(s, to.Replace("$", "$$", StringComparison.Ordinal));
                }

                return s => s.Replace(from, to, StringComparison.Ordinal);
            default:
                throw new NotSupportedException($"the {Type(e)} normalizer");
        }
    }

    private static Func<string, IEnumerable<string>> PreTokenizer(JsonElement? element)
    {
        if (element is not { } e)
        {
            return s => s.Length == 0 ? Array.Empty<string>() : new[] { s };
        }

        switch (Type(e))
        {
            case "WhitespaceSplit":
                return s => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            case "Split":
                if (e.GetProperty("behavior").GetString() != "Isolated" || Present(e, "invert") is { ValueKind: JsonValueKind.True })
                {
                    throw new NotSupportedException($"a Split pre-tokenizer with behavior {e.GetProperty("behavior").GetString()} (Isolated is read)");
                }

                var pattern = Pattern(e, out var isRegex);
                var regex = new Regex(isRegex ? pattern : Regex.Escape(pattern), RegexOptions.CultureInvariant);
                return s => Isolated(regex, s);
            case "Sequence":
                var parts = e.GetProperty("pretokenizers").EnumerateArray().Select(p => PreTokenizer(p)).ToList();
                return s => parts.Aggregate((IEnumerable<string>)new[] { s }, (words, f) => words.SelectMany(f));
            default:
                throw new NotSupportedException($"the {Type(e)} pre-tokenizer with a WordLevel model");
        }
    }

    private static IEnumerable<string> Isolated(Regex regex, string text)
    {
        var at = 0;
        foreach (Match m in regex.Matches(text))
        {
            if (m.Index > at)
            {
                yield return text[at..m.Index];
            }

            if (m.Length > 0)
            {
                yield return m.Value;
            }

            at = m.Index + m.Length;
        }

        if (at < text.Length)
        {
            yield return text[at..];
        }
    }

    private static Func<List<string>, string> Decoder(JsonElement? element)
    {
        if (element is not { } e)
        {
            return words => string.Join(" ", words);
        }

        var steps = Type(e) == "Sequence" ? e.GetProperty("decoders").EnumerateArray().ToList() : new List<JsonElement> { e };
        var maps = new List<Func<List<string>, List<string>>>();
        foreach (var step in steps)
        {
            switch (Type(step))
            {
                case "Replace":
                    var from = Pattern(step, out var isRegex);
                    if (isRegex)
                    {
                        throw new NotSupportedException("a Replace decoder with a regex");
                    }

                    var to = step.GetProperty("content").GetString()!;
                    maps.Add(words => words.Select(w => w.Replace(from, to, StringComparison.Ordinal)).ToList());
                    break;
                case "Fuse":
                    maps.Add(words => new List<string> { string.Concat(words) });
                    break;
                case "WordPiece":
                    if (Present(step, "cleanup") is { ValueKind: JsonValueKind.True })
                    {
                        throw new NotSupportedException("a WordPiece decoder with cleanup");
                    }

                    var prefix = step.GetProperty("prefix").GetString()!;
                    maps.Add(words =>
                    {
                        var text = new StringBuilder();
                        for (var i = 0; i < words.Count; i++)
                        {
                            var w = words[i];
                            if (i > 0 && !w.StartsWith(prefix, StringComparison.Ordinal))
                            {
                                text.Append(' ');
                            }

                            text.Append(i > 0 && w.StartsWith(prefix, StringComparison.Ordinal) ? w[prefix.Length..] : w);
                        }

                        return new List<string> { text.ToString() };
                    });
                    break;
                default:
                    throw new NotSupportedException($"the {Type(step)} decoder with a WordLevel model");
            }
        }

        return words => string.Concat(maps.Aggregate(words, (w, f) => f(w)));
    }
}
