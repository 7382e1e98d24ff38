using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace SlmGen.Data.Tokenizers;

/// <summary>
/// GPT-2's byte-level conventions, shared by SlmGen's BPE trainer and the tokenizers that load its files
/// (Microsoft.ML.Tokenizers' CodeGenTokenizer, Hugging Face's ByteLevel BPE): the pre-tokenization pattern, and
/// the map of the 256 byte values to printable characters in which vocab.json and merges.txt spell tokens.
/// </summary>
public static partial class ByteLevel
{
    /// <summary>GPT-2's pre-tokenization: contractions, letters, digits and other runs, each with one leading space; whitespace.</summary>
    [GeneratedRegex(TokenizerPatterns.Gpt2, RegexOptions.CultureInvariant)]
    public static partial Regex PreTokenizer();

    private static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>The printable character that stands for <paramref name="b"/> (GPT-2's bytes_to_unicode).</summary>
    public static char Char(byte b) => ByteToChar[b];

    /// <summary>A piece of text as the byte-level characters of its UTF-8 bytes.</summary>
    public static string Spell(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }

        return new string(chars);
    }

    /// <summary>The pre-tokenized words of a text.</summary>
    public static IEnumerable<string> Words(string text)
    {
        foreach (Match m in PreTokenizer().Matches(text))
        {
            yield return m.Value;
        }
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }
}
