using System;
using System.Collections.Generic;
using System.Linq;

namespace SlmGen.Data;

/// <summary>
/// Whitespace-separated words. The vocabulary is every word of the training text in order of first
/// appearance, plus <c>&lt;eos&gt;</c> when lines end with one (the standard word-level setup).
/// </summary>
public sealed class WordTokenizer : ITokenizer
{
    /// <summary>The end-of-line token.</summary>
    public const string EndOfLine = "<eos>";

    /// <summary>The unknown-word token of PTB and WikiText-2.</summary>
    public const string Unknown = "<unk>";

    private readonly List<string> words = new();
    private readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);

    /// <summary>Builds the vocabulary from the training text.</summary>
    /// <param name="trainingText">The text whose words make the vocabulary.</param>
    /// <param name="endOfLine">Whether every line ends with <c>&lt;eos&gt;</c>.</param>
    public WordTokenizer(string trainingText, bool endOfLine)
    {
        EndOfLineTokens = endOfLine;
        foreach (var word in Split(trainingText, endOfLine))
        {
            if (!ids.ContainsKey(word))
            {
                ids[word] = words.Count;
                words.Add(word);
            }
        }
    }

    /// <summary>Whether lines end with <c>&lt;eos&gt;</c>.</summary>
    public bool EndOfLineTokens { get; }

    /// <inheritdoc />
    public int VocabSize => words.Count;

    /// <summary>The words by id.</summary>
    public IReadOnlyList<string> Words => words;

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        var unk = ids.TryGetValue(Unknown, out var u) ? u : -1;
        return Split(text, EndOfLineTokens).Select(w => ids.TryGetValue(w, out var id) ? id
            : unk >= 0 ? unk
            : throw new ArgumentException($"The word '{w}' is not in the vocabulary and there is no {Unknown} token.", nameof(text))).ToArray();
    }

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids)
    {
        // Words joined by single spaces; every <eos> a line break with no space beside it (leading and repeated ones too).
        var text = new System.Text.StringBuilder();
        var lineStart = true;
        foreach (var i in ids)
        {
            if (EndOfLineTokens && words[i] == EndOfLine)
            {
                text.Append('\n');
                lineStart = true;
                continue;
            }

            if (!lineStart)
            {
                text.Append(' ');
            }

            text.Append(words[i]);
            lineStart = false;
        }

        return text.ToString();
    }

    /// <summary>
    /// Splits text into words, with <c>&lt;eos&gt;</c> for every line end when asked (as PyTorch's word_language_model
    /// reads a file whose lines all end with a newline). Only a real newline makes <c>&lt;eos&gt;</c>: the words after
    /// the last one (a prompt, a text cut mid-line) get none, as the Hugging Face tokenizer file's normalizer
    /// (newline → <c> &lt;eos&gt; </c>) reads them.
    /// </summary>
    public static IEnumerable<string> Split(string text, bool endOfLine)
    {
        if (!endOfLine)
        {
            foreach (var w in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                yield return w;
            }

            yield break;
        }

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            foreach (var w in lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                yield return w;
            }

            if (i < lines.Length - 1)
            {
                yield return EndOfLine;
            }
        }
    }
}
