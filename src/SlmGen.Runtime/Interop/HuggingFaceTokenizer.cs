using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;
using SlmGen.Training;
using SlmGen.IO;

namespace SlmGen.Interop;

/// <summary>The special ids a Hugging Face config names (null where the tokenizer has no such token).</summary>
/// <param name="Bos">Beginning of text.</param>
/// <param name="Eos">End of text.</param>
public sealed record SpecialTokens(int? Bos, int? Eos);

/// <summary>
/// A model's tokenizer in Hugging Face's form, so that <c>AutoTokenizer.from_pretrained(folder)</c> turns text into the
/// ids SlmGen trained on and back: <c>tokenizer.json</c> (the <c>tokenizers</c> library's format) and
/// <c>tokenizer_config.json</c>, plus GPT-2's <c>vocab.json</c> / <c>merges.txt</c> for a byte-level BPE.
/// <list type="bullet">
/// <item>characters: a word-level model whose words are single characters (each character split off), joined back without spaces;</item>
/// <item>bytes: a byte-level BPE without merges (id = byte value), GPT-2's byte-to-character table;</item>
/// <item>words (PTB, WikiText-2): a word-level model over whitespace-separated words, new lines as <c>&lt;eos&gt;</c>, unknown words as <c>&lt;unk&gt;</c>;</item>
/// <item>a BPE folder (SlmGen's trainer, GPT-2's files): the same vocabulary and merges, GPT-2's byte-level pre-tokenisation without a prefix space.</item>
/// </list>
/// <item>GPT-2's and cl100k's tiktoken encodings: a byte-level BPE whose vocabulary is the tiktoken ranks and whose merges
/// are rebuilt from them (each token's last merge: its bytes merged by rank with the tokens ranked before it), the
/// special tokens as added tokens; cl100k's own pre-tokenization pattern as a Split before the byte-level step.</item>
/// An artifact does not embed the tiktoken forms (<see cref="Json"/>: they are public and 2–5 MB); the Hugging Face and
/// ONNX folders get them (<see cref="Write"/>).
/// </summary>
public static class HuggingFaceTokenizer
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The tokenizer as one compact Hugging Face tokenizer.json (what an artifact embeds), or null: GPT-2's and cl100k's (public, not embedded) and tokenizers with no Hugging Face form.</summary>
    public static string? Json(ITokenizer tokenizer) => tokenizer switch
    {
        CharTokenizer or ByteTokenizer or WordTokenizer or BpeTextTokenizer => Document(tokenizer).ToJsonString(),
        _ => null, // GPT-2's and cl100k's are public (and 2–5 MB): artifacts do not embed them
    };

    /// <summary>The tokenizer.json that <see cref="Write"/> writes for <paramref name="tokenizer"/> (the tiktoken forms included).</summary>
    /// <exception cref="NotSupportedException">A tokenizer with no Hugging Face form.</exception>
    public static JsonObject Document(ITokenizer tokenizer)
    {
        var dir = Directory.CreateTempSubdirectory("slmgen-tokenizer-");
        try
        {
            Write(tokenizer, dir.FullName, 0);
            return JsonNode.Parse(File.ReadAllText(Path.Combine(dir.FullName, "tokenizer.json")))!.AsObject();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Writes the tokenizer's files into <paramref name="directory"/>; returns its special ids, or throws <see cref="NotSupportedException"/> with the reason.</summary>
    public static SpecialTokens Write(ITokenizer tokenizer, string directory, int contextLength)
    {
        Directory.CreateDirectory(directory);
        var (tokenizerJson, special, className) = tokenizer switch
        {
            CharTokenizer chars => (Characters(chars), new SpecialTokens(null, null), "PreTrainedTokenizerFast"),
            ByteTokenizer => (Bytes(), new SpecialTokens(null, null), "PreTrainedTokenizerFast"),
            WordTokenizer words => (Words(words), new SpecialTokens(null, words.EndOfLineTokens ? Id(words.Words, WordTokenizer.EndOfLine) : null), "PreTrainedTokenizerFast"),
            BpeTextTokenizer bpe => (Bpe(bpe, directory), BpeSpecial(bpe), "GPT2TokenizerFast"),
            TiktokenTextTokenizer tiktoken => (Tiktoken(tiktoken), TiktokenSpecial(tiktoken), "PreTrainedTokenizerFast"),
            _ => throw new NotSupportedException($"the tokenizer {tokenizer.GetType().Name} has no Hugging Face form written by SlmGen (GPT-2's and cl100k's are Hugging Face's own public tokenizers)"),
        };

        AtomicFile.Write(Path.Combine(directory, "tokenizer.json"), s => JsonSerializer.Serialize(s, tokenizerJson, Indented));
        var config = new JsonObject
        {
            ["tokenizer_class"] = className,
            ["model_max_length"] = contextLength,
            ["clean_up_tokenization_spaces"] = false,
            ["add_prefix_space"] = false,
        };
        string? Text(int? id) => id is { } i ? TokenText(tokenizerJson, i) : null;
        if (Text(special.Eos) is { } eos)
        {
            config["eos_token"] = eos;
        }

        if (Text(special.Bos) is { } bos)
        {
            config["bos_token"] = bos;
        }

        if (tokenizer is WordTokenizer w && w.Words.Contains(WordTokenizer.Unknown))
        {
            config["unk_token"] = WordTokenizer.Unknown;
        }

        AtomicFile.Write(Path.Combine(directory, "tokenizer_config.json"), s => JsonSerializer.Serialize(s, config, Indented));
        return special;
    }

    private static int? Id(System.Collections.Generic.IReadOnlyList<string> words, string word)
    {
        for (var i = 0; i < words.Count; i++)
        {
            if (words[i] == word)
            {
                return i;
            }
        }

        return null;
    }

    private static string? TokenText(JsonObject tokenizerJson, int id) =>
        tokenizerJson["model"]!["vocab"]!.AsObject().FirstOrDefault(kv => kv.Value!.GetValue<int>() == id).Key;

    private static JsonObject Shell(JsonNode? normalizer, JsonNode preTokenizer, JsonNode? decoder, JsonObject model) => new()
    {
        ["version"] = "1.0",
        ["truncation"] = null,
        ["padding"] = null,
        ["added_tokens"] = new JsonArray(),
        ["normalizer"] = normalizer,
        ["pre_tokenizer"] = preTokenizer,
        ["post_processor"] = null,
        ["decoder"] = decoder,
        ["model"] = model,
    };

    private static JsonObject Characters(CharTokenizer chars)
    {
        var vocab = new JsonObject();
        for (var i = 0; i < chars.Characters.Count; i++)
        {
            vocab[chars.Characters[i].ToString()] = i;
        }

        // Every character is its own word ("[\s\S]": any character, new lines included); decoding fuses them back.
        return Shell(
            null,
            new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"[\s\S]" }, ["behavior"] = "Isolated", ["invert"] = false },
            new JsonObject { ["type"] = "Fuse" },
            new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = "<unk>" });
    }

    private static JsonObject Bytes()
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
        {
            vocab[ByteLevel.Char((byte)b).ToString()] = b;
        }

        return Shell(null, ByteLevelPreTokenizer(useRegex: false), ByteLevelDecoder(), BpeModel(vocab, new JsonArray()));
    }

    private static JsonObject Words(WordTokenizer words)
    {
        var vocab = new JsonObject();
        for (var i = 0; i < words.Words.Count; i++)
        {
            vocab[words.Words[i]] = i;
        }

        // A new line is the word <eos> (PyTorch's word_language_model reading); words are split at whitespace and joined by spaces.
        JsonNode? normalizer = words.EndOfLineTokens
            ? new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "\n" }, ["content"] = " " + WordTokenizer.EndOfLine + " " }
            : null;
        // Decoding: <eos> becomes a newline and words are joined by spaces (WordPiece's join, with a prefix no word
        // has), so a line break reads " \n " where SlmGen's own Decode writes "\n"; scripts/gpu/hf_tokenizer_files.py
        // compares the two with the spaces around line breaks removed.
        JsonNode decoder = words.EndOfLineTokens
            ? new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = WordTokenizer.EndOfLine }, ["content"] = "\n" },
                    WordJoin()),
            }
            : WordJoin();
        return Shell(normalizer, new JsonObject { ["type"] = "WhitespaceSplit" }, decoder,
            new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = WordTokenizer.Unknown });
    }

    /// <summary>Joins tokens with single spaces: WordPiece's decoder with a continuation prefix that no whitespace-split word starts with.</summary>
    private static JsonObject WordJoin() => new() { ["type"] = "WordPiece", ["prefix"] = "\u0000", ["cleanup"] = false };

    private static JsonObject Bpe(BpeTextTokenizer bpe, string directory)
    {
        var vocabPath = Path.Combine(bpe.Directory, "vocab.json");
        var mergesPath = Path.Combine(bpe.Directory, "merges.txt");
        var vocab = JsonNode.Parse(InputFile.ReadAllText(vocabPath, "tokenizer vocabulary", InputFile.TokenizerLimit))!.AsObject();
        var merges = new JsonArray();
        foreach (var line in InputFile.ReadAllText(mergesPath, "tokenizer merges", InputFile.TokenizerLimit).Split('\n'))
        {
            if (line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            {
                merges.Add(line.TrimEnd('\r'));
            }
        }

        // GPT2TokenizerFast also reads the slow files: copy them beside tokenizer.json.
        File.Copy(vocabPath, Path.Combine(directory, "vocab.json"), overwrite: true);
        File.Copy(mergesPath, Path.Combine(directory, "merges.txt"), overwrite: true);
        return Shell(null, ByteLevelPreTokenizer(useRegex: true), ByteLevelDecoder(), BpeModel(vocab.DeepClone().AsObject(), merges));
    }

    private static SpecialTokens BpeSpecial(BpeTextTokenizer bpe)
    {
        var vocab = JsonNode.Parse(InputFile.ReadAllText(Path.Combine(bpe.Directory, "vocab.json"), "tokenizer vocabulary", InputFile.TokenizerLimit))!.AsObject();
        int? end = vocab.TryGetPropertyValue(BpeTrainer.EndOfText, out var id) && id is not null ? id.GetValue<int>() : null;
        return new SpecialTokens(end, end);
    }

    /// <summary>The tiktoken encoding as a byte-level BPE: the ranks as the vocabulary, the merges rebuilt, the special tokens added.</summary>
    private static JsonObject Tiktoken(TiktokenTextTokenizer tiktoken)
    {
        var byRank = tiktoken.Ranks().OrderBy(r => r.Rank).ToList();
        var ranks = byRank.ToDictionary(r => Convert.ToBase64String(r.Bytes), r => r.Rank);
        var vocab = new JsonObject();
        var merges = new JsonArray();
        foreach (var (bytes, rank) in byRank)
        {
            vocab[Spell(bytes)] = rank;
            if (bytes.Length < 2)
            {
                continue;
            }

            // The token's bytes merged as tiktoken merges them, by lowest rank, with only the tokens ranked before it:
            // the two parts left are its merge.
            var parts = bytes.Select(b => new[] { b }).ToList();
            while (parts.Count > 2)
            {
                var best = -1;
                var bestRank = int.MaxValue;
                for (var i = 0; i + 1 < parts.Count; i++)
                {
                    if (ranks.TryGetValue(Convert.ToBase64String(parts[i].Concat(parts[i + 1]).ToArray()), out var r) && r < rank && r < bestRank)
                    {
                        (best, bestRank) = (i, r);
                    }
                }

                if (best < 0)
                {
                    break;
                }

                parts[best] = parts[best].Concat(parts[best + 1]).ToArray();
                parts.RemoveAt(best + 1);
            }

            if (parts.Count == 2)
            {
                merges.Add(Spell(parts[0]) + " " + Spell(parts[1]));
            }
        }

        var shell = tiktoken.Name == "gpt2"
            ? Shell(null, ByteLevelPreTokenizer(useRegex: true), ByteLevelDecoder(), BpeModel(vocab, merges))
            : Shell(null, new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = tiktoken.Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    ByteLevelPreTokenizer(useRegex: false)),
            }, ByteLevelDecoder(), BpeModel(vocab, merges));
        var added = shell["added_tokens"]!.AsArray();
        foreach (var (text, id) in tiktoken.Special.OrderBy(s => s.Value))
        {
            added.Add(new JsonObject { ["id"] = id, ["content"] = text, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        }

        return shell;
    }

    private static SpecialTokens TiktokenSpecial(TiktokenTextTokenizer tiktoken) =>
        tiktoken.Special.TryGetValue("<|endoftext|>", out var end) ? new SpecialTokens(end, end) : new SpecialTokens(null, null);

    private static string Spell(byte[] bytes) => new(bytes.Select(ByteLevel.Char).ToArray());

    private static JsonObject BpeModel(JsonObject vocab, JsonArray merges) => new()
    {
        ["type"] = "BPE",
        ["dropout"] = null,
        ["unk_token"] = null,
        ["continuing_subword_prefix"] = null,
        ["end_of_word_suffix"] = null,
        ["fuse_unk"] = false,
        ["byte_fallback"] = false,
        ["vocab"] = vocab,
        ["merges"] = merges,
    };

    private static JsonObject ByteLevelPreTokenizer(bool useRegex) => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = useRegex };

    private static JsonObject ByteLevelDecoder() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
}
