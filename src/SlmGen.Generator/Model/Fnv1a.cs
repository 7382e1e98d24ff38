using System.Globalization;
using System.Text;

namespace SlmGen.Generator.Model;

/// <summary>64-bit FNV-1a over a string's UTF-8 bytes, as 16 hex digits: fingerprints and hint names.</summary>
internal static class Fnv1a
{
    public static string Hex(string text)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offset;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = unchecked((hash ^ b) * prime);
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}
