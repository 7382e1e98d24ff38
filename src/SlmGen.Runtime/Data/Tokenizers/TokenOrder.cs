using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using SlmGen.IO;

namespace SlmGen.Data.Tokenizers;

/// <summary>How <see cref="TokenOrder"/> numbers a tokenizer's ids.</summary>
public enum TokenOrdering
{
    /// <summary>The most frequent token on a text first; ties, and tokens the text never uses, in their old order.</summary>
    Frequency,

    /// <summary>The 256 bytes in byte order, then each merge's result in merge order (how the trainer numbers them), then the rest in their old order.</summary>
    Merges,
}

/// <summary>
/// Renumbers a byte-level BPE tokenizer's ids without changing what it encodes: the same merges, the same tokens, a
/// permutation of their ids. A grouped LM head cuts the vocabulary into runs of consecutive ids, so the order decides
/// its groups — frequency order puts tokens of like frequency in one group (Goodman's classes; Joulin et al.'s adaptive
/// softmax), merge order puts a merge's parts before it (Vennam et al.'s grouping).
/// </summary>
public static class TokenOrder
{
    /// <summary>The result: each old id's new id, and each new id's count on the text (0 for merge order).</summary>
    /// <param name="NewId">NewId[old] = new.</param>
    /// <param name="Counts">Counts[new]: occurrences on the text the order was measured on.</param>
    public sealed record Renumbering(int[] NewId, long[] Counts);

    /// <summary>
    /// Writes <paramref name="outDir"/>: vocab.json with the new ids, merges.txt unchanged, and order.json (the
    /// ordering, the source tokenizer's name and hash, the text, and the counts by new id).
    /// </summary>
    /// <exception cref="ArgumentException">The output folder is the source folder.</exception>
    public static Renumbering Write(BpeTextTokenizer source, TokenOrdering ordering, string text, string textName, string outDir)
    {
        if (string.Equals(Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar), source.Directory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new ArgumentException($"{outDir} is the tokenizer's own folder: write the renumbered tokenizer to another.", nameof(outDir));
        }

        var byId = ReadVocabulary(source.Directory);
        var mergesText = InputFile.ReadAllText(Path.Combine(source.Directory, "merges.txt"), "tokenizer merges", InputFile.TokenizerLimit);
        var counts = new long[byId.Length];
        if (ordering == TokenOrdering.Frequency)
        {
            foreach (var id in source.Encode(text))
            {
                counts[id]++;
            }
        }

        var order = ordering == TokenOrdering.Frequency
            ? Enumerable.Range(0, byId.Length).OrderByDescending(id => counts[id]).ThenBy(id => id).ToArray()
            : MergeOrder(byId, mergesText);
        var newId = new int[byId.Length];
        for (var rank = 0; rank < order.Length; rank++)
        {
            newId[order[rank]] = rank;
        }

        Directory.CreateDirectory(outDir);
        AtomicFile.Write(Path.Combine(outDir, "vocab.json"), stream =>
        {
            using var w = new Utf8JsonWriter(stream);
            w.WriteStartObject();
            foreach (var old in order)
            {
                w.WriteNumber(byId[old], newId[old]);
            }

            w.WriteEndObject();
        });
        File.WriteAllText(Path.Combine(outDir, "merges.txt"), mergesText, new UTF8Encoding(false));
        var newCounts = order.Select(old => counts[old]).ToArray();
        AtomicFile.Write(Path.Combine(outDir, "order.json"), stream => JsonSerializer.Serialize(stream, new
        {
            ordered_by = ordering == TokenOrdering.Frequency ? "frequency" : "merges",
            source = source.Name,
            source_sha256 = source.Sha256,
            text = ordering == TokenOrdering.Frequency ? textName : null,
            tokens = ordering == TokenOrdering.Frequency ? newCounts.Sum() : 0,
            counts = ordering == TokenOrdering.Frequency ? newCounts : null,
        }, new JsonSerializerOptions { WriteIndented = false, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
        return new Renumbering(newId, newCounts);
    }

    /// <summary>The tokens by id, from a folder's vocab.json; ids must be 0 … n−1, each once.</summary>
    /// <exception cref="InvalidDataException">The file is not such a map.</exception>
    public static string[] ReadVocabulary(string directory)
    {
        var path = Path.Combine(directory, "vocab.json");
        Dictionary<string, int>? map;
        try
        {
            map = JsonSerializer.Deserialize<Dictionary<string, int>>(InputFile.ReadAllText(path, "tokenizer vocabulary", InputFile.TokenizerLimit));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a token → id map: {e.Message}", e);
        }

        if (map is null || map.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no tokens.");
        }

        var byId = new string?[map.Count];
        foreach (var (token, id) in map)
        {
            if (id < 0 || id >= byId.Length || byId[id] is not null)
            {
                throw new InvalidDataException($"{path}: the ids are not 0 … {byId.Length - 1} each once (id {id} of '{token}').");
            }

            byId[id] = token;
        }

        return byId!;
    }

    private static int[] MergeOrder(string[] byId, string mergesText)
    {
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < byId.Length; i++)
        {
            idOf[byId[i]] = i;
        }

        var order = new List<int>(byId.Length);
        var placed = new bool[byId.Length];
        void Place(string token)
        {
            if (idOf.TryGetValue(token, out var id) && !placed[id])
            {
                placed[id] = true;
                order.Add(id);
            }
        }

        for (var b = 0; b < 256; b++)
        {
            Place(ByteLevel.Char((byte)b).ToString());
        }

        foreach (var line in mergesText.Split('\n'))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0)
            {
                continue;
            }

            var space = line.IndexOf(' ');
            if (space > 0)
            {
                Place(string.Concat(line.AsSpan(0, space), line.AsSpan(space + 1).TrimEnd('\r')));
            }
        }

        for (var id = 0; id < byId.Length; id++)
        {
            if (!placed[id])
            {
                order.Add(id);
            }
        }

        return order.ToArray();
    }
}
