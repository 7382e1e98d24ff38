using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.IO;

namespace SlmGen.Data;

/// <summary>How Tiny Shakespeare is split.</summary>
public enum CharSplit
{
    /// <summary>
    /// The study's 80/10/10: cut at the last blank line before 80% and 90% of the text, dropping the
    /// newline at each cut (892,117 / 111,669 / 111,606 characters).
    /// </summary>
    Study,
    /// <summary>nanoGPT's 90/10 (1,003,854 / 111,540 characters); the test split is the validation split.</summary>
    NanoGpt,
}

/// <summary>Which word vocabulary to build.</summary>
public enum WordVocabulary
{
    /// <summary>The study's: a whitespace split of the training text, no end-of-line token (PTB 9,999, WikiText-2 33,277 types).</summary>
    StudyWhitespace,
    /// <summary>The standard one: an &lt;eos&gt; token after every line (PTB 10,000, WikiText-2 33,278 types).</summary>
    StandardEndOfLine,
}

/// <summary>Loaders of the data sets in data/.</summary>
public static class Corpora
{
    /// <summary>Tiny Shakespeare as characters; the vocabulary is the 65 characters of the whole text.</summary>
    public static TokenDataset TinyShakespeare(CharSplit split = CharSplit.Study, string? dataRoot = null)
    {
        var text = DataFiles.ReadVerified("tinyshakespeare/input.txt", dataRoot);
        var tokenizer = new CharTokenizer(text);
        var (train, validation, test) = ShakespeareSplits(text, split);
        return new TokenDataset("tinyshakespeare-" + split.ToString().ToLowerInvariant(), tokenizer, tokenizer.Encode(train), tokenizer.Encode(validation), tokenizer.Encode(test));
    }

    /// <summary>
    /// The corpora by name (the repository's data/ folder, or SLMGEN_DATA): "shakespeare-char" (nanoGPT's 90/10; test =
    /// validation; also "shakespeare"), "shakespeare-study" (the study's 80/10/10 at paragraph breaks), "ptb" and
    /// "wikitext2" (words with an end-of-line token: 10,000 and 33,278 types), "ptb-study" and "wikitext2-study" (the
    /// study's whitespace words without it: 9,999 and 33,277, as specs/study's word models declare).
    /// </summary>
    public static readonly IReadOnlyList<string> Names = new[] { "shakespeare-char", "shakespeare", "shakespeare-study", "ptb", "wikitext2", "ptb-study", "wikitext2-study" };

    /// <summary>The names a user is shown, with what each reads, for help text: "shakespeare-char, shakespeare-study, ptb, …".</summary>
    public const string Described = "shakespeare-char, shakespeare-study, ptb, wikitext2 (words with an end-of-line token), ptb-study, wikitext2-study (the study's words without it)";

    /// <summary>The names a user is shown (without the alias "shakespeare"), comma-separated.</summary>
    public static string NameList => string.Join(", ", Names.Where(n => n != "shakespeare"));

    /// <summary>The raw text of a corpus's splits (<see cref="Names"/>; a "-study" word corpus is its corpus's text).</summary>
    public static (string Train, string Validation, string Test) Text(string corpus, string? dataRoot = null) => corpus switch
    {
        "shakespeare-char" or "shakespeare" => ShakespeareSplits(DataFiles.ReadVerified("tinyshakespeare/input.txt", dataRoot), CharSplit.NanoGpt),
        "shakespeare-study" => ShakespeareSplits(DataFiles.ReadVerified("tinyshakespeare/input.txt", dataRoot), CharSplit.Study),
        "ptb" or "ptb-study" => (DataFiles.ReadVerified("ptb/train.txt", dataRoot), DataFiles.ReadVerified("ptb/valid.txt", dataRoot), DataFiles.ReadVerified("ptb/test.txt", dataRoot)),
        "wikitext2" or "wikitext2-study" => (DataFiles.ReadVerified("wikitext-2/train.txt", dataRoot), DataFiles.ReadVerified("wikitext-2/valid.txt", dataRoot), DataFiles.ReadVerified("wikitext-2/test.txt", dataRoot)),
        _ => throw new ArgumentException($"Unknown corpus '{corpus}': {NameList}."),
    };

