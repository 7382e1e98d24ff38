using System;
using System.Collections.Generic;

namespace SlmGen.Inference;

/// <summary>
/// Turns generated ids into text pieces as they come: each piece is the text the new ids add after the previous one
/// (so word tokenizers get their spaces and byte-level tokenizers never split a character: ids that end inside a UTF-8
/// sequence are held back until it completes, or until <see cref="Flush"/>).
/// </summary>
public sealed class TextStream
{
    private readonly TokenizerJson tokenizer;
    private readonly List<int> pending = new();
    private int? anchor;

    /// <summary>A stream whose first piece continues after the id <paramref name="after"/> (the prompt's last), if any.</summary>
    public TextStream(TokenizerJson tokenizer, int? after = null)
    {
        this.tokenizer = tokenizer;
        anchor = after;
    }

    /// <summary>The text <paramref name="id"/> adds, possibly empty while a character is incomplete.</summary>
    public string Push(int id)
    {
        pending.Add(id);
        var piece = Piece();
        if (piece.EndsWith('\uFFFD') && pending.Count < 4)
        {
            return string.Empty;
        }

        anchor = pending[^1];
        pending.Clear();
        return piece;
    }

    /// <summary>Whatever is held back, as the tokenizer decodes it.</summary>
    public string Flush()
    {
        if (pending.Count == 0)
        {
            return string.Empty;
        }

        var piece = Piece();
        anchor = pending[^1];
        pending.Clear();
        return piece;
    }

    private string Piece()
    {
        if (anchor is not { } a)
        {
            return tokenizer.Decode(pending);
        }

        var before = tokenizer.Decode(new[] { a });
        var ids = new List<int>(pending.Count + 1) { a };
        ids.AddRange(pending);
        var both = tokenizer.Decode(ids);
        return both.StartsWith(before, StringComparison.Ordinal) ? both[before.Length..] : tokenizer.Decode(pending);
    }
}
