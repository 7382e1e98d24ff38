using System;
using System.Globalization;
using System.Text;

namespace SlmGen.Generator.Emit;

/// <summary>C# literals.</summary>
internal static class Literals
{
    /// <summary>A long with digit separators: 10_770_816L.</summary>
    public static string Long(long value)
    {
        var digits = Math.Abs(value).ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        for (var i = 0; i < digits.Length; i++)
        {
            if (i > 0 && (digits.Length - i) % 3 == 0)
            {
                sb.Append('_');
            }

            sb.Append(digits[i]);
        }

        return (value < 0 ? "-" : string.Empty) + sb + "L";
    }

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Double(double value)
    {
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains(".") || s.Contains("E") ? s : s + ".0";
    }

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>A regular string literal.</summary>
    public static string String(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ' || c > '~')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Text made safe for a // comment: no line breaks of any kind (CR, LF, NEL, U+2028, U+2029) and no other control characters.</summary>
    public static string Comment(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(c < ' ' || c == '\u007f' || c == '\u0085' || c == '\u2028' || c == '\u2029' ? '?' : c);
        }

        return sb.ToString();
    }

    /// <summary>Text made safe for an XML doc comment.</summary>
    public static string Xml(string value) => Comment(value).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
