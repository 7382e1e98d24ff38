using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace SlmGen.Data.Tokenizers;

/// <summary>
/// Trains a byte-level BPE vocabulary (GPT-2's scheme) on a text: the text is pre-tokenized with GPT-2's pattern
/// (<see cref="ByteLevel.PreTokenizer"/>), every word starts as its UTF-8 bytes, and the most frequent adjacent pair
/// (over all words, weighted by their counts; ties broken by the smaller ids) is merged into a new token until the
/// vocabulary has the size asked for or no pair occurs twice. The result is written as GPT-2's files — vocab.json
/// and merges.txt — which Microsoft.ML.Tokenizers (<see cref="BpeTextTokenizer"/>) and Hugging Face tokenizers load
/// and encode with; SlmGen trains, the standard implementations tokenize.
/// Microsoft.ML.Tokenizers 2.0 loads BPE files but no longer trains them, hence this trainer.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The 256 byte values: every vocabulary starts with them.</summary>
    public const int ByteTokens = 256;

    /// <summary>GPT-2's end-of-text token, the last id of every vocabulary (the loaders expect it; SlmGen's corpora do not use it).</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>The smallest vocabulary: the bytes and the end-of-text token (no merges; <see cref="ByteTokenizer"/> is the bytes alone).</summary>
    public const int MinVocabulary = ByteTokens + 1;

    /// <summary>The largest vocabulary this trainer makes.</summary>
    public const int MaxVocabulary = 1 << 20;

    /// <summary>The merges learned: the token strings (byte-level spelling) by id, and the merged pairs in order.</summary>
    public sealed record Result(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges)
    {
        /// <summary>Vocabulary size.</summary>
        public int VocabSize => Tokens.Count;
    }

    /// <summary>Learns a vocabulary of <paramref name="vocabSize"/> tokens (fewer when the text runs out of repeated pairs).</summary>
    public static Result Train(string text, int vocabSize)
    {
        if (vocabSize < MinVocabulary || vocabSize > MaxVocabulary)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"A byte-level BPE vocabulary has from {MinVocabulary} (the bytes and {EndOfText}) to {MaxVocabulary:N0} tokens.");
        }

        // Words and their counts.
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var word in ByteLevel.Words(text))
        {
            counts[word] = counts.GetValueOrDefault(word) + 1;
        }

        var words = new List<int[]>(counts.Count);
        var freq = new List<long>(counts.Count);
        foreach (var (word, count) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            words.Add(Encoding.UTF8.GetBytes(word).Select(b => (int)b).ToArray());
            freq.Add(count);
        }

        var tokens = Enumerable.Range(0, ByteTokens).Select(b => ByteLevel.Char((byte)b).ToString()).ToList();
        var ids = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var merges = new List<(string, string)>();
        var pairCount = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        var queue = new PriorityQueue<long, (long NegCount, long Key)>();

        void Add(long key, int w, long by)
        {
            var c = pairCount.GetValueOrDefault(key) + by;
            pairCount[key] = c;
            if (by > 0)
            {
                if (!pairWords.TryGetValue(key, out var set))
                {
                    pairWords[key] = set = new HashSet<int>();
                }

                set.Add(w);
            }

            if (c > 0)
            {
                queue.Enqueue(key, (-c, key));
            }
        }

        for (var w = 0; w < words.Count; w++)
        {
            var s = words[w];
            for (var i = 0; i + 1 < s.Length; i++)
            {
                Add(Key(s[i], s[i + 1]), w, freq[w]);
            }
        }

        while (tokens.Count < vocabSize - 1 && queue.TryDequeue(out var best, out var priority))
        {
            if (pairCount.GetValueOrDefault(best) != -priority.NegCount)
            {
                continue; // a stale entry: the pair's count changed since it was queued
            }

            if (-priority.NegCount < 2)
            {
                break; // nothing repeats any more
            }

            var (a, b) = ((int)(best >> 32), (int)(best & 0xFFFFFFFF));
            // Two merge paths can spell the same token ("a"+"bc", "ab"+"c"): it keeps its first id.
            var spelled = tokens[a] + tokens[b];
            if (!ids.TryGetValue(spelled, out var merged))
            {
                merged = tokens.Count;
                tokens.Add(spelled);
                ids[spelled] = merged;
            }

            merges.Add((tokens[a], tokens[b]));
            foreach (var w in pairWords[best].ToArray())
            {
                var old = words[w];
                for (var i = 0; i + 1 < old.Length; i++)
                {
                    var key = Key(old[i], old[i + 1]);
                    pairCount[key] -= freq[w];
                    pairWords[key].Remove(w);
                }

                var next = new List<int>(old.Length);
                for (var i = 0; i < old.Length; i++)
                {
                    if (i + 1 < old.Length && old[i] == a && old[i + 1] == b)
                    {
                        next.Add(merged);
                        i++;
                    }
                    else
                    {
                        next.Add(old[i]);
                    }
                }

                var updated = next.ToArray();
                words[w] = updated;
                var seen = new HashSet<long>();
                for (var i = 0; i + 1 < old.Length; i++)
                {
                    var key = Key(old[i], old[i + 1]);
                    if (seen.Add(key) && pairCount[key] > 0)
                    {
                        queue.Enqueue(key, (-pairCount[key], key)); // the lower count of a pair this word lost
                    }
                }

                for (var i = 0; i + 1 < updated.Length; i++)
                {
                    Add(Key(updated[i], updated[i + 1]), w, freq[w]);
                }
            }

            pairCount.Remove(best);
            pairWords.Remove(best);
        }

        tokens.Add(EndOfText);
        return new Result(tokens, merges);
    }

    /// <summary>Writes vocab.json (token → id, in id order) and merges.txt (GPT-2's format) into <paramref name="directory"/>.</summary>
    public static void Save(Result result, string directory)
    {
        Directory.CreateDirectory(directory);
        using (var stream = File.Create(Path.Combine(directory, "vocab.json")))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            for (var i = 0; i < result.Tokens.Count; i++)
            {
                w.WriteNumber(result.Tokens[i], i);
            }

            w.WriteEndObject();
        }

        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in result.Merges)
        {
            merges.Append(left).Append(' ').Append(right).Append('\n');
        }

        File.WriteAllText(Path.Combine(directory, "merges.txt"), merges.ToString(), new UTF8Encoding(false));
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;
}