    /// <summary>
    /// A corpus's splits encoded by any tokenizer (<see cref="Tokenizers.TokenizerSpec"/>), cached on disk: the cache
    /// file carries the SHA-256 of the text and of the tokenizer and is re-made when either differs.
    /// </summary>
    public static TokenDataset Load(string corpus, Tokenizers.TokenizerSpec tokenizer, string? dataRoot = null) =>
        Tokenizers.TokenCache.Load(corpus, tokenizer, Text(corpus, dataRoot));

    private static (string Train, string Validation, string Test) ShakespeareSplits(string text, CharSplit split)
    {
        if (split == CharSplit.Study)
        {
            var a = text.LastIndexOf("\n\n", (int)(0.8 * text.Length) - 1, StringComparison.Ordinal);
            var b = text.LastIndexOf("\n\n", (int)(0.9 * text.Length) - 1, StringComparison.Ordinal);
            return (text[..(a + 1)], text[(a + 2)..(b + 1)], text[(b + 2)..]);
        }

        var n = (int)(0.9 * text.Length);
        return (text[..n], text[n..], text[n..]);
    }

    /// <summary>
    /// Any UTF-8 text file as a character-level data set: the vocabulary is its characters, the first 90% is
    /// training text and the rest validation (also used as test), as nanoGPT splits Tiny Shakespeare.
    /// </summary>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The text is too short to split.</exception>
    public static TokenDataset FromTextFile(string path)
    {
        var (train, validation, _) = TextFile(path);
        var tokenizer = new CharTokenizer(train, validation);
        var encoded = tokenizer.Encode(validation);
        return new TokenDataset(System.IO.Path.GetFileName(path), tokenizer, tokenizer.Encode(train), encoded, encoded);
    }

    /// <summary>A UTF-8 text file's splits: the first 90% trains, the rest validates and is also the test split.</summary>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The text is too short to split.</exception>
    public static (string Train, string Validation, string Test) TextFile(string path)
    {
        var text = InputFile.ReadAllText(path, "data", InputFile.TextLimit);
        if (text.Length < 20)
        {
            throw new ArgumentException($"{path} has {text.Length} characters; a data set needs more text than that.");
        }

        var n = (int)(0.9 * text.Length);
        return (text[..n], text[n..], text[n..]);
    }

    /// <summary>
    /// A data set by name with the corpus's own tokenizer (<see cref="Names"/>: "ptb" and "wikitext2" are words with
    /// &lt;eos&gt;, their "-study" names the study's words without it) or a UTF-8 text file (characters).
    /// </summary>
    /// <exception cref="ArgumentException">Neither a corpus nor a file.</exception>
    public static TokenDataset Named(string name) => name switch
    {
        "shakespeare-char" or "shakespeare" => TinyShakespeare(CharSplit.NanoGpt),
        "shakespeare-study" => TinyShakespeare(CharSplit.Study),
        "ptb" => PennTreebank(),
        "wikitext2" => WikiText2(),
        "ptb-study" => PennTreebank(WordVocabulary.StudyWhitespace),
        "wikitext2-study" => WikiText2(WordVocabulary.StudyWhitespace),
        _ when System.IO.File.Exists(name) => FromTextFile(name),
        _ => throw new ArgumentException($"'{name}' is neither a file nor one of {NameList} (those read the repository's data/ folder, or SLMGEN_DATA)."),
    };

    /// <summary>Penn Treebank (Mikolov's word-level version).</summary>
    public static TokenDataset PennTreebank(WordVocabulary vocabulary = WordVocabulary.StandardEndOfLine, string? dataRoot = null) =>
        Words("ptb", vocabulary, dataRoot);

    /// <summary>WikiText-2 (v1, tokenised).</summary>
    public static TokenDataset WikiText2(WordVocabulary vocabulary = WordVocabulary.StandardEndOfLine, string? dataRoot = null) =>
        Words("wikitext-2", vocabulary, dataRoot);

    private static TokenDataset Words(string folder, WordVocabulary vocabulary, string? dataRoot)
    {
        var train = DataFiles.ReadVerified(folder + "/train.txt", dataRoot);
        var valid = DataFiles.ReadVerified(folder + "/valid.txt", dataRoot);
        var test = DataFiles.ReadVerified(folder + "/test.txt", dataRoot);
        var tokenizer = new WordTokenizer(train, endOfLine: vocabulary == WordVocabulary.StandardEndOfLine);
        var name = folder + (vocabulary == WordVocabulary.StudyWhitespace ? "-whitespace" : "-eos");
        return new TokenDataset(name, tokenizer, tokenizer.Encode(train), tokenizer.Encode(valid), tokenizer.Encode(test));
    }
}
