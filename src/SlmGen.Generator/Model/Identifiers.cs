using System;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace SlmGen.Generator.Model;

/// <summary>
/// Validation and escaping of the names that reach generated code, the same for both front-ends (and for the
/// project's RootNamespace), and the hint names of generated files.
/// </summary>
internal static class Identifiers
{
    /// <summary>Contextual keywords that C# refuses (or warns about) as the name of a type.</summary>
    private static readonly string[] ReservedTypeNames =
    {
        "var", "dynamic", "record", "required", "file", "scoped", "extension", "field", "nameof", "managed", "unmanaged", "notnull", "allows", "_",
    };

    /// <summary>
    /// The types generated code refers to. A model with one of these full names, or with the full name of a
    /// namespace that holds them (a class <c>Layers</c> in namespace <c>SlmGen</c>, a class <c>System</c> in
    /// the global namespace), would capture those references.
    /// </summary>
    private static readonly string[] ReferencedTypes =
    {
        "System.CodeDom.Compiler.GeneratedCodeAttribute", "System.Collections.Generic.IReadOnlyList", "System.Func",
        "TorchSharp.torch", "TorchSharp.DisposeScope",
        "TorchSharp.Modules.Embedding", "TorchSharp.Modules.Dropout", "TorchSharp.Modules.LayerNorm", "TorchSharp.Modules.Linear", "TorchSharp.Modules.ModuleList",
        "SlmGen.SlmModel", "SlmGen.ModelCost", "SlmGen.ComponentCost", "SlmGen.ModelDescriptor", "SlmGen.SlmModelCatalogAttribute", "SlmGen.SlmModelCatalog",
        "SlmGen.Act", "SlmGen.NormKind", "SlmGen.InitScheme",
        "SlmGen.Layers.Dense", "SlmGen.Layers.ContextFlatten", "SlmGen.Layers.TransformerBlock", "SlmGen.Layers.SinusoidalPositions", "SlmGen.Layers.RmsNorm",
        "SlmGen.Layers.TiedHead", "SlmGen.Layers.FactorizedHead", "SlmGen.Layers.PositionIds", "SlmGen.Layers.ModuleStack",
        "SlmGen.Generated.SlmGenCatalog", "SlmGen.Generated.SlmGenCostReport",
    };

    private static readonly System.Collections.Generic.HashSet<string> Reserved = new(
        ReferencedTypes.SelectMany(t => Enumerable.Range(1, t.Split('.').Length).Select(n => string.Join(".", t.Split('.').Take(n)))),
        StringComparer.Ordinal);

    /// <summary>True when a model of this full name would capture a name the generated code refers to.</summary>
    public static bool IsReservedFullName(string fullName) => Reserved.Contains(fullName);

    /// <summary>The longest identifier C# takes.</summary>
    public const int MaxLength = 511;

    /// <summary>
    /// A C# identifier as the checks see it: its value with Unicode escapes resolved (<c>M\u00f6del</c> is
    /// <c>Mödel</c>), with '@' where the value is a keyword (<c>@\u0069nt</c> and <c>@int</c> are both <c>@int</c>).
    /// </summary>
    public static string AsWritten(string text, string valueText) => IsKeyword(valueText) ? "@" + valueText : valueText;

    /// <summary>
    /// The name as the C# compiler compares it: formatting characters (Unicode category Cf, such as the soft hyphen
    /// or a zero-width joiner) are ignored in identifiers, so <c>Mo\u00ADdel</c> and <c>Model</c> are one name.
    /// </summary>
    public static string Canonical(string name)
    {
        if (!name.Any(c => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format))
        {
            return name;
        }

        return new string(name.Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.Format).ToArray());
    }

    /// <summary>Why <paramref name="name"/> cannot be a model's class name, or null when it can (an escaped keyword such as <c>@class</c> can).</summary>
    public static string? ClassNameProblem(string name)
    {
        var bare = name.StartsWith("@", StringComparison.Ordinal) ? name.Substring(1) : name;
        if (bare.Length == 0 || !SyntaxFacts.IsValidIdentifier(bare))
        {
            return "it is not a C# identifier";
        }

        if (IsKeyword(bare) && !name.StartsWith("@", StringComparison.Ordinal))
        {
            return "it is a C# keyword (write @" + bare + " to use it anyway)";
        }

        if (ReservedTypeNames.Contains(bare))
        {
            return "C# does not allow it as the name of a type";
        }

        if (bare.Length > MaxLength)
        {
            return $"it is longer than the {MaxLength} characters C# allows";
        }

        return null;
    }

    /// <summary>Why <paramref name="ns"/> cannot be a namespace, or null when it can.</summary>
    public static string? NamespaceProblem(string ns)
    {
        if (ns.Length == 0)
        {
            return "it is empty";
        }

        foreach (var part in ns.Split('.'))
        {
            var bare = part.StartsWith("@", StringComparison.Ordinal) ? part.Substring(1) : part;
            if (bare.Length == 0 || !SyntaxFacts.IsValidIdentifier(bare))
            {
                return $"'{part}' is not a C# identifier";
            }

            if (IsKeyword(bare) && !part.StartsWith("@", StringComparison.Ordinal))
            {
                return $"'{part}' is a C# keyword (write @{bare} to use it anyway)";
            }

            if (bare.Length > MaxLength)
            {
                return $"'{bare.Substring(0, 20)}...' is longer than the {MaxLength} characters C# allows";
            }

            if (bare == "global")
            {
                return "'global' cannot name a namespace";
            }
        }

        return null;
    }

    /// <summary>A name without its '@' escapes (how the symbol is named: <c>@class</c> → <c>class</c>).</summary>
    public static string Unescape(string dotted) => string.Join(".", dotted.Split('.').Select(p => p.StartsWith("@", StringComparison.Ordinal) ? p.Substring(1) : p));

    /// <summary>A name as C# source: every keyword part escaped with '@' (<c>namespace.Models</c> → <c>@namespace.Models</c>).</summary>
    public static string Escape(string dotted) => string.Join(".", dotted.Split('.').Select(p => IsKeyword(p) ? "@" + p : p));

    /// <summary>A fully qualified type reference: <c>global::N.M.Name</c>.</summary>
    public static string Global(string ns, string name) => "global::" + (ns.Length == 0 ? Escape(name) : Escape(ns) + "." + Escape(name));

    public static bool IsKeyword(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None;

    /// <summary>
    /// A hint name for one generated file of a model, unique for every distinct full name also when hint
    /// names are compared case-insensitively, never equal to the catalog's, of bounded length, and made of
    /// characters every file system takes: a readable part (letters, digits, '_' and '.', at most 80) and a
    /// 64-bit hash of the exact full name.
    /// </summary>
    public static string HintName(string fullName, string kind)
    {
        var readable = new StringBuilder();
        foreach (var c in fullName)
        {
            readable.Append((c is >= 'a' and <= 'z') || (c is >= 'A' and <= 'Z') || (c is >= '0' and <= '9') || c == '.' ? c : '_');
            if (readable.Length == 80)
            {
                break;
            }
        }

        return $"{readable}.{Fnv1a.Hex(fullName)}{(kind.Length == 0 ? string.Empty : "." + kind)}.g.cs";
    }

}
